package dev.flowtracker.ingest.decode;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.Defragmenter;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.ingest.source.FrameDescriptor;

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

    /** Whether IPv4 and TCP checksums are verified (see {@link PacketDecoder#verifyChecksums}). */
    public FrameIntake(final boolean verifyChecksums)
    {
        decoder.verifyChecksums(verifyChecksums);
    }

    /**
     * Decodes and counts one frame; its checksums are not verified when they are {@link
     * FrameDescriptor#checksumsPending() pending}. The frame's tunnel id, when it has one, is part of its
     * connection's identity.
     *
     * @return the TCP segment to track now (the frame's own, or a datagram its fragment completed), or null. It
     *     stays valid until the next call.
     */
    public DecodedPacket onFrame(final FrameDescriptor frame)
    {
        final long timestampNanos = frame.timestampNanos();
        final int capturedLength = frame.capturedLength();
        final int wireLength = frame.wireLength();
        final int tunnelId = frame.tunnelId();
        final DecodedPacket p = packet;
        p.timestampNanos = timestampNanos;
        p.wireLength = wireLength;
        p.capturedLength = capturedLength;
        p.interfaceId = frame.interfaceId();
        p.frameNumber = stats.frames() + 1;
        final DecodeEvent event = decoder.decode(frame.segment(), frame.offset(), capturedLength, wireLength,
            frame.linkType(), p, frame.checksumsPending());
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
