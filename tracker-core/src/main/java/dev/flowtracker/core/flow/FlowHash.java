package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;

/**
 * Symmetric hash of a segment's 4-tuple (and tunnel id): both directions of a connection hash alike, so a
 * connection can be found, and sharded, from either side's packets.
 */
public final class FlowHash
{
    private FlowHash()
    {
    }

    public static int of(final DecodedPacket p)
    {
        final long source = endpoint(p.srcHigh, p.srcLow, p.srcPort);
        final long destination = endpoint(p.dstHigh, p.dstLow, p.dstPort);
        // Addition commutes, so the direction does not matter; the final mix spreads the bits.
        return (int)mix(source + destination + p.tunnelId * 0x9E3779B97F4A7C15L);
    }

    private static long endpoint(final long high, final long low, final int port)
    {
        return mix(high ^ mix(low ^ ((long)port << 48)));
    }

    /** The finaliser of SplitMix64 / MurmurHash3. */
    public static long mix(final long value)
    {
        long z = value;
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}
