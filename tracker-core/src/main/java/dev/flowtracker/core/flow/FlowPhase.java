package dev.flowtracker.core.flow;

import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpState;

/**
 * The coarse phase of a connection that decides how long it may stay idle in a bounded flow table: each phase has
 * its own timeout (see {@link FlowLimits}).
 */
public enum FlowPhase
{
    /** Neither side has reached ESTABLISHED yet: a SYN, perhaps a SYN+ACK, not answered. */
    OPENING("opening"),
    /** Open in at least one direction, including half-closed and connections picked up mid-stream. */
    ESTABLISHED("established"),
    /** Closed by a FIN each way, or reset: only stragglers (retransmitted FINs, late ACKs) are still expected. */
    CLOSED("closed");

    private static final FlowPhase[] VALUES = values();

    private final String label;

    FlowPhase(final String label)
    {
        this.label = label;
    }

    /** The value used in metrics labels and logs. */
    public String label()
    {
        return label;
    }

    static FlowPhase of(final int ordinal)
    {
        return VALUES[ordinal];
    }

    /** The phase a connection is in now, from its end reason and both sides' inferred states. */
    static FlowPhase of(final TcpConnection connection)
    {
        if (connection.endReason() != null)
        {
            return CLOSED;
        }
        return isOpening(connection.a.state()) && isOpening(connection.b.state()) ? OPENING : ESTABLISHED;
    }

    private static boolean isOpening(final TcpState state)
    {
        return state == TcpState.CLOSED || state == TcpState.LISTEN || state == TcpState.SYN_SENT ||
            state == TcpState.SYN_RECEIVED;
    }
}
