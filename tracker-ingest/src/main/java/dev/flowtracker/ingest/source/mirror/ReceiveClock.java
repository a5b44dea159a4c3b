package dev.flowtracker.ingest.source.mirror;

import java.time.Instant;

/**
 * Wall-clock receive timestamps at the cost of {@link System#nanoTime()}: the monotonic clock, anchored to the wall
 * clock and re-anchored every second (so NTP adjustments reach it), and never going backwards on its thread, so a
 * connection's packets keep their order in time. Owned by one delivery thread.
 */
final class ReceiveClock
{
    private static final long REANCHOR_NANOS = 1_000_000_000L;

    private long anchorWallNanos;
    private long anchorMonotonicNanos;
    private long last = Long.MIN_VALUE;

    ReceiveClock()
    {
        anchor(System.nanoTime());
    }

    /** Now, in nanoseconds since the epoch. */
    long nowNanos()
    {
        final long monotonic = System.nanoTime();
        if (monotonic - anchorMonotonicNanos >= REANCHOR_NANOS)
        {
            anchor(monotonic);
        }
        long now = anchorWallNanos + (monotonic - anchorMonotonicNanos);
        if (now < last)
        {
            now = last;
        }
        last = now;
        return now;
    }

    private void anchor(final long monotonic)
    {
        final Instant wall = Instant.now();
        anchorWallNanos = wall.getEpochSecond() * 1_000_000_000L + wall.getNano();
        anchorMonotonicNanos = monotonic;
    }
}
