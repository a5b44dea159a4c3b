package dev.flowtracker.ingest.source.mirror;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * One delivery thread's {@link MirrorCounter}s. Single writer (the delivery thread bumps them with plain reads and
 * release stores, no read-modify-write); any thread may read them, a moment stale.
 */
final class ReceiverCounters
{
    private final AtomicLongArray values = new AtomicLongArray(MirrorCounter.count());

    /** Delivery thread only. */
    void add(final MirrorCounter counter, final long delta)
    {
        final int i = counter.ordinal();
        values.setRelease(i, values.getPlain(i) + delta);
    }

    /** Delivery thread only. */
    void increment(final MirrorCounter counter)
    {
        add(counter, 1);
    }

    /** Any thread. */
    long get(final MirrorCounter counter)
    {
        return values.getAcquire(counter.ordinal());
    }
}
