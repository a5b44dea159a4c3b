package dev.flowtracker.bench.capture;

/**
 * The Internet checksum (RFC 1071) over byte arrays, and its incremental update (RFC 1624), written here rather
 * than borrowed from the tracker so that the tracker's verification of generated captures checks something.
 * Sums stay unfolded in a {@code long} until {@link #fold}.
 */
final class InternetChecksum
{
    private InternetChecksum()
    {
    }

    /** Adds {@code length} bytes from {@code offset} as big-endian 16-bit words (an odd last byte padded). */
    static long add(final byte[] bytes, final int offset, final int length, final long sum)
    {
        long acc = sum;
        final int end = offset + length;
        int i = offset;
        for (; i + 1 < end; i += 2)
        {
            acc += ((bytes[i] & 0xFF) << 8) | (bytes[i + 1] & 0xFF);
        }
        if (i < end)
        {
            acc += (bytes[i] & 0xFF) << 8;
        }
        return acc;
    }

    static int fold(final long sum)
    {
        long folded = sum;
        while ((folded >>> 16) != 0)
        {
            folded = (folded & 0xFFFF) + (folded >>> 16);
        }
        return (int)folded;
    }

    /** The checksum field's value for data (checksum field zeroed) summing to {@code sum}. */
    static int checksum(final long sum)
    {
        return ~fold(sum) & 0xFFFF;
    }

    /**
     * RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), for several words at once: {@code removed} is the sum of the old
     * words, {@code added} of the new ones, each counted as many words as {@code words}. A checksum that was right
     * stays right; one that was wrong stays wrong by the same amount.
     */
    static int update(final int checksum, final long removed, final int words, final long added)
    {
        final long complementOfRemoved = 0xFFFFL * words - removed; // sum of ~m over the words, unfolded
        return ~fold((~checksum & 0xFFFF) + complementOfRemoved + added) & 0xFFFF;
    }

    static int u16(final byte[] bytes, final int offset)
    {
        return ((bytes[offset] & 0xFF) << 8) | (bytes[offset + 1] & 0xFF);
    }

    static void putU16(final byte[] bytes, final int offset, final int value)
    {
        bytes[offset] = (byte)(value >>> 8);
        bytes[offset + 1] = (byte)value;
    }

    static int i32(final byte[] bytes, final int offset)
    {
        return (u16(bytes, offset) << 16) | u16(bytes, offset + 2);
    }

    static void putI32(final byte[] bytes, final int offset, final int value)
    {
        putU16(bytes, offset, value >>> 16);
        putU16(bytes, offset + 2, value);
    }

    static long i64(final byte[] bytes, final int offset)
    {
        return ((long)i32(bytes, offset) << 32) | (i32(bytes, offset + 4) & 0xFFFF_FFFFL);
    }

    static void putI64(final byte[] bytes, final int offset, final long value)
    {
        putI32(bytes, offset, (int)(value >>> 32));
        putI32(bytes, offset + 4, (int)value);
    }
}
