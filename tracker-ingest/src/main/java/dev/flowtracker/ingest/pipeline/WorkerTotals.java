package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.tcp.TrafficCounters;

import java.util.function.ToLongFunction;

/**
 * The shard workers' counts, summed over all workers: what metrics, HTTP and the command summaries report. Every
 * total goes through the one loop in {@link #sum}.
 *
 * <p>Holds no state of its own: the counts belong to the worker threads. Totals documented "any thread" may be read
 * while the pipeline runs (a moment stale, as at scrape time); the others after {@link Pipeline#finish}.
 */
public final class WorkerTotals
{
    private final ShardWorker[] workers;

    WorkerTotals(final ShardWorker[] workers)
    {
        this.workers = workers;
    }

    /** {@code read} of every worker, added up. */
    long sum(final ToLongFunction<ShardWorker> read)
    {
        long total = 0;
        for (final ShardWorker worker : workers)
        {
            total += read.applyAsLong(worker);
        }
        return total;
    }

    /** One traffic counter of every worker, added up; any thread. */
    public long traffic(final ToLongFunction<TrafficCounters> read)
    {
        return sum(worker -> read.applyAsLong(worker.tracker().counters()));
    }

    /** Segments tracked, all workers; any thread (a moment stale). */
    public long segments()
    {
        return sum(ShardWorker::segments);
    }

    /** Segments worker {@code worker} has tracked; any thread (a moment stale). */
    public long segments(final int worker)
    {
        return workers[worker].segments();
    }

    /** Segments tracked by each worker; read after {@link Pipeline#finish}. */
    public long[] segmentsPerWorker()
    {
        final long[] segments = new long[workers.length];
        for (int i = 0; i < workers.length; i++)
        {
            segments[i] = workers[i].segments();
        }
        return segments;
    }

    /** Connections held now in {@code phase}, all workers; any thread (a moment stale). */
    public long activeConnections(final FlowPhase phase)
    {
        return sum(worker -> worker.tracker().activeConnections(phase));
    }

    /** Connections created so far, all workers (restored ones included); any thread (a moment stale). */
    public long connectionsCreated()
    {
        return sum(worker -> worker.tracker().connectionsCreated());
    }

    /** Interim records emitted so far, all workers; any thread (a moment stale). */
    public long interimRecords()
    {
        return sum(worker -> worker.tracker().interimRecords());
    }

    /** Workers whose flow table is in emergency mode now; any thread (a moment stale). */
    public int workersInEmergency()
    {
        return (int)sum(worker -> worker.tracker().inEmergency() ? 1 : 0);
    }

    /** Off-heap bytes of all flow tables (index, bookkeeping, connection records committed so far, timers). */
    public long flowTableOffHeapBytes()
    {
        return sum(worker -> worker.tracker().flowTableOffHeapBytes());
    }


    /** Connections the workers' flow tables removed for {@code removal} in {@code phase}; read after finish. */
    public long flowsRemoved(final FlowRemoval removal, final FlowPhase phase)
    {
        return sum(worker -> worker.tracker().removed(removal, phase));
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
        return sum(worker -> worker.tracker().emergencyEntries());
    }

    /** Packets at which a worker deferred due Zeek timers past the per-packet cap; read after finish. */
    public long timerCapHits()
    {
        return sum(worker -> worker.tracker().timerCapHits());
    }
}
