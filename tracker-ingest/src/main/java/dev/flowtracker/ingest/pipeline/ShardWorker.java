package dev.flowtracker.ingest.pipeline;

import com.lmax.disruptor.EventHandler;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.output.RecordFields;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Tracks the connections of one shard. Sees every ring event: packet time advances its timers on every frame,
 * and it tracks the segments whose shard is its own. Its tracker, and everything in it, belongs to the worker's
 * thread alone; the counters are plain fields: other threads may read them only after the pipeline has finished.
 * It keeps the records it ended last ({@link EndedFlows}) and answers flow queries from its table and those.
 */
final class ShardWorker implements EventHandler<PacketEvent>
{
    private final int shard;
    private final ConnectionTracker tracker;
    /** Counted down once this worker has emitted its open connections at the end of input. */
    private final CountDownLatch finished;
    private long segments;
    private long lastSequence = -1;
    /** The latest packet time seen, kept in checkpoints. */
    private long packetTimeNanos;
    /** Set before the ring starts when the pipeline checkpoints; null otherwise. */
    private ShardCheckpoints checkpoints;
    /** A flow query waiting for this worker's answer (set by the asking thread, taken between batches). */
    private final AtomicReference<FlowQuery> pendingQuery = new AtomicReference<>();
    /** Set once the worker has begun finishing: it answers no more queries from its table. */
    private volatile boolean stopped;
    /**
     * Set once the worker has finished: its ended records no longer change, and the asking thread answers from them
     * itself.
     */
    private volatile boolean drained;
    private final FlowRecordFormat queryFormat;
    /** The records this worker ended last, for flow queries. */
    private final EndedFlows ended;
    private final String tapName;
    /** Segments tracked; single writer, read by metrics at any time. */
    private static final VarHandle SEGMENTS;

    static
    {
        try
        {
            SEGMENTS = MethodHandles.lookup().findVarHandle(ShardWorker.class, "segments", long.class);
        }
        catch (final ReflectiveOperationException e)
        {
            throw new ExceptionInInitializerError(e);
        }
    }

    ShardWorker(
        final int shard, final Lifecycle lifecycle, final ZeekOptions zeekOptions, final FlowLimits limits,
        final ConnectionListener listener, final RecordFields recordFields, final CountDownLatch finished,
        final int endedRecords)
    {
        this.shard = shard;
        this.ended = new EndedFlows(endedRecords);
        this.queryFormat = new FlowRecordFormat(recordFields);
        this.tapName = recordFields.tapName();
        this.finished = finished;
        // The pipeline's listeners format or count a connection and let go of it: its object is recycled. The
        // ended records kept for queries are taken after the listener, on this worker, before the recycling.
        final ConnectionListener keepingEnded = new ConnectionListener()
        {
            @Override
            public void onConnectionEnd(final TcpConnection connection)
            {
                listener.onConnectionEnd(connection);
                ended.add(connection, queryFormat);
            }

            @Override
            public void onConnectionUpdate(final TcpConnection connection)
            {
                listener.onConnectionUpdate(connection);
            }
        };
        this.tracker = new ConnectionTracker(1 << 12, keepingEnded, lifecycle, zeekOptions, limits, false);
        if (recordFields.updateIntervalNanos() > 0)
        {
            tracker.emitInterimRecords(recordFields.updateIntervalNanos());
        }
    }

    /** The worker's tracker: read its counters only after the pipeline has finished. */
    ConnectionTracker tracker()
    {
        return tracker;
    }

    /** Called before the ring starts (the thread start publishes it to the worker). */
    void enableCheckpoints(final ShardCheckpoints checkpoints)
    {
        this.checkpoints = checkpoints;
    }

    /**
     * Starts the packet clock at {@code packetTimeNanos}, the time of the checkpoint this worker's connections were
     * restored from. Called before the ring starts.
     */
    void resumeAt(final long packetTimeNanos)
    {
        this.packetTimeNanos = packetTimeNanos;
    }

    ShardCheckpoints checkpoints()
    {
        return checkpoints;
    }

    @Override
    public void onEvent(final PacketEvent event, final long sequence, final boolean endOfBatch)
    {
        if (event.kind <= PacketEvent.TIME && event.packet.timestampNanos > packetTimeNanos)
        {
            packetTimeNanos = event.packet.timestampNanos;
        }
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
            case PacketEvent.CHECKPOINT ->
            {
                if (checkpoints != null)
                {
                    checkpoints.snapshot(tracker, packetTimeNanos);
                }
            }
            case PacketEvent.FINISH ->
            {
                try
                {
                    stopped = true;
                    if (event.endReason != null)
                    {
                        tracker.finish(event.endReason);
                    }
                    // Open connections are kept in the final checkpoint (none when they were just written).
                    if (checkpoints != null)
                    {
                        checkpoints.writeNow(tracker, packetTimeNanos);
                    }
                }
                finally
                {
                    drained = true; // from here the asking thread answers from the ended records (see ask)
                    try
                    {
                        final FlowQuery unanswered = pendingQuery.getAndSet(null);
                        if (unanswered != null)
                        {
                            unanswered.answer(null, ended, queryFormat, tapName);
                        }
                    }
                    finally
                    {
                        finished.countDown(); // never leave the source waiting, even after a failure
                    }
                }
            }
            default ->
            {
            }
        }
        if (endOfBatch)
        {
            lastSequence = sequence;
            if (pendingQuery.get() != null)
            {
                final FlowQuery query = pendingQuery.getAndSet(null);
                if (query != null)
                {
                    query.answer(stopped ? null : tracker, ended, queryFormat, tapName);
                }
            }
        }
    }

    /**
     * Asks this worker to answer {@code query} after its current batch; any thread, one query at a time. Once the
     * worker has finished, the asking thread answers from its ended records (which no longer change).
     */
    void ask(final FlowQuery query)
    {
        pendingQuery.set(query);
        if (drained && pendingQuery.compareAndSet(query, null))
        {
            query.answer(null, ended, null, tapName); // it will not look again
        }
    }

    int shard()
    {
        return shard;
    }

    /** Segments this worker tracked (its shard's); any thread (a moment stale). */
    long segments()
    {
        return (long)SEGMENTS.getOpaque(this);
    }

    /** The last ring sequence this worker finished a batch at: the distance to the producer is its lag. */
    long lastSequence()
    {
        return lastSequence;
    }
}
