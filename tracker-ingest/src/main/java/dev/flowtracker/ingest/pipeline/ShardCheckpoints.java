package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.FlowStateCodec;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.checkpoint.EntrySink;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;

import org.HdrHistogram.Recorder;

import java.io.IOException;

import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

/**
 * One shard's checkpoints. On the worker's thread, {@link #snapshot} encodes every live connection into a buffer
 * this object owns (a memory copy: the worker is held only for that), then a writer thread shared by all shards
 * commits the buffer to the {@link CheckpointStore}. A snapshot asked for while the shard's previous one is still
 * being written is skipped and counted rather than queued: the next one supersedes it anyway. So is a commit while
 * the flow-record sink fails (records of connections gone from the snapshot are then still in memory).
 *
 * <p>{@link #snapshot} and {@link #writeNow} run on the shard worker's thread; the buffer is handed to the writer
 * thread and not touched by the worker until that write has finished (the future says so).
 */
final class ShardCheckpoints
{
    private final Recorder durations;
    private final AtomicLong lastSuccessMillis;
    /** Longest duration the recorder holds (its highest trackable value); longer ones count as this. */
    static final long MAX_DURATION_NANOS = TimeUnit.HOURS.toNanos(1);
    private final int shard;
    private final CheckpointStore store;
    private final BooleanSupplier flushRecords;
    private final ExecutorService writer;
    private final AtomicLong written;
    private final AtomicLong skipped;
    private final AtomicLong failed;
    private final AtomicReference<String> lastFailure;
    private ByteBuffer states = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES * 64);
    private int count;
    /** Encoded length of each state in {@link #states}, in order. */
    private int[] lengths = new int[64];
    private Future<?> inFlight;
    private boolean committedNow;

    ShardCheckpoints(
        final int shard, final CheckpointStore store, final BooleanSupplier flushRecords, final ExecutorService writer,
        final AtomicLong written, final AtomicLong skipped, final AtomicLong failed,
        final AtomicReference<String> lastFailure, final Recorder durations, final AtomicLong lastSuccessMillis)
    {
        this.durations = durations;
        this.lastSuccessMillis = lastSuccessMillis;
        this.shard = shard;
        this.store = store;
        this.flushRecords = flushRecords;
        this.writer = writer;
        this.written = written;
        this.skipped = skipped;
        this.failed = failed;
        this.lastFailure = lastFailure;
    }

    /** Encodes the shard's live connections and queues their write; skipped if the last write is still going. */
    void snapshot(final ConnectionTracker tracker, final long packetTimeNanos)
    {
        if (inFlight != null && !inFlight.isDone())
        {
            skipped.incrementAndGet();
            return;
        }
        encode(tracker);
        final int entries = count;
        inFlight = writer.submit(() -> write(entries, packetTimeNanos));
    }

    /**
     * Waits for any write in progress, then encodes and writes the shard's live connections on this thread.
     *
     * @return whether the checkpoint was committed ({@link #lastWriteFlows} connections in it).
     */
    boolean writeNow(final ConnectionTracker tracker, final long packetTimeNanos)
    {
        awaitInFlight();
        encode(tracker);
        committedNow = write(count, packetTimeNanos);
        return committedNow;
    }

    /** Connections in the checkpoint {@link #writeNow} wrote last (worker thread, or any thread after it). */
    int lastWriteFlows()
    {
        return count;
    }

    /** Whether the last {@link #writeNow} committed its checkpoint. */
    boolean lastWriteCommitted()
    {
        return committedNow;
    }

    private void awaitInFlight()
    {
        if (inFlight == null)
        {
            return;
        }
        final Future<?> writing = inFlight;
        Uninterruptibly.await(() ->
        {
            try
            {
                writing.get();
            }
            catch (final ExecutionException e)
            {
                // counted by write itself
            }
        });
        inFlight = null;
    }

    private void encode(final ConnectionTracker tracker)
    {
        final int needed = tracker.activeConnections() * FlowStateCodec.MAX_ENCODED_BYTES;
        if (states.capacity() < needed)
        {
            states = ByteBuffer.allocate(Math.max(needed, states.capacity() * 2));
        }
        states.clear();
        count = 0;
        if (lengths.length < tracker.activeConnections())
        {
            lengths = new int[Math.max(tracker.activeConnections(), lengths.length * 2)];
        }
        tracker.forEachActive(connection -> lengths[count++] = FlowStateCodec.encode(connection, states));
        states.flip();
    }

    private boolean write(final int entries, final long packetTimeNanos)
    {
        try
        {
            final long start = System.nanoTime();
            // Records of connections gone from this snapshot must not sit in a buffer: while the record sink
            // fails they do, and the commit waits for a later checkpoint (skipped, not failed).
            if (!flushRecords.getAsBoolean())
            {
                skipped.incrementAndGet();
                lastFailure.set("checkpoint of shard " + shard + " skipped: the flow-record output is failing");
                return false;
            }
            store.write(shard, entries, FlowStateCodec.MAX_ENCODED_BYTES, packetTimeNanos, this::pushEntries);
            durations.recordValue(Math.min(System.nanoTime() - start, MAX_DURATION_NANOS));
            lastSuccessMillis.set(System.currentTimeMillis());
            written.incrementAndGet();
            return true;
        }
        catch (final IOException | RuntimeException e)
        {
            failed.incrementAndGet();
            lastFailure.set("checkpoint of shard " + shard + " failed: " + e.getMessage());
            return false;
        }
    }

    /** Pushes the encoded states, keyed by their position in this snapshot (unique within the shard). */
    private void pushEntries(final EntrySink sink)
    {
        int position = 0;
        for (int i = 0; i < count; i++)
        {
            sink.accept(i, states.slice(position, lengths[i]));
            position += lengths[i];
        }
    }
}
