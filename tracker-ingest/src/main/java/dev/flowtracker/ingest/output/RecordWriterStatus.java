package dev.flowtracker.ingest.output;

import dev.flowtracker.ingest.output.RecordWriter.LossReason;

import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What a {@link RecordWriter}'s writer thread publishes to everyone else: records written and lost (by
 * {@link LossReason}), the backlog's size, sink failures and rotations, the first error, and whether the sink is
 * failing or its reader has left. It exists so that the few fields other threads may read are in one place, apart
 * from the writer thread's own state, and so that every record is accounted for: written, lost for a reason, or
 * dropped because nobody reads.
 *
 * <p>Threads: changed by the writer thread only; read from any thread (metrics, summaries, tests).
 */
final class RecordWriterStatus
{
    private final AtomicLong written = new AtomicLong();
    private final LossCounts<LossReason> lost = new LossCounts<>(LossReason.class);
    private final AtomicLong backlogRecords = new AtomicLong();
    private final AtomicLong backlogBytes = new AtomicLong();
    private final AtomicLong rotations = new AtomicLong();
    private final AtomicLong sinkFailures = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private volatile boolean failing;
    private volatile boolean readerLeft;

    long written()
    {
        return written.get();
    }

    long lost()
    {
        return lost.total();
    }

    long lost(final LossReason reason)
    {
        return lost.get(reason);
    }

    long backlogRecords()
    {
        return backlogRecords.get();
    }

    long backlogBytes()
    {
        return backlogBytes.get();
    }

    long rotations()
    {
        return rotations.get();
    }

    long sinkFailures()
    {
        return sinkFailures.get();
    }

    String failure()
    {
        return failure.get();
    }

    boolean failing()
    {
        return failing;
    }

    boolean readerLeft()
    {
        return readerLeft;
    }

    /** A record (not a header) entered the backlog. */
    void entered(final int bytes)
    {
        backlogRecords.incrementAndGet();
        backlogBytes.addAndGet(bytes);
    }

    /** A header entered the backlog: its bytes count, it is no record. */
    void headerEntered(final int bytes)
    {
        backlogBytes.addAndGet(bytes);
    }

    /** The sink took {@code bytes} of the backlog: it works again. */
    void wrote(final long bytes)
    {
        failing = false;
        backlogBytes.addAndGet(-bytes);
    }

    /** A record left the backlog, whole, into the sink. */
    void recordWritten()
    {
        backlogRecords.decrementAndGet();
        written.incrementAndGet();
    }

    void lost(final LossReason reason, final long records)
    {
        lost.add(reason, records);
    }

    /** The backlog is empty (dropped, written out or lost). */
    void backlogCleared()
    {
        backlogRecords.set(0);
        backlogBytes.set(0);
    }

    /** A write attempt failed: counted, and its reason kept when it is the first error. */
    void failed(final String why)
    {
        failing = true;
        sinkFailures.incrementAndGet();
        failure.compareAndSet(null, why);
    }

    /** At close: the sink is failing when records were still waiting. */
    void failingAtClose(final boolean recordsLeft)
    {
        failing = failing || recordsLeft;
    }

    /** An error that is no failed write (closing, rotating, cutting a fragment): kept when it is the first. */
    void error(final String why)
    {
        failure.compareAndSet(null, why);
    }

    void rotated()
    {
        rotations.incrementAndGet();
    }

    /** The stream's reader went away: nothing fails any more, nothing is read either. */
    void leftByReader()
    {
        readerLeft = true;
        failing = false;
    }
}
