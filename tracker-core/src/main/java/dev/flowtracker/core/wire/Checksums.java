package dev.flowtracker.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * The Internet checksum (RFC 1071) over bytes of a {@link MemorySegment}, eight bytes at a time. Sums are kept
 * unfolded in a {@code long} so callers can add pseudo-header words before folding once.
 */
public final class Checksums
{
    private Checksums()
    {
    }

    /**
     * Adds the bytes {@code [offset, offset + length)}, read as big-endian 16-bit words (an odd last byte is
     * padded with zero), to {@code sum}. The caller has bounds-checked the range.
     */
    public static long add(final MemorySegment segment, final long offset, final long length, final long sum)
    {
        long acc = sum;
        long position = offset;
        final long end = offset + length;
        // Each 64-bit word is added as two 32-bit halves: the long accumulator cannot overflow for any frame.
        for (; position + 8 <= end; position += 8)
        {
            final long word = Bytes.i64(segment, position);
            acc += (word >>> 32) + (word & 0xFFFF_FFFFL);
        }
        for (; position + 2 <= end; position += 2)
        {
            acc += Bytes.u16(segment, position);
        }
        if (position < end)
        {
            acc += Bytes.u8(segment, position) << 8;
        }
        return acc;
    }

    /** Adds the 16-bit words of a 32-bit value. */
    public static long addInt(final long value, final long sum)
    {
        return sum + ((value >>> 16) & 0xFFFF) + (value & 0xFFFF);
    }

    /** Adds the 16-bit words of a 64-bit value. */
    public static long addLong(final long value, final long sum)
    {
        return sum + (value >>> 48) + ((value >>> 32) & 0xFFFF) + ((value >>> 16) & 0xFFFF) + (value & 0xFFFF);
    }

    /** Folds the carries into 16 bits: {@code 0xFFFF} means the summed data, checksum field included, is valid. */
    public static int fold(final long sum)
    {
        long folded = sum;
        while ((folded >>> 16) != 0)
        {
            folded = (folded & 0xFFFF) + (folded >>> 16);
        }
        return (int)folded;
    }
}
