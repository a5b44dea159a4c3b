package dev.flowtracker.core.wire;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Unaligned fixed-order reads over a {@link MemorySegment}. Network headers are big-endian; capture-file
 * headers are in the writer's order, so both are offered. Callers bounds-check before reading: these
 * methods only add the segment's own check.
 */
public final class Bytes
{
    public static final ValueLayout.OfShort U16_BE = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfShort U16_LE =
        ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfInt U32_BE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    public static final ValueLayout.OfInt U32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    public static final ValueLayout.OfLong U64_BE = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private Bytes()
    {
    }

    public static int u8(final MemorySegment segment, final long offset)
    {
        return segment.get(ValueLayout.JAVA_BYTE, offset) & 0xFF;
    }

    public static int u16(final MemorySegment segment, final long offset)
    {
        return segment.get(U16_BE, offset) & 0xFFFF;
    }

    public static int u16(final MemorySegment segment, final long offset, final boolean bigEndian)
    {
        return segment.get(bigEndian ? U16_BE : U16_LE, offset) & 0xFFFF;
    }

    /** Big-endian 32-bit value as a Java int (callers treat it as unsigned where it matters). */
    public static int i32(final MemorySegment segment, final long offset)
    {
        return segment.get(U32_BE, offset);
    }

    public static int i32(final MemorySegment segment, final long offset, final boolean bigEndian)
    {
        return segment.get(bigEndian ? U32_BE : U32_LE, offset);
    }

    public static long u32(final MemorySegment segment, final long offset, final boolean bigEndian)
    {
        return segment.get(bigEndian ? U32_BE : U32_LE, offset) & 0xFFFF_FFFFL;
    }

    public static long i64(final MemorySegment segment, final long offset)
    {
        return segment.get(U64_BE, offset);
    }
}
