package dev.flowtracker.core.state;

/**
 * Field helpers for the state classes' wide-form {@code encode}/{@code decode} methods (the checkpoint body that
 * {@code dev.flowtracker.core.flow.FlowStateCodec} frames): booleans as one byte (0 or 1), enums and small bounded
 * counts as one unsigned byte (ordinal {@value #NULL_ORDINAL} for null), arrays whole. Used by
 * {@code dev.flowtracker.core.tcp} and {@code dev.flowtracker.core.tcp.zeek}.
 *
 * <p>Stateless; any thread.
 */
public final class StateFields
{
    /** Stands for a null enum in an ordinal byte. */
    public static final int NULL_ORDINAL = 0xFF;

    private StateFields()
    {
    }

    // Field helpers for the state classes' encode/decode methods. Field names are constants, so a decode that
    // succeeds builds no strings.

    public static void putBoolean(final StateBuffer dst, final boolean value)
    {
        dst.put(value ? (byte)1 : (byte)0);
    }

    public static boolean getBoolean(final StateBuffer src, final String field)
    {
        final int value = src.get();
        if (value != 0 && value != 1)
        {
            throw outOfRange(field, value, 0, 1);
        }
        return value == 1;
    }

    /** A small count or state written as one unsigned byte. */
    public static void putSmall(final StateBuffer dst, final int value)
    {
        dst.put((byte)value);
    }

    /** Reads what {@link #putSmall} wrote, rejecting values above {@code max}. */
    public static int getSmall(final StateBuffer src, final int max, final String field)
    {
        final int value = src.get() & 0xFF;
        if (value > max)
        {
            throw outOfRange(field, value, 0, max);
        }
        return value;
    }

    public static void putOrdinal(final StateBuffer dst, final Enum<?> value)
    {
        putSmall(dst, value == null ? NULL_ORDINAL : value.ordinal());
    }

    /** An ordinal below {@code count}, or -1 for {@link #NULL_ORDINAL}. */
    public static int getNullableOrdinal(final StateBuffer src, final int count, final String field)
    {
        final int value = src.get() & 0xFF;
        if (value == NULL_ORDINAL)
        {
            return -1;
        }
        if (value >= count)
        {
            throw outOfRange(field, value, 0, count - 1);
        }
        return value;
    }

    public static void putInts(final StateBuffer dst, final int[] values)
    {
        for (final int value : values)
        {
            dst.putInt(value);
        }
    }

    public static void getInts(final StateBuffer src, final int[] values)
    {
        for (int i = 0; i < values.length; i++)
        {
            values[i] = src.getInt();
        }
    }

    public static void putLongs(final StateBuffer dst, final long[] values)
    {
        for (final long value : values)
        {
            dst.putLong(value);
        }
    }

    public static void getLongs(final StateBuffer src, final long[] values)
    {
        for (int i = 0; i < values.length; i++)
        {
            values[i] = src.getLong();
        }
    }

    private static IllegalArgumentException outOfRange(
        final String field, final int value, final int min, final int max)
    {
        return new IllegalArgumentException(
            "corrupt connection state: " + field + " is " + value + ", expected " + min + ".." + max);
    }
}
