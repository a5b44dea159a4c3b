package dev.flowtracker.ingest.output;

import java.util.concurrent.atomic.AtomicLongArray;

/**
 * A sink's records not delivered, one count per reason of its {@code E}. Counted by whichever thread gives up on a
 * record (a worker, the sink's own thread, the client's I/O thread); read by metrics and summaries at any time.
 *
 * @param <E> the sink's loss reasons.
 */
public final class LossCounts<E extends Enum<E>>
{
    private final AtomicLongArray counts;

    /** Zero for each of {@code reasons} (the enum's values). */
    public LossCounts(final Class<E> reasons)
    {
        this.counts = new AtomicLongArray(reasons.getEnumConstants().length);
    }

    /** Counts {@code records} more lost for {@code reason}. */
    public void add(final E reason, final long records)
    {
        counts.addAndGet(reason.ordinal(), records);
    }

    /** Records lost for {@code reason}. */
    public long get(final E reason)
    {
        return counts.get(reason.ordinal());
    }

    /** Records lost, all reasons. */
    public long total()
    {
        long total = 0;
        for (int i = 0; i < counts.length(); i++)
        {
            total += counts.get(i);
        }
        return total;
    }
}
