package dev.flowtracker.ingest.aggregate;

import java.io.PrintStream;
import java.util.concurrent.atomic.LongAdder;

/**
 * The application's own counts, bumped by every stream thread and read by the metrics endpoint: records read,
 * interim records left out, malformed records skipped (by reason), rollup rows and de-duplicated records written,
 * duplicate sightings merged. A malformed record costs one line on stderr, never a stack trace: the first of each
 * reason, then one at each power of ten, so a topic full of garbage cannot flood the log. Thread-safe.
 */
public final class AggregateCounters
{
    private final LongAdder read = new LongAdder();
    private final LongAdder interim = new LongAdder();
    private final LongAdder[] malformed = new LongAdder[MalformedReason.values().length];
    private final LongAdder rollupsWritten = new LongAdder();
    private final LongAdder dedupWritten = new LongAdder();
    private final LongAdder duplicates = new LongAdder();
    private final PrintStream log;

    /** Counters that log malformed records to {@code log} (null: silent). */
    public AggregateCounters(final PrintStream log)
    {
        this.log = log;
        for (int i = 0; i < malformed.length; i++)
        {
            malformed[i] = new LongAdder();
        }
    }

    /** Counts a message read; true when it is a final flow record, else it is counted as interim or malformed. */
    boolean accept(final InputRecord record, final String topic)
    {
        read.increment();
        if (record instanceof InputRecord.Interim)
        {
            interim.increment();
            return false;
        }
        if (record instanceof InputRecord.Malformed bad)
        {
            final LongAdder counter = malformed[bad.reason().ordinal()];
            counter.increment();
            final long count = counter.sum();
            if (log != null && isPowerOfTen(count))
            {
                log.println("tracker aggregate: skipping a malformed record on " + topic + " (" +
                    bad.reason().label() + "; " + count + " so far)");
            }
            return false;
        }
        return true;
    }

    void countRollupWritten()
    {
        rollupsWritten.increment();
    }

    void countDedupWritten()
    {
        dedupWritten.increment();
    }

    void countDuplicate()
    {
        duplicates.increment();
    }

    /** Messages read from the record topic, malformed ones included. */
    public long read()
    {
        return read.sum();
    }

    /** Interim records left out. */
    public long interim()
    {
        return interim.sum();
    }

    /** Malformed messages skipped for {@code reason}. */
    public long malformed(final MalformedReason reason)
    {
        return malformed[reason.ordinal()].sum();
    }

    /** Rollup rows written. */
    public long rollupsWritten()
    {
        return rollupsWritten.sum();
    }

    /** De-duplicated records written. */
    public long dedupWritten()
    {
        return dedupWritten.sum();
    }

    /** Sightings merged into a record another tap had already given. */
    public long duplicates()
    {
        return duplicates.sum();
    }

    private static boolean isPowerOfTen(final long count)
    {
        long power = 1;
        while (power < count && power <= Long.MAX_VALUE / 10)
        {
            power *= 10;
        }
        return power == count;
    }
}
