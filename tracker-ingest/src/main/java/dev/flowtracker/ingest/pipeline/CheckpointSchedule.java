package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.flow.FlowStateCodec;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.checkpoint.CheckpointException;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import org.HdrHistogram.Recorder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A pipeline's checkpoints (see {@link Checkpointing}): restoring the committed ones into the workers before they
 * start, deciding when the next periodic one is due, and counting how they went. Without checkpointing every count
 * stays 0 and nothing is ever due.
 *
 * <p>Threads: the constructor (and so the restore) runs on the thread that builds the pipeline, before the workers
 * start. The schedule ({@link #checkpointIfDue}) belongs to the one thread that checks it: producer 0 of a replay,
 * or the {@code tracker-clock} thread of a live pipeline. The counts are written by the workers and the
 * {@code tracker-checkpoint} writer thread, and may be read from any thread; the final ones after
 * {@link Pipeline#finish}.
 */
public final class CheckpointSchedule
{
    private final Checkpointing checkpointing;
    private final ShardWorker[] workers;
    private final WorkerTotals totals;
    /** Asks the workers for a checkpoint now (publishes a CHECKPOINT event on the ring). */
    private final Runnable request;
    private final ExecutorService writer;
    private final long restoredFlows;
    /** What the restored checkpoints already hold of a replayed capture; null without checkpoints. */
    private final ReplayResume resume;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    /** Time to write and commit one shard's checkpoint (ns), recorded on the checkpoint writer thread. */
    private final Recorder durations = new Recorder(1, ShardCheckpoints.MAX_DURATION_NANOS, 3);
    /** Wall-clock millis of the latest committed checkpoint, 0 before the first. */
    private final AtomicLong lastCommittedMillis = new AtomicLong();
    /** Wall-clock (System.nanoTime) instant of the next periodic checkpoint; the one thread that checks owns it. */
    private long nextCheckpointNanos;

    /**
     * Gives every worker its {@link ShardCheckpoints} and restores what the store holds; does nothing without
     * {@code checkpointing}. Before the workers start.
     *
     * @param checkpointing null for none.
     * @param request       asks the workers for a checkpoint now.
     * @throws UncheckedIOException wrapping a {@link CheckpointException} when the checkpoints cannot be read or
     *                              hold an invalid state.
     */
    CheckpointSchedule(
        final Checkpointing checkpointing, final ShardWorker[] workers, final WorkerTotals totals,
        final Runnable request)
    {
        this.checkpointing = checkpointing;
        this.workers = workers;
        this.totals = totals;
        this.request = request;
        if (checkpointing == null)
        {
            this.writer = null;
            this.restoredFlows = 0;
            this.resume = null;
            return;
        }
        this.writer = Executors.newSingleThreadExecutor(TrackerThreads.single("checkpoint", Kind.DAEMON));
        for (int i = 0; i < workers.length; i++)
        {
            workers[i].enableCheckpoints(new ShardCheckpoints(i, checkpointing.store(), checkpointing.flushRecords(),
                writer, written, skipped, failed, failure, durations, lastCommittedMillis));
        }
        final List<CheckpointInfo> committed = listCheckpoints(checkpointing.store());
        this.resume = ReplayResume.of(committed);
        this.restoredFlows = restore(checkpointing.store(), committed);
        this.nextCheckpointNanos = System.nanoTime() + checkpointing.intervalNanos();
    }

    /** Whether the pipeline checkpoints at all. */
    boolean enabled()
    {
        return checkpointing != null;
    }

    /** Whether periodic checkpoints are due at all (an interval is set), so a thread must check the schedule. */
    boolean periodic()
    {
        return checkpointing != null && checkpointing.intervalNanos() > 0;
    }

    /** The clock took over the schedule: the next checkpoint is one interval from now. */
    void restartInterval()
    {
        nextCheckpointNanos =
            checkpointing == null ? Long.MAX_VALUE : System.nanoTime() + checkpointing.intervalNanos();
    }

    /** Asks for a checkpoint when the interval has passed. Called by one thread only (producer 0 or the clock). */
    void checkpointIfDue()
    {
        if (!periodic())
        {
            return;
        }
        final long now = System.nanoTime();
        if (now - nextCheckpointNanos >= 0)
        {
            nextCheckpointNanos = now + checkpointing.intervalNanos();
            request.run();
        }
    }

    /** A checkpoint request found a live ring full. */
    void countSkipped()
    {
        skipped.incrementAndGet();
    }

    /** Lets the writer thread go; the final checkpoints were written on the workers, so nothing is queued. */
    void shutdown()
    {
        if (writer != null)
        {
            writer.shutdown();
        }
    }

    private static List<CheckpointInfo> listCheckpoints(final CheckpointStore store)
    {
        try
        {
            return store.list();
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Restores each connection of the committed checkpoints into the worker its hash picks now, and starts each
     * worker's packet clock where its checkpoint left off, so a checkpoint it writes before seeing a frame keeps
     * that time (see {@link ReplayResume}).
     */
    private long restore(final CheckpointStore store, final List<CheckpointInfo> committed)
    {
        final TcpConnection probe = new TcpConnection();
        final long[] restored = new long[1];
        int highestShard = -1;
        long earliest = Long.MAX_VALUE;
        try
        {
            for (final CheckpointInfo info : committed)
            {
                earliest = Math.min(earliest, info.packetTimeNanos());
                highestShard = Math.max(highestShard, info.shard());
                store.read(info.shard(), (key, state) ->
                {
                    try
                    {
                        FlowStateCodec.decode(state.duplicate(), probe);
                        workers[Integer.remainderUnsigned(probe.hash(), workers.length)].tracker()
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
            if (highestShard < 0)
            {
                return 0;
            }
            if (highestShard + 1 == workers.length)
            {
                for (final ShardWorker worker : workers)
                {
                    worker.resumeAt(Math.max(0, resume.shardNanos(worker.shard())));
                }
            }
            else
            {
                // Another worker count than last time: checkpoint the restored connections under this run's shards
                // now, then drop the shards this run does not have, or a later restart would restore them twice.
                // Every shard now mixes connections of several old ones: it takes the earliest old time, so a
                // kill before this run's first checkpoint may repeat frames up to the latest, but loses none.
                for (final ShardWorker worker : workers)
                {
                    worker.resumeAt(earliest);
                    worker.checkpoints().writeNow(worker.tracker(), earliest);
                }
                for (int shard = workers.length; shard <= highestShard; shard++)
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
     * What the checkpoints restored at start already hold of a replayed capture (the replay skips those frames), or
     * null when there were none.
     */
    public ReplayResume replayResume()
    {
        return resume;
    }

    /** Connections restored from checkpoints at start. */
    public long restoredFlows()
    {
        return restoredFlows;
    }

    /** Shard checkpoints committed (periodic, final, and those rewritten at start). */
    public long written()
    {
        return written.get();
    }

    /** Checkpoint requests skipped: the shard's previous one was still being written, or a live ring was full. */
    public long skipped()
    {
        return skipped.get();
    }

    /** Shard checkpoints that failed (the previous one stays); {@link #failure} says why. */
    public long failed()
    {
        return failed.get();
    }

    /** The latest checkpoint failure in one line, or null. */
    public String failure()
    {
        return failure.get();
    }

    /**
     * Connections in the checkpoints written when the pipeline finished (its final checkpoint); read after
     * {@link Pipeline#finish}.
     */
    public long finalFlows()
    {
        return totals.sum(worker -> worker.checkpoints() != null && worker.checkpoints().lastWriteCommitted() ?
            worker.checkpoints().lastWriteFlows() : 0);
    }

    /** Workers whose final checkpoint was not committed (0 without checkpoints); read after {@link Pipeline#finish}. */
    public int finalFailures()
    {
        return (int)totals.sum(worker -> worker.checkpoints() != null && !worker.checkpoints().lastWriteCommitted() ?
            1 : 0);
    }

    /** Checkpoint write-and-commit durations (nanoseconds). */
    public Recorder durations()
    {
        return durations;
    }

    /** Wall-clock millis of the latest committed checkpoint; 0 before the first. */
    public long lastCommittedMillis()
    {
        return lastCommittedMillis.get();
    }
}
