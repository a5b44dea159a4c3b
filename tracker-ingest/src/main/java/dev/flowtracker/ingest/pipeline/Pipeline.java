package dev.flowtracker.ingest.pipeline;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.ExceptionHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.FlowHash;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.decode.CaptureStats;
import dev.flowtracker.ingest.decode.FrameIntake;
import dev.flowtracker.ingest.output.RecordFields;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;
import org.HdrHistogram.Recorder;

import java.io.UncheckedIOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * Decode on the source threads, track on N shard workers, joined by a Disruptor ring (see package-info for the
 * picture). Each source delivery thread calls its own {@link #sink(int)} for every captured frame ({@link #onFrame}
 * is producer 0's); {@link #finish} emits the connections still open and stops the workers.
 *
 * <p>Backpressure: a lossless pipeline (file replay) makes the source wait for a free slot; a lossy one (live
 * capture) never waits: when the ring is full the frame is dropped and counted in {@link #ringFullDrops()}.
 *
 * <p>Sink {@code i} belongs to one delivery thread. {@link #finish} is called once, after the sources have
 * stopped, from any thread. Accessors documented "any thread" may be read while running (metrics); the others
 * after {@link #finish}. The listener built for worker {@code i} is called on that worker's thread only.
 *
 * <p>This class is the ring and its lifecycle: start, the producers' ports, flow queries, orderly stop. It is built
 * and finished by the command's thread. The other jobs have their own classes: the workers' totals
 * ({@link WorkerTotals}, {@link #totals}), the checkpoints' restore and schedule ({@link CheckpointSchedule},
 * {@link #checkpoints}) and the live clock ({@link PipelineClock}, {@link #clock}).
 */
public final class Pipeline implements FrameSink
{
    private final int workers;
    private final boolean lossless;
    /** An {@link #offline} pipeline: one producer publishing in batches, no queries, no checkpoints. */
    private final boolean offline;
    /** Events an {@link #offline} producer fills before it publishes them together (one wake-up per batch). */
    static final int PUBLISH_BATCH = 128;
    private final Disruptor<PacketEvent> disruptor;
    private final RingBuffer<PacketEvent> ring;
    private final ShardWorker[] shardWorkers;
    /** One per producing thread: each decodes with its own state and counts on its own. */
    private final SourcePort[] ports;
    /** Live pipelines only: advances every worker's clock by wall time while no packets arrive. */
    private final PipelineClock clock;
    /** Reaches zero when every worker has emitted its open connections. */
    private final CountDownLatch workersFinished;
    private final AtomicLong workerFailures = new AtomicLong();
    private volatile boolean finished;
    private final Checkpointing checkpointing;
    private final CheckpointSchedule checkpoints;
    private final WorkerTotals totals;
    /** Per worker: its connections' handshake RTTs (ns), recorded on the worker thread, read at scrape time. */
    private final Recorder[] handshakeRtts;
    private final Recorder[] ackRtts;
    /** Highest RTT a recorder holds; longer ones are recorded as this (a handshake longer than a minute). */
    public static final long MAX_RECORDED_NANOS = TimeUnit.MINUTES.toNanos(1);
    private static final long CLOCK_CHECK_PACKET_NANOS = 100_000_000L;

    /**
     * @param workers       shard workers (at least 1).
     * @param ringSize      ring slots, a power of two.
     * @param lossless      whether the source waits when the ring is full (replay) or drops (live).
     * @param limits      the flow table's capacity and timeouts, shared equally between the workers.
     * @param listenerForWorker builds the listener that receives worker {@code i}'s finished connections; it must
     *                          let go of each connection when it returns (the object is recycled), as its contract
     *                          says.
     */
    public Pipeline(
        final int workers, final int ringSize, final boolean lossless, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits, final IntFunction<ConnectionListener> listenerForWorker)
    {
        this(workers, ringSize, lossless, 1, lifecycle, zeekOptions, limits, null, listenerForWorker);
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
        this(workers, ringSize, lossless, 1, lifecycle, zeekOptions, limits, checkpointing, listenerForWorker);
    }

    /**
     * A pipeline fed by {@code producers} threads, each through its own {@link #sink(int)}. A lossy (live) pipeline
     * also runs a clock thread once {@link #startClock} is called.
     *
     * @param producers      producing threads (sources' delivery threads), at least 1.
     * @param checkpointing  null for none.
     */
    public Pipeline(
        final int workers, final int ringSize, final boolean lossless, final int producers, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits, final Checkpointing checkpointing,
        final IntFunction<ConnectionListener> listenerForWorker)
    {
        this(workers, ringSize, lossless, producers, lifecycle, zeekOptions, limits, checkpointing,
            RecordFields.DEFAULTS, listenerForWorker);
    }

    /**
     * As above, answering flow queries with records that carry {@code recordFields} (those of the records the
     * listeners write).
     */
    public Pipeline(
        final int workers, final int ringSize, final boolean lossless, final int producers, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits, final Checkpointing checkpointing,
        final RecordFields recordFields, final IntFunction<ConnectionListener> listenerForWorker)
    {
        this(workers, ringSize, lossless, producers, false, lifecycle, zeekOptions, limits, checkpointing,
            recordFields, listenerForWorker);
    }

    /**
     * A pipeline for reading capture files as fast as they read ({@code analyze}): lossless, fed by one thread
     * through {@link #onFrame}, which also calls {@link #finish}. That thread publishes its events to the workers
     * {@value #PUBLISH_BATCH} at a time, so the workers are woken once per batch rather than once per frame, and it
     * claims slots without the multi-producer compare-and-swap. It takes no flow queries and no checkpoints: both
     * would publish from a second thread.
     */
    public static Pipeline offline(
        final int workers, final int ringSize, final Lifecycle lifecycle, final ZeekOptions zeekOptions,
        final FlowLimits limits, final IntFunction<ConnectionListener> listenerForWorker)
    {
        return offline(workers, ringSize, lifecycle, zeekOptions, limits, RecordFields.DEFAULTS, listenerForWorker);
    }

    /** As above, with the records' fields (and interim records, when they ask for them). */
    public static Pipeline offline(
        final int workers, final int ringSize, final Lifecycle lifecycle, final ZeekOptions zeekOptions,
        final FlowLimits limits, final RecordFields recordFields, final IntFunction<ConnectionListener> listeners)
    {
        return new Pipeline(workers, ringSize, true, 1, true, lifecycle, zeekOptions, limits, null, recordFields,
            listeners);
    }

    private Pipeline(
        final int workers, final int ringSize, final boolean lossless, final int producers, final boolean offline,
        final Lifecycle lifecycle, final ZeekOptions zeekOptions, final FlowLimits limits,
        final Checkpointing checkpointing, final RecordFields recordFields,
        final IntFunction<ConnectionListener> listenerForWorker)
    {
        if (producers < 1)
        {
            throw new IllegalArgumentException("producers must be at least 1, was " + producers);
        }
        if (workers < 1)
        {
            throw new IllegalArgumentException("workers must be at least 1, was " + workers);
        }
        if (ringSize < 2 || Integer.bitCount(ringSize) != 1)
        {
            throw new IllegalArgumentException("ring size must be a power of two, was " + ringSize);
        }
        if (ringSize < 2 * PUBLISH_BATCH && offline)
        {
            throw new IllegalArgumentException("an offline ring needs at least " + 2 * PUBLISH_BATCH + " slots");
        }
        this.workers = workers;
        this.lossless = lossless;
        this.offline = offline;
        // Otherwise several threads publish: the sources' delivery threads, a live pipeline's clock, flow queries'
        // nudges, and whoever calls finish.
        this.disruptor = new Disruptor<>(PacketEvent::new, ringSize, TrackerThreads.numbered("worker", Kind.DAEMON),
            offline ? ProducerType.SINGLE : ProducerType.MULTI, new BlockingWaitStrategy());
        this.shardWorkers = new ShardWorker[workers];
        this.workersFinished = new CountDownLatch(workers);
        this.handshakeRtts = new Recorder[workers];
        this.ackRtts = new Recorder[workers];
        for (int i = 0; i < workers; i++)
        {
            shardWorkers[i] =
                new ShardWorker(i, lifecycle, zeekOptions, limits.perShard(workers), listenerForWorker.apply(i),
                    // An offline pipeline answers no queries: keeping ended records would only format them twice.
                    recordFields, workersFinished, offline ? 0 : EndedFlows.perWorker(workers));
            final Recorder recorder = new Recorder(1, MAX_RECORDED_NANOS, 3);
            handshakeRtts[i] = recorder;
            shardWorkers[i].tracker()
                .onHandshakeRtt(nanos -> recorder.recordValue(Math.clamp(nanos, 0, MAX_RECORDED_NANOS)));
            final Recorder ackRecorder = new Recorder(1, MAX_RECORDED_NANOS, 3);
            ackRtts[i] = ackRecorder;
            shardWorkers[i].tracker()
                .onAckRtt(nanos -> ackRecorder.recordValue(Math.clamp(nanos, 1, MAX_RECORDED_NANOS)));
        }
        this.checkpointing = checkpointing;
        this.totals = new WorkerTotals(shardWorkers);
        // Restores before the ring starts: the workers' threads then see the restored connections.
        this.checkpoints = new CheckpointSchedule(checkpointing, shardWorkers, totals, this::checkpoint);
        disruptor.setDefaultExceptionHandler(new WorkerFailures());
        @SuppressWarnings("unchecked")
        final EventHandler<PacketEvent>[] handlers = shardWorkers;
        disruptor.handleEventsWith(handlers);
        this.ring = disruptor.start();
        this.clock = new PipelineClock(ring, checkpoints);
        this.ports = new SourcePort[producers];
        for (int i = 0; i < producers; i++)
        {
            ports[i] = new SourcePort(new FrameIntake(!zeekOptions.ignoreChecksums()),
                i == 0 && lossless && checkpoints.periodic());
        }
    }

    /** Workers to use by default: one core for the source, the rest for workers, at least one. */
    public static int defaultWorkers()
    {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    /** Producer 0's frame (see {@link #sink}). */
    @Override
    public void onFrame(final FrameDescriptor frame)
    {
        ports[0].onFrame(frame);
    }

    /** The sink of producing thread {@code producer}; each thread must use only its own. */
    public FrameSink sink(final int producer)
    {
        return ports[producer];
    }

    /** Producing threads this pipeline was built for. */
    public int producers()
    {
        return ports.length;
    }

    /**
     * Live pipelines: starts a thread that, every {@code periodNanos} of wall time, moves the workers' clocks to
     * the wall clock (so idle connections expire when no packet arrives) and starts checkpoints when due.
     */
    public void startClock(final long periodNanos)
    {
        if (lossless)
        {
            throw new IllegalStateException("a replay keeps packet time; only live pipelines run a clock");
        }
        clock.start(periodNanos);
    }

    /**
     * Asks every worker to snapshot its live connections into its checkpoint now (written in the background).
     * No-op without checkpointing. Source thread only.
     */
    public void checkpoint()
    {
        if (!checkpoints.enabled() || finished)
        {
            return;
        }
        final long sequence = claimSlot();
        if (sequence < 0)
        {
            checkpoints.countSkipped(); // a live source does not wait, not even for a checkpoint
            return;
        }
        final PacketEvent slot = ring.get(sequence);
        slot.kind = PacketEvent.CHECKPOINT;
        ring.publish(sequence);
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
        if (offline)
        {
            ports[0].publishBatch(); // the thread that fed it calls finish (see offline)
        }
        clock.stop();
        final long sequence = ring.next(); // the end marker is never dropped
        final PacketEvent slot = ring.get(sequence);
        slot.kind = PacketEvent.FINISH;
        final boolean keepOpen = checkpointing != null &&
            (reason == EndReason.SHUTDOWN || checkpointing.checkpointAtEnd());
        slot.endReason = keepOpen ? null : reason;
        ring.publish(sequence);
        // Wait on the workers themselves: their last records must be out before this returns.
        final boolean interrupted = Uninterruptibly.awaitReportingInterrupt(workersFinished::await);
        disruptor.shutdown();
        checkpoints.shutdown();
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Every producer's frames and decode outcomes, summed (a moment stale while running). */
    public CaptureStats stats()
    {
        final CaptureStats total = new CaptureStats();
        for (final SourcePort port : ports)
        {
            total.add(port.intake.stats());
        }
        return total;
    }

    /** Frames dropped because the ring was full (lossy pipelines only), all producers. */
    public long ringFullDrops()
    {
        long total = 0;
        for (final SourcePort port : ports)
        {
            total += port.ringFullDrops();
        }
        return total;
    }

    public int workers()
    {
        return workers;
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

    /** Free ring slots now; any thread. */
    public long ringRemaining()
    {
        return ring.remainingCapacity();
    }

    /** Ring events published but not yet processed by worker {@code worker}; any thread. */
    public long workerLag(final int worker)
    {
        return Math.max(0, ring.getCursor() - disruptor.getSequenceValueFor(shardWorkers[worker]));
    }

    /** Worker {@code worker}'s handshake RTT recorder (nanoseconds); read it with an interval histogram. */
    public Recorder handshakeRtts(final int worker)
    {
        return handshakeRtts[worker];
    }

    /** Worker {@code worker}'s data-path ACK RTT samples (nanoseconds), for metrics. */
    public Recorder ackRtts(final int worker)
    {
        return ackRtts[worker];
    }

    /**
     * Asks every worker to answer {@code query} from its table between ring batches; wait with
     * {@link FlowQuery#await}. After {@link #finish} only ended records answer. Any thread, one query at a time.
     */
    public void query(final FlowQuery query)
    {
        if (offline)
        {
            throw new IllegalStateException("an offline pipeline takes no flow queries");
        }
        for (final ShardWorker worker : shardWorkers)
        {
            worker.ask(query);
        }
        // Idle workers only look between batches: give them one. A full ring needs no nudge (they are busy).
        try
        {
            final long sequence = ring.tryNext();
            ring.get(sequence).kind = PacketEvent.NUDGE;
            ring.publish(sequence);
        }
        catch (final InsufficientCapacityException e)
        {
            // busy workers end batches soon enough
        }
    }

    /** The workers' counts, summed; see {@link WorkerTotals} for which may be read while running. */
    public WorkerTotals totals()
    {
        return totals;
    }

    /** The checkpoints' restore, schedule and counts (all 0 without checkpointing). */
    public CheckpointSchedule checkpoints()
    {
        return checkpoints;
    }

    /** The live clock (started by {@link #startClock}; never by a replay). */
    public PipelineClock clock()
    {
        return clock;
    }

    /** Whether {@link #finish} has run (the workers have stopped). */
    public boolean finished()
    {
        return finished;
    }

    /**
     * One producing thread's entrance: decodes each frame with its own {@link FrameIntake} and publishes it. Owned
     * by that thread; its counters are single-writer and read racily by others (a moment stale).
     */
    private final class SourcePort implements FrameSink
    {
        private final FrameIntake intake;
        /** Stands in for frames without a segment to track: the ring event then only carries time. */
        private final DecodedPacket timeOnly = new DecodedPacket();
        /** Whether this port starts periodic checkpoints (producer 0 of a replay; live pipelines use the clock). */
        private final boolean checksCheckpointClock;
        private long ringFullDrops;
        /** Offline only: the first filled event not yet published, and how many follow it. */
        private long unpublishedFrom;
        private int unpublished;
        /** Frames since the wall clock was last looked at for a due checkpoint. */
        private int framesSinceClockCheck;
        private long packetTimeAtClockCheck = Long.MIN_VALUE / 2;

        SourcePort(final FrameIntake intake, final boolean checksCheckpointClock)
        {
            this.intake = intake;
            this.checksCheckpointClock = checksCheckpointClock;
        }

        @Override
        public void onFrame(final FrameDescriptor frame)
        {
            final long timestampNanos = frame.timestampNanos();
            final DecodedPacket segmentToTrack = intake.onFrame(frame);
            if (segmentToTrack != null)
            {
                publish(segmentToTrack, PacketEvent.SEGMENT, timestampNanos);
            }
            else
            {
                publish(timeOnly, PacketEvent.TIME, timestampNanos);
            }
            // Reading the clock costs more than a frame's bookkeeping: look every 1,024 frames, or when packet time
            // has moved on by a tenth of a second (a slow or paced stream).
            if (checksCheckpointClock && ((++framesSinceClockCheck & 1023) == 0 ||
                timestampNanos - packetTimeAtClockCheck > CLOCK_CHECK_PACKET_NANOS))
            {
                packetTimeAtClockCheck = timestampNanos;
                checkpoints.checkpointIfDue();
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
            if (!offline)
            {
                ring.publish(sequence);
            }
            else
            {
                // Safe to hold back: a single-producer claim that has to wait for the workers makes the claimed
                // (all filled) events visible first, and a batch is far smaller than the ring.
                if (unpublished++ == 0)
                {
                    unpublishedFrom = sequence;
                }
                if (unpublished == PUBLISH_BATCH)
                {
                    publishBatch();
                }
            }
        }

        /** Offline: publishes the events filled since the last batch, waking the workers once. */
        void publishBatch()
        {
            if (unpublished > 0)
            {
                ring.publish(unpublishedFrom, unpublishedFrom + unpublished - 1);
                unpublished = 0;
            }
        }

        long ringFullDrops()
        {
            return ringFullDrops;
        }
    }
}
