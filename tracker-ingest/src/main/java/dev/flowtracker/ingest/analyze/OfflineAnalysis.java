package dev.flowtracker.ingest.analyze;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.Defragmenter;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.decode.CaptureStats;
import dev.flowtracker.ingest.decode.FrameIntake;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;

/**
 * Decodes every frame it is given, tracks connections and hands each finished connection to a listener: a {@link
 * FrameSink} for the one capture-file reading loop ({@link dev.flowtracker.ingest.source.file.CaptureReplay}) or any
 * source's frames, tunnel ids included, as the reference the pipeline's records are compared with. Single-threaded:
 * everything runs on the caller's thread. (The streaming pipeline spreads the same steps over a ring and workers.)
 */
public final class OfflineAnalysis implements FrameSink
{
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

    @Override
    public void onFrame(final FrameDescriptor frame)
    {
        tracker.advanceTime(frame.timestampNanos());
        final DecodedPacket segmentToTrack = intake.onFrame(frame);
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
