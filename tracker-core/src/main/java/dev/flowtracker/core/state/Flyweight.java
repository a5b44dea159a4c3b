package dev.flowtracker.core.state;

import java.lang.foreign.MemorySegment;

/**
 * A view of a piece of a connection's state in memory: {@code (segment, base)}, wrapped around memory of its own when
 * made and around a flow's record by the store that holds it. Subclasses declare their fields in a {@code LAYOUT}
 * with a {@code *_OFFSET} each, and read and write them with the typed accessors here, which go through
 * {@link StateMemory#ALL} at the absolute address so that the JIT folds the segment's checks away.
 *
 * <p>Owned by the thread that owns the connection; not thread-safe.
 */
public abstract class Flyweight
{
    /** The memory the state is in: kept so that memory of a flyweight's own stays alive with it. */
    private MemorySegment segment;
    private long base;
    /** {@code base} in {@link StateMemory#ALL}: where the accessors read and write. */
    private long address;

    /**
     * Reads and writes the state at {@code base} of {@code segment} from now on.
     *
     * @throws IllegalArgumentException if {@code segment} is not native memory or too small: the accessors go by
     *     absolute address, so memory that is not where they would write must never be wrapped.
     */
    protected final void wrapMemory(final MemorySegment segment, final long base, final int bytes)
    {
        if (!segment.isNative() || base < 0 || base + bytes > segment.byteSize())
        {
            throw new IllegalArgumentException("a flyweight of " + bytes + " bytes cannot wrap " + segment +
                " at " + base);
        }
        this.segment = segment;
        this.base = base;
        this.address = segment.address() + base;
    }

    /** The memory this flyweight reads and writes. */
    protected final MemorySegment segment()
    {
        return segment;
    }

    /** Where in {@link #segment()} the state starts. */
    protected final long base()
    {
        return base;
    }

    /** Zeroes {@code bytes} (a multiple of 8) of the state from its start. */
    protected final void zeroMemory(final int bytes)
    {
        StateMemory.zero(StateMemory.ALL, address, bytes);
    }

    /** Copies {@code bytes} of {@code other}'s state over this one's. */
    protected final void copyMemory(final Flyweight other, final int bytes)
    {
        MemorySegment.copy(StateMemory.ALL, other.address, StateMemory.ALL, address, bytes);
    }

    protected final long getLong(final long offset)
    {
        return StateMemory.ALL.get(StateMemory.LONG, address + offset);
    }

    protected final void putLong(final long offset, final long value)
    {
        StateMemory.ALL.set(StateMemory.LONG, address + offset, value);
    }

    protected final int getInt(final long offset)
    {
        return StateMemory.ALL.get(StateMemory.INT, address + offset);
    }

    protected final void putInt(final long offset, final int value)
    {
        StateMemory.ALL.set(StateMemory.INT, address + offset, value);
    }

    protected final byte getByte(final long offset)
    {
        return StateMemory.ALL.get(StateMemory.BYTE, address + offset);
    }

    protected final void putByte(final long offset, final byte value)
    {
        StateMemory.ALL.set(StateMemory.BYTE, address + offset, value);
    }

    /** A flag stored as one byte, 0 or 1. */
    protected final boolean getBoolean(final long offset)
    {
        return getByte(offset) != 0;
    }

    protected final void putBoolean(final long offset, final boolean value)
    {
        putByte(offset, value ? (byte)1 : (byte)0);
    }

    /** Rejects a flag byte that is neither 0 nor 1 (state read from elsewhere: a checkpoint). */
    protected final void checkFlag(final long offset, final String field)
    {
        checkAtMost(offset, 1, field);
    }

    /** Rejects a byte (unsigned) above {@code max}. */
    protected final void checkAtMost(final long offset, final int max, final String field)
    {
        final int value = getByte(offset) & 0xFF;
        if (value > max)
        {
            throw outOfRange(field, value, max);
        }
    }

    /** Rejects an ordinal byte that is neither below {@code count} nor the "none" code 0xFF. */
    protected final void checkNullableOrdinal(final long offset, final int count, final String field)
    {
        final int value = getByte(offset) & 0xFF;
        if (value >= count && value != StateMemory.NULL_ORDINAL)
        {
            throw outOfRange(field, value, count - 1);
        }
    }

    private static IllegalArgumentException outOfRange(final String field, final int value, final int max)
    {
        return new IllegalArgumentException(
            "corrupt connection state: " + field + " is " + value + ", expected 0.." + max);
    }

}
