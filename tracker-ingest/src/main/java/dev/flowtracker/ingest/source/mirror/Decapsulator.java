package dev.flowtracker.ingest.source.mirror;

import java.lang.foreign.MemorySegment;

/**
 * Finds the inner Ethernet frame and the VNI in one mirror datagram, bounds-checking every length; bad input is a
 * counted outcome, never an exception. Reusable: the result fields hold the last datagram's answer. Owned by one
 * delivery thread.
 */
final class Decapsulator
{
    /** An Ethernet header: destination, source, EtherType. */
    static final int ETHERNET_HEADER_LENGTH = 14;

    private final MirrorProtocol protocol;
    /** Where the inner frame starts in the segment (valid after {@link MirrorCounter#FRAMES}). */
    long frameOffset;
    /** The inner frame's length. */
    int frameLength;
    /** The datagram's VNI. */
    int vni;

    Decapsulator(final MirrorProtocol protocol)
    {
        this.protocol = protocol;
    }

    /**
     * Reads the datagram at {@code offset}, {@code length} bytes long.
     *
     * @return {@link MirrorCounter#FRAMES} when there is a frame to deliver ({@link #frameOffset},
     *     {@link #frameLength} and {@link #vni} then describe it), otherwise the malformed or skipped reason.
     */
    MirrorCounter decode(final MemorySegment segment, final long offset, final int length)
    {
        final int headerLength;
        if (protocol == MirrorProtocol.VXLAN)
        {
            if (length < VxlanHeader.LENGTH)
            {
                return MirrorCounter.TOO_SHORT;
            }
            if (!VxlanHeader.hasVni(segment, offset))
            {
                return MirrorCounter.VXLAN_NO_VNI;
            }
            headerLength = VxlanHeader.LENGTH;
            vni = VxlanHeader.vni(segment, offset);
        }
        else
        {
            if (length < GeneveHeader.BASE_LENGTH)
            {
                return MirrorCounter.TOO_SHORT;
            }
            if (GeneveHeader.version(segment, offset) != 0)
            {
                return MirrorCounter.GENEVE_BAD_VERSION;
            }
            headerLength = GeneveHeader.headerLength(segment, offset);
            if (headerLength > length)
            {
                return MirrorCounter.GENEVE_OPTIONS_TRUNCATED;
            }
            if (GeneveHeader.isControl(segment, offset))
            {
                return MirrorCounter.GENEVE_CONTROL;
            }
            if (GeneveHeader.protocolType(segment, offset) != GeneveHeader.PROTOCOL_ETHERNET)
            {
                return MirrorCounter.GENEVE_NOT_ETHERNET;
            }
            vni = GeneveHeader.vni(segment, offset);
        }
        if (length - headerLength < ETHERNET_HEADER_LENGTH)
        {
            return MirrorCounter.INNER_FRAME_TOO_SHORT;
        }
        frameOffset = offset + headerLength;
        frameLength = length - headerLength;
        return MirrorCounter.FRAMES;
    }
}
