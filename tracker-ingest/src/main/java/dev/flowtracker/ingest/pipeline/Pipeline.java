package dev.flowtracker.ingest.pipeline;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.FlowHash;
import dev.flowtracker.core.tcp.FlowLimits;
import dev.flowtracker.core.tcp.FlowPhase;
import dev.flowtracker.core.tcp.FlowRemoval;
import dev.flowtracker.core.tcp.FlowStateCodec;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.analyze.CaptureStats;
import dev.flowtracker.ingest.analyze.FrameIntake;
import dev.flowtracker.ingest.capture.PacketHandler;
import dev.flowtracker.ingest.checkpoint.CheckpointException;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;

/**
 * Decode on the source thread, track on N shard workers, joined by a Disruptor ring (see package-info for the
 * picture). The source calls {@link #onFrame} for every captured frame; {@link #finish} emits the connections
 * still open and stops the workers.
 *
 * <p>Backpressure: a lossless pipeline (file replay) makes the source wait for a free slot; a lossy one (live
 * capture) never waits: when the ring is full the frame is dropped and counted in {@link #ringFullDrops()}.
 *
 * <p>{@link #onFrame} and {@link #finish} belong to one source thread. The listener built for worker {@code i}
 * is called on that worker's thread only.
 */
public final class Pipeline implements PacketHandler
{
    private final int workers;
    private final boolean lossless;
    private final Disruptor<PacketEvent> disruptor;
    private final RingBuffer<PacketEvent> ring;
    private final ShardWorker[] shardWorkers;
    private final FrameIntake intake;
    /** Stands in for frames without a segment to track: the ring event then only carries time. */
    private final DecodedPacket timeOnly = new DecodedPacket();
    /** Reaches zero when every worker has emitted its open connections. */
    private final CountDownLatch workersFinished;
    private final AtomicLong workerFailures = new AtomicLong();
    private long ringFullDrops;
    private boolean finished;
    private final Checkpointing checkpointing;
    private final ExecutorService checkpointWriter;
    private final long restoredFlows;
    private final AtomicLong checkpointsWritten = new AtomicLong();
    private final AtomicLong checkpointsSkipped = new AtomicLong();
    private final AtomicLong checkpointsFailed = new AtomicLong();
    private final AtomicReference<String> checkpointFailure = new AtomicReference<>();
    private long nextCheckpointNanos;
    /** Frames since the wall clock was last looked at for a due checkpoint. */
    private int framesSinceClockCheck;
    private long packetTimeAtClockCheck = Long.MIN_VALUE / 2;
    private static final long CLOCK_CHECK_PACKET_NANOS = 100_000_000L;

    /**
     * @param workers       shard workers (at least 1).
     * @param ringSize      ring slots, a power of two.
     * @param lossless      whether the source waits when the ring is full (replay) or drops (live).
     * @param limits      the flow table's capacity and timeouts, shared equally between the workers.
     * @param listenerForWorker builds the listener that receives worker {@code i}'s finished connections.
     */
    public Pipeline(
        final int workers, final int ringSize, final boolean lossless, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits, final IntFunction<ConnectionListener> listenerForWorker)
    {
        this(workers, ringSize, lossless, lifecycle, zeekOptions, limits, null, listenerForWorker);
    }

    /**
     * A pipeline that checkpoints its live connections (see {@link Checkpointing}); before the workers start it
     * restores the connections the store holds, each into the worker its hash now picks.
     *
     * @throws UncheckedIOException wrapping a {@link dev.flowtracker.ingest.checkpoint.CheckpointException} when
     *                              the checkpoints cannot be read or hold an invalid state (nothing is started).
     */
    public Pipeline(
        final int workers, final int ringSize, final boolean lossless, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits, final Checkpointing checkpointing,
        final IntFunction<ConnectionListener> listenerForWorker)
    {
        if (workers < 1)
        {
            throw new IllegalArgumentException("workers must be at least 1, was " + workers);
        }
        if (ringSize < 2 || Integer.bitCount(ringSize) != 1)
        {
            throw new IllegalArgumentException("ring size must be a power of two, was " + ringSize);
        }
        this.workers = workers;
        this.lossless = lossless;
        this.disruptor = new Disruptor<>(PacketEvent::new, ringSize, workerThreads(), ProducerType.SINGLE,
            new BlockingWaitStrategy());
        this.shardWorkers = new ShardWorker[workers];
        this.workersFinished = new CountDownLatch(workers);
        for (int i = 0; i < workers; i++)
        {
            shardWorkers[i] =
                new ShardWorker(i, lifecycle, zeekOptions, limits.perShard(workers), listenerForWorker.apply(i),
                    workersFinished);
        }
        this.checkpointing = checkpointing;
        if (checkpointing != null)
        {
            this.checkpointWriter = Executors.newSingleThreadExecutor(runnable ->
            {
                final Thread thread = new Thread(runnable, "tracker-checkpoint");
                thread.setDaemon(true);
                return thread;
            });
            for (int i = 0; i < workers; i++)
            {
                shardWorkers[i].enableCheckpoints(new ShardCheckpoints(i, checkpointing.store(), checkpointing.flushRecords(),
                    checkpointWriter,
                    checkpointsWritten, checkpointsSkipped, checkpointsFailed, checkpointFailure));
            }
            this.restoredFlows = restore(checkpointing.store());
            this.nextCheckpointNanos = System.nanoTime() + checkpointing.intervalNanos();
        }
        else
        {
            this.checkpointWriter = null;
            this.restoredFlows = 0;
        }
        disruptor.setDefaultExceptionHandler(new WorkerFailures());
        @SuppressWarnings("unchecked")
        final EventHandler<PacketEvent>[] handlers = shardWorkers;
        disruptor.handleEventsWith(handlers);
        this.ring = disruptor.start();
        this.intake = new FrameIntake(!zeekOptions.ignoreChecksums());
    }

    /** Workers to use by default: one core for the source, the rest for workers, at least one. */
    public static int defaultWorkers()
    {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    private static ThreadFactory workerThreads()
    {
        final AtomicInteger next = new AtomicInteger();
        return runnable ->
        {
            final Thread thread = new Thread(runnable, "tracker-worker-" + next.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public void onFrame(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId)
    {
        final DecodedPacket segmentToTrack =
            intake.onFrame(segment, offset, capturedLength, wireLength, linkType, timestampNanos, interfaceId);
        if (segmentToTrack != null)
        {
            publish(segmentToTrack, PacketEvent.SEGMENT, timestampNanos);
        }
        else
        {
            publish(timeOnly, PacketEvent.TIME, timestampNanos);
        }
        // Reading the clock costs more than a frame's bookkeeping: look every 1,024 frames, or when packet time has
        // moved on by a tenth of a second (a slow or paced stream).
        if (checkpointing != null && checkpointing.intervalNanos() > 0 && ((++framesSinceClockCheck & 1023) == 0 ||
            timestampNanos - packetTimeAtClockCheck > CLOCK_CHECK_PACKET_NANOS))
        {
            packetTimeAtClockCheck = timestampNanos;
            final long now = System.nanoTime();
            if (now - nextCheckpointNanos >= 0)
            {
                nextCheckpointNanos = now + checkpointing.intervalNanos();
                checkpoint();
            }
        }
    }

    /**
     * Asks every worker to snapshot its live connections into its checkpoint now (written in the background).
     * No-op without checkpointing. Source thread only.
     */
    public void checkpoint()
    {
        if (checkpointing == null || finished)
        {
            return;
        }
        final long sequence = claimSlot();
        if (sequence < 0)
        {
            checkpointsSkipped.incrementAndGet(); // a live source does not wait, not even for a checkpoint
            return;
        }
        final PacketEvent slot = ring.get(sequence);
        slot.kind = PacketEvent.CHECKPOINT;
        ring.publish(sequence);
    }

    /** Reads every shard's checkpoint and restores each connection into the worker its hash picks now. */
    private long restore(final CheckpointStore store)
    {
        final TcpConnection probe = new TcpConnection();
        final long[] restored = new long[1];
        int highestShard = -1;
        try
        {
            for (final CheckpointInfo info : store.list())
            {
                highestShard = Math.max(highestShard, info.shard());
                store.read(info.shard(), (key, state) ->
                {
                    try
                    {
                        FlowStateCodec.decode(state.duplicate(), probe);
                        shardWorkers[Integer.remainderUnsigned(probe.hash(), workers)].tracker()
                            .restore(state.duplicate());
                    }
                    catch (final IllegalArgumentException e)
                    {
                        throw new UncheckedIOException(new CheckpointException(store.directory(),
                            "shard " + info.shard() + " holds an invalid flow state: " + e.getMessage()));
                    }
                    restored[0]++;
                });
            }
            if (highestShard >= workers)
            {
                // Fewer workers than last time: checkpoint the restored connections under this run's shards now,
                // then drop the shards this run does not have, or a later restart would restore them twice.
                for (final ShardWorker worker : shardWorkers)
                {
                    worker.checkpoints().writeNow(worker.tracker(), 0);
                }
                for (int shard = workers; shard <= highestShard; shard++)
                {
                    store.delete(shard);
                }
            }
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        return restored[0];
    }

    /**
     * The next ring slot's sequence: a lossless pipeline waits for one; a lossy one (live sources never wait)
     * returns -1 when the ring is full.
     */
    private long claimSlot()
    {
        if (lossless)
        {
            return ring.next();
        }
        try
        {
            return ring.tryNext();
        }
        catch (final InsufficientCapacityException e)
        {
            return -1;
        }
    }

    private void publish(final DecodedPacket p, final int kind, final long timestampNanos)
    {
        final long sequence = claimSlot();
        if (sequence < 0)
        {
            ringFullDrops++; // the frame is lost, and counted
            return;
        }
        final PacketEvent slot = ring.get(sequence);
        slot.kind = kind;
        if (kind == PacketEvent.SEGMENT)
        {
            slot.packet.copyFrom(p);
            slot.shard = Integer.remainderUnsigned(FlowHash.of(p), workers);
        }
        slot.packet.timestampNanos = timestampNanos;
        ring.publish(sequence);
    }

    /** {@link #finish(EndReason)} at the end of input. */
    public void finish()
    {
        finish(EndReason.END_OF_INPUT);
    }

    /**
     * Emits every open connection with {@code reason} ({@code END_OF_INPUT}, or {@code SHUTDOWN} when stopped)
     * and stops the workers once they have drained the ring. Waits; call once, from the source thread.
     */
    public void finish(final EndReason reason)
    {
        if (finished)
        {
            return;
        }
        finished = true;
        final long sequence = ring.next(); // the end marker is never dropped
        final PacketEvent slot = ring.get(sequence);
        slot.kind = PacketEvent.FINISH;
        final boolean keepOpen = checkpointing != null &&
            (reason == EndReason.SHUTDOWN || checkpointing.checkpointAtEnd());
        slot.endReason = keepOpen ? null : reason;
        ring.publish(sequence);
        // Wait on the workers themselves: their last records must be out before this returns.
        boolean interrupted = false;
        while (true)
        {
            try
            {
                workersFinished.await();
                break;
            }
            catch (final InterruptedException e)
            {
                interrupted = true;
            }
        }
        disruptor.shutdown();
        if (checkpointWriter != null)
        {
            checkpointWriter.shutdown(); // the final checkpoints were written on the workers, so nothing is queued
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }

    public CaptureStats stats()
    {
        return intake.stats();
    }

    /** Frames dropped because the ring was full (lossy pipelines only). */
    public long ringFullDrops()
    {
        return ringFullDrops;
    }

    public int workers()
    {
        return workers;
    }

    /** Segments tracked by each worker; read after {@link #finish}. */
    public long[] segmentsPerWorker()
    {
        final long[] segments = new long[workers];
        for (int i = 0; i < workers; i++)
        {
            segments[i] = shardWorkers[i].segments();
        }
        return segments;
    }

    /** Connections the workers' flow tables removed for {@code removal} in {@code phase}; read after finish. */
    public long flowsRemoved(final FlowRemoval removal, final FlowPhase phase)
    {
        long total = 0;
        for (final ShardWorker worker : shardWorkers)
        {
            total += worker.tracker().removed(removal, phase);
        }
        return total;
    }

    /** Connections removed for {@code removal}, all phases; read after finish. */
    public long flowsRemoved(final FlowRemoval removal)
    {
        long total = 0;
        for (final FlowPhase phase : FlowPhase.values())
        {
            total += flowsRemoved(removal, phase);
        }
        return total;
    }

    /** Times any worker's flow table went into emergency mode; read after finish. */
    public long emergencyEntries()
    {
        long total = 0;
        for (final ShardWorker worker : shardWorkers)
        {
            total += worker.tracker().emergencyEntries();
        }
        return total;
    }

    /** Packets at which a worker deferred due Zeek timers past the per-packet cap; read after finish. */
    public long timerCapHits()
    {
        long total = 0;
        for (final ShardWorker worker : shardWorkers)
        {
            total += worker.tracker().timerCapHits();
        }
        return total;
    }

    /** Connections restored from checkpoints at start. */
    public long restoredFlows()
    {
        return restoredFlows;
    }

    /** Shard checkpoints committed (periodic, final, and those rewritten at start). */
    public long checkpointsWritten()
    {
        return checkpointsWritten.get();
    }

    /** Checkpoint requests skipped: the shard's previous one was still being written, or a live ring was full. */
    public long checkpointsSkipped()
    {
        return checkpointsSkipped.get();
    }

    /** Shard checkpoints that failed (the previous one stays); {@link #checkpointFailure} says why. */
    public long checkpointsFailed()
    {
        return checkpointsFailed.get();
    }

    /** The latest checkpoint failure in one line, or null. */
    public String checkpointFailure()
    {
        return checkpointFailure.get();
    }

    /** Events whose processing threw (a bug: malformed input is a counted decode event, never an exception). */
    public long workerFailures()
    {
        return workerFailures.get();
    }

    /** Reports and counts a worker's failure, then lets it go on with the next event rather than stop. */
    private final class WorkerFailures implements ExceptionHandler<PacketEvent>
    {
        @Override
        public void handleEventException(final Throwable failure, final long sequence, final PacketEvent event)
        {
            if (workerFailures.getAndIncrement() == 0)
            {
                System.err.println("tracker: worker failed on ring event " + sequence + " (further failures counted" +
                    " only): " + failure);
            }
        }

        @Override
        public void handleOnStartException(final Throwable failure)
        {
            handleEventException(failure, -1, null);
        }

        @Override
        public void handleOnShutdownException(final Throwable failure)
        {
            handleEventException(failure, -1, null);
        }
    }

    public int ringSize()
    {
        return ring.getBufferSize();
    }
}
