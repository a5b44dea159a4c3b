package dev.flowtracker.core.wire;

import java.lang.foreign.MemorySegment;

/**
 * TCP header flyweight (RFC 9293). Options are parsed by the decoder.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Source Port          |       Destination Port        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Acknowledgment Number                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Data |     |N|C|E|U|A|P|R|S|F|                               |
 * | Offset| Rsv |S|W|C|R|C|S|S|Y|I|            Window             |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |           Checksum            |         Urgent Pointer        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Options (Data Offset > 5)                  |
 * </pre>
 */
public final class Tcp
{
    public static final int MIN_HEADER_LENGTH = 20;
    public static final int SOURCE_PORT_OFFSET = 0;
    public static final int DESTINATION_PORT_OFFSET = 2;
    public static final int SEQUENCE_OFFSET = 4;
    public static final int ACKNOWLEDGMENT_OFFSET = 8;
    public static final int DATA_OFFSET_FLAGS_OFFSET = 12;
    public static final int WINDOW_OFFSET = 14;

    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;
    public static final int URG = 0x20;
    public static final int ECE = 0x40;
    public static final int CWR = 0x80;
    public static final int NS = 0x100;

    public static final int OPTION_END = 0;
    public static final int OPTION_NOP = 1;
    public static final int OPTION_MSS = 2;
    public static final int OPTION_WINDOW_SCALE = 3;
    public static final int OPTION_SACK_PERMITTED = 4;
    public static final int OPTION_SACK = 5;
    public static final int OPTION_TIMESTAMPS = 8;
    public static final int OPTION_FAST_OPEN = 34;
    public static final int OPTION_EXPERIMENTAL = 254;
    /** RFC 7413 experimental option id used by Fast Open before kind 34 was assigned. */
    public static final int EXPERIMENTAL_FAST_OPEN_MAGIC = 0xF989;

    private Tcp()
    {
    }

    public static int sourcePort(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + SOURCE_PORT_OFFSET);
    }

    public static int destinationPort(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + DESTINATION_PORT_OFFSET);
    }

    public static int sequence(final MemorySegment segment, final long offset)
    {
        return Bytes.i32(segment, offset + SEQUENCE_OFFSET);
    }

    public static int acknowledgment(final MemorySegment segment, final long offset)
    {
        return Bytes.i32(segment, offset + ACKNOWLEDGMENT_OFFSET);
    }

    public static int headerLength(final MemorySegment segment, final long offset)
    {
        return (Bytes.u8(segment, offset + DATA_OFFSET_FLAGS_OFFSET) >>> 4) * 4;
    }

    /** The nine flag bits, NS in bit 8. */
    public static int flags(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + DATA_OFFSET_FLAGS_OFFSET) & 0x1FF;
    }

    public static int window(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + WINDOW_OFFSET);
    }
}
