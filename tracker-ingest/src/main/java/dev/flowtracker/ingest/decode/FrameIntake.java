package dev.flowtracker.ingest.decode;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.Defragmenter;
import dev.flowtracker.core.decode.PacketDecoder;

import java.lang.foreign.MemorySegment;

/**
 * The first step for every captured frame, shared by the offline analysis and the pipeline's source: decode it,
 * count it and its decode outcome, and hold fragments until their datagram completes. Owned by one thread.
 */
public final class FrameIntake
{
    /** Datagrams waiting for fragments at once; beyond this the oldest is dropped (and counted). */
    private static final int FRAGMENTED_DATAGRAMS = 1024;

    private final PacketDecoder decoder = new PacketDecoder();
    private final Defragmenter defragmenter = new Defragmenter(FRAGMENTED_DATAGRAMS);
    private final DecodedPacket packet = new DecodedPacket();
    private final CaptureStats stats = new CaptureStats();
    private final boolean verifyChecksums;

    /** Whether IPv4 and TCP checksums are verified (see {@link PacketDecoder#verifyChecksums}). */
    public FrameIntake(final boolean verifyChecksums)
    {
        this.verifyChecksums = verifyChecksums;
        decoder.verifyChecksums(verifyChecksums);
    }

    /**
     * Decodes and counts one frame.
     *
     * @return the TCP segment to track now (the frame's own, or a datagram its fragment completed), or null. It
     *     stays valid until the next call.
     */
    public DecodedPacket onFrame(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId)
    {
        return onFrame(segment, offset, capturedLength, wireLength, linkType, timestampNanos, interfaceId, -1);
    }

    /**
     * As {@link #onFrame(MemorySegment, long, int, int, int, long, int)}, for a frame that arrived in mirror session
     * {@code tunnelId} (-1 for none): the session is part of its connection's identity.
     */
    public DecodedPacket onFrame(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId, final int tunnelId)
    {
        return onFrame(segment, offset, capturedLength, wireLength, linkType, timestampNanos, interfaceId, tunnelId,
            false);
    }

    /**
     * As {@link #onFrame(MemorySegment, long, int, int, int, long, int, int)}; {@code checksumsPending} says the
     * frame's checksums were left to the NIC of the host that sent it (see
     * {@link dev.flowtracker.ingest.source.FrameSink#onFrameWithChecksumsPending}), so they are not verified.
     */
    public DecodedPacket onFrame(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId, final int tunnelId,
        final boolean checksumsPending)
    {
        final boolean skipChecksums = checksumsPending && verifyChecksums;
        if (skipChecksums)
        {
            decoder.verifyChecksums(false);
        }
        final DecodedPacket p = packet;
        p.timestampNanos = timestampNanos;
        p.wireLength = wireLength;
        p.capturedLength = capturedLength;
        p.interfaceId = interfaceId;
        p.frameNumber = stats.frames() + 1;
        final DecodeEvent event = decoder.decode(segment, offset, capturedLength, wireLength, linkType, p);
        if (skipChecksums)
        {
            decoder.verifyChecksums(true);
        }
        stats.onFrame(wireLength, capturedLength, event, p.warning);
        p.tunnelId = tunnelId;
        if (p.fragmentLength >= 0)
        {
            // tshark gives a fragmented segment to the frame that completes its datagram.
            final DecodedPacket completed = defragmenter.offer(p, event == DecodeEvent.TCP_SEGMENT);
            if (completed != null)
            {
                completed.tunnelId = tunnelId;
            }
            return completed;
        }
        return event == DecodeEvent.TCP_SEGMENT ? p : null;
    }

    public CaptureStats stats()
    {
        return stats;
    }

    /** Fragment reassembly counters: datagrams completed, still pending, dropped for lack of room. */
    public Defragmenter defragmenter()
    {
        return defragmenter;
    }
}
