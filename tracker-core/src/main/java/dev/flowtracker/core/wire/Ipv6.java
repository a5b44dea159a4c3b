package dev.flowtracker.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * IPv6 fixed header flyweight (RFC 8200). Extension headers are walked by the decoder.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Version| Traffic Class |           Flow Label                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Payload Length        |  Next Header  |   Hop Limit   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Source Address (128 bits)                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |               Destination Address (128 bits)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class Ipv6
{
    public static final int HEADER_LENGTH = 40;
    public static final int PAYLOAD_LENGTH_OFFSET = 4;
    public static final int NEXT_HEADER_OFFSET = 6;
    public static final int SOURCE_OFFSET = 8;
    public static final int DESTINATION_OFFSET = 24;

    public static final int EXT_HOP_BY_HOP = 0;
    public static final int EXT_ROUTING = 43;
    public static final int EXT_FRAGMENT = 44;
    public static final int EXT_AUTHENTICATION = 51;
    public static final int EXT_DESTINATION_OPTIONS = 60;
    public static final int EXT_MOBILITY = 135;
    public static final int NO_NEXT_HEADER = 59;
    /** Hop-by-hop option carrying a jumbogram's payload length (RFC 2675); payload length field is then 0. */
    public static final int OPTION_JUMBO_PAYLOAD = 0xC2;

    private Ipv6()
    {
    }

    public static int payloadLength(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + PAYLOAD_LENGTH_OFFSET);
    }

    public static int nextHeader(final MemorySegment segment, final long offset)
    {
        return Bytes.u8(segment, offset + NEXT_HEADER_OFFSET);
    }

    public static long sourceHigh(final MemorySegment segment, final long offset)
    {
        return Bytes.i64(segment, offset + SOURCE_OFFSET);
    }

    public static long sourceLow(final MemorySegment segment, final long offset)
    {
        return Bytes.i64(segment, offset + SOURCE_OFFSET + 8);
    }

    public static long destinationHigh(final MemorySegment segment, final long offset)
    {
        return Bytes.i64(segment, offset + DESTINATION_OFFSET);
    }

    public static long destinationLow(final MemorySegment segment, final long offset)
    {
        return Bytes.i64(segment, offset + DESTINATION_OFFSET + 8);
    }
}
