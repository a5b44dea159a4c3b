package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.wire.IpNetworks;

/**
 * Which connections a flow query wants: every condition given must hold. Addresses are held as the tracker holds
 * them (IPv4 in the low 32 bits of {@code low}, IPv6 as two longs, most significant first). Immutable; built by the
 * HTTP API from a request's parameters and read by the shard workers.
 *
 * @param ended      the recently ended connections ({@link EndedFlows}) instead of the active ones.
 * @param hostVersion 4 or 6 when either endpoint must have the address {@code hostHigh}/{@code hostLow}; 0 for any.
 * @param netVersion 4 or 6 when either endpoint must be in the network {@code netHigh}/{@code netLow} of
 *                   {@code netPrefix} bits; 0 for any.
 * @param port       either endpoint's port, or -1 for any.
 * @param connState  Zeek's conn_state, or null for any.
 * @param flag       a tshark analysis flag counted at least {@code flagMin} times over both directions, or null.
 * @param tap        the tap name records carry, or null for any.
 */
public record FlowFilter(
    boolean ended, int hostVersion, long hostHigh, long hostLow, int netVersion, long netHigh, long netLow,
    int netPrefix, int port, String connState, AnalysisFlag flag, long flagMin, String tap)
{
    /** Every active connection. */
    public static final FlowFilter ACTIVE = new FlowFilter(false, 0, 0, 0, 0, 0, 0, 0, -1, null, null, 0, null);

    /** Whether a connection with these facts is wanted (the tap is checked once per query, see {@link #tapMatches}). */
    boolean matches(final FlowFacts f)
    {
        if (port >= 0 && f.origPort != port && f.respPort != port)
        {
            return false;
        }
        if (hostVersion != 0 && !(hostVersion == f.ipVersion &&
            (f.origHigh == hostHigh && f.origLow == hostLow || f.respHigh == hostHigh && f.respLow == hostLow)))
        {
            return false;
        }
        if (netVersion != 0 && !(
            IpNetworks.contains(netVersion, netHigh, netLow, netPrefix, f.ipVersion, f.origHigh, f.origLow) ||
            IpNetworks.contains(netVersion, netHigh, netLow, netPrefix, f.ipVersion, f.respHigh, f.respLow)))
        {
            return false;
        }
        if (connState != null && !connState.equals(f.connState))
        {
            return false;
        }
        return flag == null || f.flags[flag.ordinal()] >= flagMin;
    }

    /** Whether records named {@code tapName} (null: records carry no tap) are wanted. */
    boolean tapMatches(final String tapName)
    {
        return tap == null || tap.equals(tapName);
    }
}
