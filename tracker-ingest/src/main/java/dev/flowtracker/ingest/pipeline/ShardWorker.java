package dev.flowtracker.ingest.pipeline;

import com.lmax.disruptor.EventHandler;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.ConnectionTracker;
import dev.flowtracker.core.tcp.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;

import java.util.concurrent.CountDownLatch;

/**
 * Tracks the connections of one shard. Sees every ring event: packet time advances its timers on every frame,
 * and it tracks the segments whose shard is its own. Its tracker, and everything in it, belongs to the worker's
 * thread alone; the counters are plain fields: other threads may read them only after the pipeline has finished.
 */
final class ShardWorker implements EventHandler<PacketEvent>
{
    private final int shard;
    private final ConnectionTracker tracker;
    /** Counted down once this worker has emitted its open connections at the end of input. */
    private final CountDownLatch finished;
    private long segments;
    private long lastSequence = -1;

    ShardWorker(
        final int shard, final Lifecycle lifecycle, final ZeekOptions zeekOptions, final FlowLimits limits,
        final ConnectionListener listener, final CountDownLatch finished)
    {
        this.shard = shard;
        this.finished = finished;
        this.tracker = new ConnectionTracker(1 << 12, listener, lifecycle, zeekOptions, limits);
    }

    /** The worker's tracker: read its counters only after the pipeline has finished. */
    ConnectionTracker tracker()
    {
        return tracker;
    }

    @Override
    public void onEvent(final PacketEvent event, final long sequence, final boolean endOfBatch)
    {
        switch (event.kind)
        {
            case PacketEvent.SEGMENT ->
            {
                if (event.shard == shard)
                {
                    tracker.onSegment(event.packet);
                    segments++;
                }
                else
                {
                    tracker.advanceTime(event.packet.timestampNanos);
                }
            }
            case PacketEvent.TIME -> tracker.advanceTime(event.packet.timestampNanos);
            case PacketEvent.FINISH ->
            {
                try
                {
                    tracker.finish(event.endReason);
                }
                finally
                {
                    finished.countDown(); // never leave the source waiting, even after a failure
                }
            }
            default ->
            {
            }
        }
        if (endOfBatch)
        {
            lastSequence = sequence;
        }
    }

    int shard()
    {
        return shard;
    }

    /** Segments this worker tracked (its shard's). */
    long segments()
    {
        return segments;
    }

    /** The last ring sequence this worker finished a batch at: the distance to the producer is its lag. */
    long lastSequence()
    {
        return lastSequence;
    }
}
