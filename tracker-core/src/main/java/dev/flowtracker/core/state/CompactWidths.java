package dev.flowtracker.core.state;

/**
 * The widths of {@code dev.flowtracker.core.tcp.CompactRecord}'s fields over a {@link StateBuffer}: each writer
 * notes in {@link #fits} a value its width cannot hold exactly (and writes something in its place, which the record
 * then never decodes), each reader returns what its writer wrote. Instants are signed 48-bit nanosecond offsets from a
 * base, durations signed 48-bit nanoseconds, with codes of their own for {@link Long#MAX_VALUE} and, for instants, 0;
 * see {@code CompactRecord}. Public, with protected members, for its two subclasses: {@code CompactRecord} and
 * {@code dev.flowtracker.core.tcp.zeek.ZeekCompact}.
 *
 * <p>Owned by the thread of the store that holds the record.
 */
public abstract class CompactWidths
{
    /** Codes of an instant or duration that are not offsets: the two lowest 48-bit values. */
    protected static final long NO_TIME = -(1L << 47);
    protected static final long ZERO_TIME = NO_TIME + 1;
    private static final long MAX_TIME = (1L << 47) - 1;

    protected StateBuffer buf;
    /** Whether every value written since it was last set fitted its width. */
    protected boolean fits;


    protected static final int[] POWERS_OF_TEN = {
        1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000, 1_000_000_000};

    protected final int powerOfTen(final int value)
    {
        for (int exponent = 0; exponent < POWERS_OF_TEN.length; exponent++)
        {
            if (POWERS_OF_TEN[exponent] == value)
            {
                return exponent;
            }
        }
        fits = false;
        return 0;
    }

    protected static int bit(final boolean value, final int position)
    {
        return value ? 1 << position : 0;
    }

    protected final void nibbles(final int high, final int low)
    {
        if ((high & ~0xF) != 0 || (low & ~0xF) != 0)
        {
            fits = false;
        }
        buf.put((byte)(high << 4 | low & 0xF));
    }

    protected final void u8(final int value)
    {
        if ((value & ~0xFF) != 0)
        {
            fits = false;
        }
        buf.put((byte)value);
    }

    protected final void i8(final int value)
    {
        if (value != (byte)value)
        {
            fits = false;
        }
        buf.put((byte)value);
    }

    protected final void u16(final long value)
    {
        if ((value & ~0xFFFFL) != 0)
        {
            fits = false;
        }
        buf.putShort((short)value);
    }

    protected final void i16(final int value)
    {
        if (value != (short)value)
        {
            fits = false;
        }
        buf.putShort((short)value);
    }

    protected final void u32(final long value)
    {
        if ((value & ~0xFFFF_FFFFL) != 0)
        {
            fits = false;
        }
        buf.putInt((int)value);
    }

    protected final void i32(final long value)
    {
        if (value != (int)value)
        {
            fits = false;
        }
        buf.putInt((int)value);
    }

    protected final void u48(final long value)
    {
        if ((value & ~0xFFFF_FFFF_FFFFL) != 0)
        {
            fits = false;
        }
        buf.putInt((int)value);
        buf.putShort((short)(value >>> 32));
    }

    /** An instant as a 48-bit offset from {@code base}; see the class comment. */
    protected final void instant(final long nanos, final long base)
    {
        if (nanos == Long.MAX_VALUE)
        {
            time48(NO_TIME);
        }
        else if (nanos == 0)
        {
            time48(ZERO_TIME);
        }
        else
        {
            final long offset = nanos - base;
            if (((nanos ^ base) & (nanos ^ offset)) < 0)
            {
                fits = false; // the difference overflows
            }
            checkedTime48(offset);
        }
    }

    protected final void duration(final long nanos)
    {
        if (nanos == Long.MAX_VALUE)
        {
            time48(NO_TIME);
        }
        else
        {
            checkedTime48(nanos);
        }
    }

    private void checkedTime48(final long nanos)
    {
        if (nanos <= ZERO_TIME || nanos > MAX_TIME)
        {
            fits = false;
        }
        time48(nanos);
    }

    private void time48(final long value)
    {
        buf.putInt((int)value);
        buf.putShort((short)(value >>> 32));
    }

    private long time48()
    {
        final long low = buf.getInt() & 0xFFFF_FFFFL;
        return low | (long)buf.getShort() << 32;
    }

    protected final int u8()
    {
        return buf.get() & 0xFF;
    }

    protected final int u16()
    {
        return buf.getShort() & 0xFFFF;
    }

    protected final long u32()
    {
        return buf.getInt() & 0xFFFF_FFFFL;
    }

    protected final long u48()
    {
        final long low = buf.getInt() & 0xFFFF_FFFFL;
        return low | (long)(buf.getShort() & 0xFFFF) << 32;
    }

    protected final long instant(final long base)
    {
        final long code = time48();
        if (code == NO_TIME)
        {
            return Long.MAX_VALUE;
        }
        return code == ZERO_TIME ? 0 : base + code;
    }

    protected final long duration()
    {
        final long code = time48();
        return code == NO_TIME ? Long.MAX_VALUE : code;
    }
}
