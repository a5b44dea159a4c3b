package dev.flowtracker.ingest.analyze;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.Defragmenter;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.ConnectionTracker;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.source.file.CaptureReader;
import dev.flowtracker.ingest.source.file.PacketHandler;
import dev.flowtracker.ingest.decode.CaptureStats;
import dev.flowtracker.ingest.decode.FrameIntake;
import dev.flowtracker.ingest.source.FrameSink;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Reads capture files in order as one stream, decodes every frame, tracks connections and hands each finished
 * connection to a listener. Single-threaded: everything runs on the caller's thread. (The streaming pipeline
 * spreads the same steps over a ring and workers.) As a {@link FrameSink} it analyses a source's frames, tunnel
 * ids included, as the reference the pipeline's records are compared with.
 */
public final class OfflineAnalysis implements PacketHandler, FrameSink
{
    /** Frames read per {@link CaptureReader#read} call: bounds the time between progress checks. */
    private static final int BATCH = 4096;

    private final FrameIntake intake;
    private final ConnectionTracker tracker;

    /** Zeek's lifecycle and defaults (checksums verified). */
    public OfflineAnalysis(final ConnectionListener listener)
    {
        this(listener, Lifecycle.ZEEK, ZeekOptions.DEFAULTS);
    }

    public OfflineAnalysis(final ConnectionListener listener, final Lifecycle lifecycle, final ZeekOptions zeekOptions)
    {
        this.tracker = new ConnectionTracker(1 << 12, connection -> emit(listener, connection), lifecycle, zeekOptions);
        // Checksums only matter to Zeek's view (bad ones are skipped and become C letters); tshark ignores them.
        this.intake = new FrameIntake(!zeekOptions.ignoreChecksums());
    }

    private void emit(final ConnectionListener listener, final TcpConnection connection)
    {
        intake.stats().countConnection();
        listener.onConnectionEnd(connection);
    }

    /**
     * Reads one file to its end.
     *
     * @param progress called between batches with the reader, to report progress; may be null.
     * @throws IOException when the file is corrupt or cut short; frames before the fault have been processed.
     */
    public void read(final CaptureReader reader, final Runnable progress) throws IOException
    {
        while (reader.read(this, BATCH) > 0)
        {
            if (progress != null)
            {
                progress.run();
            }
        }
    }

    @Override
    public void onFrame(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId)
    {
        onFrame(segment, offset, capturedLength, wireLength, linkType, timestampNanos, interfaceId,
            FrameSink.NO_TUNNEL);
    }

    /** A frame of mirror session {@code tunnelId} ({@link FrameSink#NO_TUNNEL} for none). */
    @Override
    public void onFrame(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId, final int tunnelId)
    {
        tracker.advanceTime(timestampNanos);
        final DecodedPacket segmentToTrack = intake.onFrame(segment, offset, capturedLength, wireLength, linkType,
            timestampNanos, interfaceId, tunnelId);
        if (segmentToTrack != null)
        {
            tracker.onSegment(segmentToTrack);
        }
    }

    /** Emits every connection still open (end of input or shutdown). */
    public void finish(final EndReason reason)
    {
        tracker.finish(reason);
    }

    public ConnectionTracker tracker()
    {
        return tracker;
    }

    public CaptureStats stats()
    {
        return intake.stats();
    }

    /** Fragment reassembly counters: datagrams completed, still pending, dropped for lack of room. */
    public Defragmenter defragmenter()
    {
        return intake.defragmenter();
    }
}
