package dev.flowtracker.ingest.source;

import java.lang.foreign.MemorySegment;

/**
 * Where a {@link PacketSource}'s delivery thread hands each frame, in place. One sink per delivery thread: a sink
 * keeps per-thread decode state (fragments, counters) and is never shared. The frame's bytes are valid only during
 * the call; a sink copies what it keeps.
 */
@FunctionalInterface
public interface FrameSink
{
    /** {@link #onFrame(MemorySegment, long, int, int, int, long, int, int)} for a frame of no mirror session. */
    int NO_TUNNEL = -1;

    /**
     * @param segment        memory holding the frame.
     * @param offset         where the frame starts in {@code segment}.
     * @param capturedLength bytes captured.
     * @param wireLength     bytes the frame had on the wire.
     * @param linkType       the frame's LINKTYPE_.
     * @param timestampNanos capture time, nanoseconds since the epoch.
     * @param interfaceId    which of the source's interfaces saw it (pcapng interface id, fanout socket, ...).
     * @param tunnelId       the mirror session the frame arrived in (a VXLAN/Geneve VNI), or {@link #NO_TUNNEL}; part
     *                       of connection identity, so equal 4-tuples in different sessions stay apart.
     */
    void onFrame(MemorySegment segment, long offset, int capturedLength, int wireLength, int linkType,
        long timestampNanos, int interfaceId, int tunnelId);

    /**
     * A frame whose checksums cannot be verified because they are not there yet: the capturing host sent it and
     * left them to the network card (checksum offload; AF_PACKET's {@code TP_STATUS_CSUMNOTREADY}). Verifying
     * them would call every segment this host sends bad. By default the frame is handled like any other.
     */
    default void onFrameWithChecksumsPending(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId, final int tunnelId)
    {
        onFrame(segment, offset, capturedLength, wireLength, linkType, timestampNanos, interfaceId, tunnelId);
    }
}
