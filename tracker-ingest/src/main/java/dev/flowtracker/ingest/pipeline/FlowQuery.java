package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.tcp.AnalysisFlag;
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
 * A request for connections (the HTTP API's {@code /flows}): the first {@code limit} of those a {@link FlowFilter}
 * wants, by a sort key in either order, or the one with a given uid. The active connections, or with
 * {@link FlowFilter#ended()} the ones each worker ended most recently ({@link EndedFlows}). Each worker filters and
 * ranks its own connections on its own thread, between ring batches (see {@link Pipeline#query}), and formats only
 * the ones it keeps; the asking thread waits for all of them and merges. What a query allocates (its facts, its
 * heap, the kept records) it allocates once per worker and query, never per packet.
 */
public final class FlowQuery
{
    /** What "first" means. */
    public enum Sort
    {
        /** Retransmitted segments, both directions (a raw count: long bulk flows rank high). */
        RETRANSMISSION,
        /** Retransmitted segments per packet, both directions ({@link FlowFacts#retransmissionPpm}). */
        RETRANSMISSION_RATIO,
        /** Payload bytes, both directions. */
        BYTES,
        /** Packets, both directions. */
        PACKETS,
        /** First to last packet. */
        DURATION,
        /** Handshake RTT (connections without one last). */
        RTT,
        /** Largest data-path ACK RTT sample of either endpoint (connections without samples last). */
        RTT_MAX,
        /** Time of the last packet: the most recently active first (descending). */
        RECENT;

        /** The sort named {@code name} (lower case, as in the API), or null. */
        public static Sort named(final String name)
        {
            for (final Sort sort : values())
            {
                if (sort.label().equals(name))
                {
                    return sort;
                }
            }
            return null;
        }

        /** Its name in the API. */
        public String label()
        {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The key of a connection with {@code f}, or {@link FlowFacts#NONE}. */
        long key(final FlowFacts f)
        {
            return switch (this)
            {
                case RETRANSMISSION -> f.flags[AnalysisFlag.RETRANSMISSION.ordinal()];
                case RETRANSMISSION_RATIO -> f.retransmissionPpm();
                case BYTES -> f.payloadBytes;
                case PACKETS -> f.packets;
                case DURATION -> f.lastNanos - f.firstNanos;
                case RTT -> f.initialRttNanos < 0 ? FlowFacts.NONE : f.initialRttNanos;
                case RTT_MAX -> f.rttMaxNanos < 0 ? FlowFacts.NONE : f.rttMaxNanos;
                case RECENT -> f.lastNanos;
            };
        }
    }

    /** One connection's record and its rank (higher first, whatever the order). */
    private record Match(long rank, String record)
    {
    }

    private static final Comparator<Match> BY_RANK = Comparator.comparingLong(Match::rank);

    private final Sort sort;
    private final boolean descending;
    private final FlowFilter filter;
    private final int limit;
    private final String uid;
    private final CountDownLatch answered;
    private final ConcurrentLinkedQueue<Match> matches = new ConcurrentLinkedQueue<>();

    private FlowQuery(final Sort sort, final boolean descending, final FlowFilter filter, final int limit,
        final String uid, final int workers)
    {
        this.sort = sort;
        this.descending = descending;
        this.filter = filter;
        this.limit = limit;
        this.uid = uid;
        this.answered = new CountDownLatch(workers);
    }

    /** The top {@code limit} active connections by {@code sort}, highest first. */
    public static FlowQuery top(final Sort sort, final int limit, final int workers)
    {
        return top(FlowFilter.ACTIVE, sort, true, limit, workers);
    }

    /**
     * The first {@code limit} connections {@code filter} wants by {@code sort}, highest first when
     * {@code descending}; connections without a key (no RTT, no packet) come last either way.
     */
    public static FlowQuery top(final FlowFilter filter, final Sort sort, final boolean descending, final int limit,
        final int workers)
    {
        if (limit < 1)
        {
            throw new IllegalArgumentException("limit must be at least 1, was " + limit);
        }
        return new FlowQuery(sort, descending, filter, limit, null, workers);
    }

    /** The active or recently ended connection whose uid is {@code uid}. */
    public static FlowQuery byUid(final String uid, final int workers)
    {
        return new FlowQuery(Sort.BYTES, true, FlowFilter.ACTIVE, 1, uid, workers);
    }

    /**
     * Answers from one worker's table and ended records; on that worker's thread ({@code tracker} null once the
     * worker has finished: the ended records only, from any thread).
     */
    void answer(final ConnectionTracker tracker, final EndedFlows ended, final FlowRecordFormat format,
        final String tapName)
    {
        try
        {
            if (uid != null)
            {
                findUid(tracker, ended, format);
                return;
            }
            if (!filter.tapMatches(tapName))
            {
                return;
            }
            final PriorityQueue<Match> best = new PriorityQueue<>(Math.min(limit, 1024) + 1, BY_RANK);
            final FlowFacts facts = new FlowFacts();
            if (filter.ended())
            {
                for (int i = 0; i < ended.size(); i++)
                {
                    final FlowFacts f = ended.facts(i);
                    final long rank = rank(f);
                    if (filter.matches(f) && wanted(best, rank))
                    {
                        keep(best, new Match(rank, ended.record(i)));
                    }
                }
            }
            else if (tracker != null)
            {
                // Records are formatted during the visit: each connection is bound to a working object only for
                // its call.
                tracker.forEachActive(connection ->
                {
                    facts.fill(connection);
                    final long rank = rank(facts);
                    if (filter.matches(facts) && wanted(best, rank))
                    {
                        keep(best, new Match(rank, format.format(connection).toString()));
                    }
                });
            }
            matches.addAll(best);
        }
        finally
        {
            answered.countDown();
        }
    }

    private void findUid(final ConnectionTracker tracker, final EndedFlows ended, final FlowRecordFormat format)
    {
        if (tracker != null)
        {
            tracker.forEachActive(connection ->
            {
                if (uid.equals(FlowRecordFormat.uid(connection)))
                {
                    matches.add(new Match(1, format.format(connection).toString()));
                }
            });
        }
        for (int i = 0; i < ended.size(); i++)
        {
            if (ended.hasUid(i, uid))
            {
                matches.add(new Match(0, ended.record(i)));
                return;
            }
        }
    }

    /** Higher is better in either order; connections without a key rank below all others. */
    private long rank(final FlowFacts f)
    {
        final long key = sort.key(f);
        if (key == FlowFacts.NONE)
        {
            return Long.MIN_VALUE;
        }
        return descending ? key : -key; // keys are not negative, so -key never overflows
    }

    private boolean wanted(final PriorityQueue<Match> best, final long rank)
    {
        return best.size() < limit || rank > best.peek().rank();
    }

    private void keep(final PriorityQueue<Match> best, final Match match)
    {
        best.add(match);
        if (best.size() > limit)
        {
            best.poll();
        }
    }

    /**
     * Waits for every worker's answer and returns the records, first by the query's order first; null if the workers
     * did not all answer in time.
     */
    public List<String> await(final long timeout, final TimeUnit unit) throws InterruptedException
    {
        if (!answered.await(timeout, unit))
        {
            return null;
        }
        final List<Match> all = new ArrayList<>(matches);
        all.sort(BY_RANK.reversed());
        final List<String> records = new ArrayList<>(Math.min(limit, all.size()));
        for (int i = 0; i < all.size() && i < limit; i++)
        {
            records.add(all.get(i).record());
        }
        return records;
    }
}
