package dev.flowtracker.core.state;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

/**
 * What the flyweights of a connection's state share: the value layouts they read and write their fields with (native
 * byte order, unaligned access, though every field sits at an offset of its own size's multiple), the memory of a
 * flyweight that is not wrapped around a record ({@link #home}), and a bulk zero.
 *
 * <p>A flyweight is a {@code (MemorySegment, base)} pair over the fields its {@code LAYOUT} (a {@link StructLayout}
 * of named, naturally aligned members and explicit padding) declares once, with a {@code *_OFFSET} constant per
 * field taken from it ({@link #offset}) and a {@code BYTES} size (a multiple of 8). It is wrapped around its own home
 * memory when made and around a flow's record by the store that holds it. Stateless; any thread.
 */
public final class StateMemory
{
    public static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    public static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    public static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    public static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;

    /** An enum field's byte when it holds no value. */
    public static final int NULL_ORDINAL = 0xFF;

    /** The most {@link #zero} clears at once: a flow's whole record fits. */
    public static final int MAX_ZEROED = 4096;
    private static final MemorySegment ZEROS = Arena.global().allocate(MAX_ZEROED, Long.BYTES);

    private StateMemory()
    {
    }

    /**
     * All of memory, for the accessors to read and write at absolute addresses: a constant segment, so that the JIT
     * folds its bounds and liveness checks away (a segment in a field is checked on every access, which cost a
     * fifth of the tracker's time). A flyweight keeps the segment its state is in as well, which keeps it alive.
     */
    @SuppressWarnings("restricted")
    public static final MemorySegment ALL = MemorySegment.NULL.reinterpret(Long.MAX_VALUE);

    /** Zeroed native memory of {@code bytes} (rounded up to 8), for a flyweight of its own; freed with it. */
    public static MemorySegment home(final int bytes)
    {
        return Arena.ofAuto().allocate(align8(bytes), Long.BYTES);
    }

    /** Zeroes {@code bytes} (a multiple of 8, at most {@link #MAX_ZEROED}) from {@code base}; allocates nothing. */
    public static void zero(final MemorySegment segment, final long base, final int bytes)
    {
        // One bulk copy (the JVM's memory copy intrinsic) rather than a store and its checks per word: a new
        // connection's 1.4 KB took a tenth of the worker's time word by word.
        MemorySegment.copy(ZEROS, 0, segment, base, bytes);
    }

    /**
     * The offset of the field {@code name} in a flyweight's {@code layout}: its {@code *_OFFSET} constant, so that
     * each field is declared once, in the layout, with its name, width and place.
     */
    public static int offset(final StructLayout layout, final String name)
    {
        return Math.toIntExact(layout.byteOffset(MemoryLayout.PathElement.groupElement(name)));
    }

    /** Rounds {@code bytes} up to a multiple of 8, for a flyweight's {@code BYTES}. */
    public static int align8(final int bytes)
    {
        return (bytes + 7) & ~7;
    }
}
