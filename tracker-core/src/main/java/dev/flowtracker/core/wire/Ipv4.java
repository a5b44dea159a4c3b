package dev.flowtracker.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * IPv4 header flyweight (RFC 791). Static accessors over (segment, offset of the header).
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version|  IHL  |Type of Service|          Total Length         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Identification        |Flags|      Fragment Offset    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Time to Live |    Protocol   |         Header Checksum       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Source Address                          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Destination Address                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (IHL > 5)                          |
 * </pre>
 */
public final class Ipv4
{
    public static final int MIN_HEADER_LENGTH = 20;
    public static final int VERSION_IHL_OFFSET = 0;
    public static final int TOTAL_LENGTH_OFFSET = 2;
    public static final int FLAGS_FRAGMENT_OFFSET = 6;
    public static final int PROTOCOL_OFFSET = 9;
    public static final int SOURCE_OFFSET = 12;
    public static final int DESTINATION_OFFSET = 16;

    private static final int MORE_FRAGMENTS = 0x2000;
    private static final int FRAGMENT_OFFSET_MASK = 0x1FFF;

    private Ipv4()
    {
    }

    public static int version(final MemorySegment segment, final long offset)
    {
        return Bytes.u8(segment, offset + VERSION_IHL_OFFSET) >>> 4;
    }

    public static int headerLength(final MemorySegment segment, final long offset)
    {
        return (Bytes.u8(segment, offset + VERSION_IHL_OFFSET) & 0x0F) * 4;
    }

    public static int totalLength(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + TOTAL_LENGTH_OFFSET);
    }

    public static boolean moreFragments(final MemorySegment segment, final long offset)
    {
        return (Bytes.u16(segment, offset + FLAGS_FRAGMENT_OFFSET) & MORE_FRAGMENTS) != 0;
    }

    /** Fragment offset in 8-byte units; non-zero means the TCP header is not in this fragment. */
    public static int fragmentOffset(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + FLAGS_FRAGMENT_OFFSET) & FRAGMENT_OFFSET_MASK;
    }

    public static int protocol(final MemorySegment segment, final long offset)
    {
        return Bytes.u8(segment, offset + PROTOCOL_OFFSET);
    }

    /** Source address as an unsigned 32-bit value in a long. */
    public static long source(final MemorySegment segment, final long offset)
    {
        return Bytes.i32(segment, offset + SOURCE_OFFSET) & 0xFFFF_FFFFL;
    }

    public static long destination(final MemorySegment segment, final long offset)
    {
        return Bytes.i32(segment, offset + DESTINATION_OFFSET) & 0xFFFF_FFFFL;
    }
}
