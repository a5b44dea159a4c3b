package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.core.wire.Bytes;

import java.lang.foreign.MemorySegment;

/**
 * VXLAN header flyweight (RFC 7348): static accessors over (segment, offset of the header). The inner Ethernet
 * frame follows the 8 bytes.
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * The I flag must be set (the VNI is valid); the R bits are reserved and ignored on receipt, as the RFC says.
 */
public final class VxlanHeader
{
    public static final int LENGTH = 8;
    public static final int FLAGS_OFFSET = 0;
    public static final int VNI_OFFSET = 4;
    /** The I flag in the flags byte. */
    public static final int I_FLAG = 0x08;

    private VxlanHeader()
    {
    }

    /** Whether the I flag is set, i.e. the VNI is valid. */
    public static boolean hasVni(final MemorySegment segment, final long offset)
    {
        return (Bytes.u8(segment, offset + FLAGS_OFFSET) & I_FLAG) != 0;
    }

    /** The 24-bit VXLAN network identifier. */
    public static int vni(final MemorySegment segment, final long offset)
    {
        return Bytes.i32(segment, offset + VNI_OFFSET) >>> 8;
    }

    /** Writes a header with the I flag and {@code vni} (reserved fields zero). */
    public static void write(final MemorySegment segment, final long offset, final int vni)
    {
        checkVni(vni);
        segment.set(Bytes.U32_BE, offset + FLAGS_OFFSET, I_FLAG << 24);
        segment.set(Bytes.U32_BE, offset + VNI_OFFSET, vni << 8);
    }

    static void checkVni(final int vni)
    {
        if (vni < 0 || vni > MirrorOptions.MAX_VNI)
        {
            throw new IllegalArgumentException("a VNI has 24 bits (0-" + MirrorOptions.MAX_VNI + "), was " + vni);
        }
    }
}
