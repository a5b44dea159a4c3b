package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;

/**
 * What flow queries filter and sort by, copied out of one connection into primitive fields: a live connection's for
 * the length of one visit, an ended connection's for as long as {@link EndedFlows} keeps its record. Reused: filling
 * allocates nothing. Belongs to the thread that fills it (a shard worker).
 */
final class FlowFacts
{
    /** A sort key that is absent (no RTT sample, no packet): ranked after every present one, in either order. */
    static final long NONE = Long.MIN_VALUE;

    private static final AnalysisFlag[] FLAGS = AnalysisFlag.values();

    int ipVersion;
    long origHigh;
    long origLow;
    int origPort;
    long respHigh;
    long respLow;
    int respPort;
    /** Zeek's conn_state (one of its constant names), or null. */
    String connState;
    /** Each tshark analysis counter, summed over both directions, by {@link AnalysisFlag#ordinal()}. */
    final long[] flags = new long[FLAGS.length];
    long packets;
    long payloadBytes;
    long firstNanos;
    long lastNanos;
    long initialRttNanos;
    /** The larger of the endpoints' largest ACK RTT sample, or -1 without samples. */
    long rttMaxNanos;

    /** Copies {@code c}'s facts; on the thread that owns it. */
    void fill(final TcpConnection c)
    {
        final TcpEndpoint orig = c.originator();
        final TcpEndpoint resp = c.responder();
        ipVersion = c.ipVersion();
        origHigh = c.originatorAddressHigh();
        origLow = c.originatorAddressLow();
        origPort = c.originatorPort();
        respHigh = c.responderAddressHigh();
        respLow = c.responderAddressLow();
        respPort = c.responderPort();
        connState = c.zeek().connState();
        for (final AnalysisFlag flag : FLAGS)
        {
            flags[flag.ordinal()] = c.analysisCount(flag);
        }
        packets = orig.packets() + resp.packets();
        payloadBytes = orig.payloadBytes() + resp.payloadBytes();
        firstNanos = c.firstTimestampNanos();
        lastNanos = c.lastTimestampNanos();
        initialRttNanos = c.initialRttNanos();
        rttMaxNanos = Math.max(orig.rttMaxNanos(), resp.rttMaxNanos());
    }

    /**
     * Retransmitted segments (tshark's {@code retransmission}, which includes fast and spurious ones, both directions)
     * per million packets (both directions), or {@link #NONE} without packets.
     */
    long retransmissionPpm()
    {
        if (packets <= 0)
        {
            return NONE;
        }
        return Math.multiplyHigh(flags[AnalysisFlag.RETRANSMISSION.ordinal()], 1_000_000L) != 0 ? Long.MAX_VALUE :
            flags[AnalysisFlag.RETRANSMISSION.ordinal()] * 1_000_000L / packets;
    }
}
