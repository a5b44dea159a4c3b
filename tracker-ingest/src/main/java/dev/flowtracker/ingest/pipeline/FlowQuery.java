package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.output.FlowRecordFormat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.PriorityQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A request for active connections (the HTTP API's {@code /flows}): the top {@code limit} by a sort key, or the one
 * with a given uid. Each worker answers from its own table on its own thread, between ring batches (see
 * {@link Pipeline#query}); the asking thread waits for all of them and merges.
 */
public final class FlowQuery
{
    /** What "top" means. */
    public enum Sort
    {
        /** Retransmitted segments, both directions. */
        RETRANSMISSION,
        /** Payload bytes, both directions. */
        BYTES,
        /** First to last packet. */
        DURATION,
        /** Handshake RTT (connections without one last). */
        RTT;

        /** The sort named {@code name} (lower case, as in the API), or null. */
        public static Sort named(final String name)
        {
            for (final Sort sort : values())
            {
                if (sort.name().toLowerCase(Locale.ROOT).equals(name))
                {
                    return sort;
                }
            }
            return null;
        }

        long key(final TcpConnection c)
        {
            return switch (this)
            {
                case RETRANSMISSION -> c.originator().analysisCount(AnalysisFlag.RETRANSMISSION) +
                    c.responder().analysisCount(AnalysisFlag.RETRANSMISSION);
                case BYTES -> c.originator().payloadBytes() + c.responder().payloadBytes();
                case DURATION -> c.lastTimestampNanos() - c.firstTimestampNanos();
                case RTT -> c.initialRttNanos();
            };
        }
    }

    /** One connection's record and its sort key. */
    private record Match(long key, String record)
    {
    }

    private final Sort sort;
    private final int limit;
    private final String uid;
    private final CountDownLatch answered;
    private final ConcurrentLinkedQueue<Match> matches = new ConcurrentLinkedQueue<>();

    private FlowQuery(final Sort sort, final int limit, final String uid, final int workers)
    {
        this.sort = sort;
        this.limit = limit;
        this.uid = uid;
        this.answered = new CountDownLatch(workers);
    }

    /** The top {@code limit} active connections by {@code sort}, highest first. */
    public static FlowQuery top(final Sort sort, final int limit, final int workers)
    {
        if (limit < 1)
        {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
        return new FlowQuery(sort, limit, null, workers);
    }

    /** The active connection whose uid is {@code uid}. */
    public static FlowQuery byUid(final String uid, final int workers)
    {
        return new FlowQuery(Sort.BYTES, 1, uid, workers);
    }

    /** Answers from one worker's table; on that worker's thread. */
    void answer(final ConnectionTracker tracker, final FlowRecordFormat format)
    {
        try
        {
            // Records are formatted during the visit: each connection is bound to a working object only for its call.
            final PriorityQueue<Match> best = new PriorityQueue<>(Math.min(limit, 1024) + 1,
                Comparator.comparingLong(Match::key));
            tracker.forEachActive(connection ->
            {
                if (uid != null)
                {
                    if (uid.equals(FlowRecordFormat.uid(connection)))
                    {
                        best.add(new Match(sort.key(connection), format.format(connection).toString()));
                    }
                    return;
                }
                final long key = sort.key(connection);
                if (best.size() < limit || key > best.peek().key())
                {
                    best.add(new Match(key, format.format(connection).toString()));
                    if (best.size() > limit)
                    {
                        best.poll();
                    }
                }
            });
            matches.addAll(best);
        }
        finally
        {
            answered.countDown();
        }
    }

    /** Counts a worker that cannot answer (it has stopped) as done with nothing. */
    void skip()
    {
        answered.countDown();
    }

    /**
     * Waits for every worker's answer and returns the records, highest key first; null if the workers did not all
     * answer in time.
     */
    public List<String> await(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        if (!answered.await(timeout, unit))
        {
            return null;
        }
        final List<Match> all = new ArrayList<>(matches);
        all.sort(Comparator.comparingLong(Match::key).reversed());
        final List<String> records = new ArrayList<>(Math.min(limit, all.size()));
        for (int i = 0; i < all.size() && i < limit; i++)
        {
            records.add(all.get(i).record());
        }
        return records;
    }
}
