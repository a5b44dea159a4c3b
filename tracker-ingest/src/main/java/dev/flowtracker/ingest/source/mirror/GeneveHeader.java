package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.core.wire.EtherType;

import java.lang.foreign.MemorySegment;

/**
 * Geneve header flyweight (RFC 8926): static accessors over (segment, offset of the header). Options follow the
 * 8 fixed bytes ({@code Opt Len} 4-byte words), then the payload of type {@code Protocol Type}.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Virtual Network Identifier (VNI)       |    Reserved   |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Variable-Length Options                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * Version 0 is the only one defined. O marks a control (OAM) message rather than a tunnelled frame. C says a
 * critical option is present: a tunnel endpoint that forwards must understand it, but a passive monitor reads the
 * frame regardless.
 */
public final class GeneveHeader
{
    /** The fixed part; options follow. */
    public static final int BASE_LENGTH = 8;
    /** Opt Len has 6 bits: at most 63 words of options. */
    public static final int MAX_LENGTH = BASE_LENGTH + 63 * 4;
    public static final int VERSION_OPTIONS_OFFSET = 0;
    public static final int FLAGS_OFFSET = 1;
    public static final int PROTOCOL_TYPE_OFFSET = 2;
    public static final int VNI_OFFSET = 4;
    public static final int CONTROL_FLAG = 0x80;
    public static final int CRITICAL_FLAG = 0x40;
    /** The protocol type of an Ethernet payload (Transparent Ethernet Bridging). */
    public static final int PROTOCOL_ETHERNET = EtherType.TRANSPARENT_ETHERNET;

    private GeneveHeader()
    {
    }

    public static int version(final MemorySegment segment, final long offset)
    {
        return Bytes.u8(segment, offset + VERSION_OPTIONS_OFFSET) >>> 6;
    }

    /** The whole header's length: the fixed 8 bytes plus the options. */
    public static int headerLength(final MemorySegment segment, final long offset)
    {
        return BASE_LENGTH + (Bytes.u8(segment, offset + VERSION_OPTIONS_OFFSET) & 0x3F) * 4;
    }

    public static boolean isControl(final MemorySegment segment, final long offset)
    {
        return (Bytes.u8(segment, offset + FLAGS_OFFSET) & CONTROL_FLAG) != 0;
    }

    public static int protocolType(final MemorySegment segment, final long offset)
    {
        return Bytes.u16(segment, offset + PROTOCOL_TYPE_OFFSET);
    }

    /** The 24-bit virtual network identifier. */
    public static int vni(final MemorySegment segment, final long offset)
    {
        return Bytes.i32(segment, offset + VNI_OFFSET) >>> 8;
    }

    /**
     * Writes a version-0 header for an Ethernet payload with {@code vni} and {@code optionWords} words of options
     * (zero-filled, which no option parser is asked to read: we write no option headers, only the room).
     */
    public static void write(final MemorySegment segment, final long offset, final int vni, final int optionWords)
    {
        VxlanHeader.checkVni(vni);
        if (optionWords < 0 || optionWords > 63)
        {
            throw new IllegalArgumentException("Geneve options are 0-63 words, was " + optionWords);
        }
        segment.set(Bytes.U16_BE, offset + VERSION_OPTIONS_OFFSET, (short)(optionWords << 8));
        segment.set(Bytes.U16_BE, offset + PROTOCOL_TYPE_OFFSET, (short)PROTOCOL_ETHERNET);
        segment.set(Bytes.U32_BE, offset + VNI_OFFSET, vni << 8);
        segment.asSlice(offset + BASE_LENGTH, optionWords * 4L).fill((byte)0);
    }
}
