package dev.flowtracker.ingest.source.afpacket;

/**
 * A capture socket's {@code PACKET_STATISTICS} ({@code struct tpacket_stats_v3}), totalled since it opened (the
 * kernel resets its own counters on every read).
 *
 * @param packets packets the socket received after its filter, the dropped ones included.
 * @param drops   packets lost because the ring was full (the reader fell behind).
 * @param freezes times the kernel froze the ring's queue because no block was free.
 */
public record KernelStats(long packets, long drops, long freezes)
{
    public static final KernelStats ZERO = new KernelStats(0, 0, 0);

    public KernelStats plus(final KernelStats other)
    {
        return new KernelStats(packets + other.packets, drops + other.drops, freezes + other.freezes);
    }
}
