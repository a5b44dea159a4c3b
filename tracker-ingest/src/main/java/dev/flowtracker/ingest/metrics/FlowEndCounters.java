package dev.flowtracker.ingest.metrics;

import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Connection records emitted by one worker, by Zeek conn_state and end reason. The worker counts (single writer,
 * no allocation); metrics read at any time (opaque reads, a moment stale).
 */
public final class FlowEndCounters
{
    /** conn_state values in label order; {@code none} for a connection Zeek's rules never created. */
    static final String[] CONN_STATES =
        {"S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH", "none"};
    private static final int NONE = CONN_STATES.length - 1;
    private static final EndReason[] END_REASONS = EndReason.values();
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final long[] counts = new long[CONN_STATES.length * END_REASONS.length];

    /** Counts one ended connection; on the worker's thread. */
    public void count(final TcpConnection connection)
    {
        final EndReason reason = connection.endReason();
        if (reason == null)
        {
            return;
        }
        final int state = index(connection.zeek().connState());
        counts[state * END_REASONS.length + reason.ordinal()]++;
    }

    long count(final int connState, final EndReason reason)
    {
        return (long)LONGS.getOpaque(counts, connState * END_REASONS.length + reason.ordinal());
    }

    private static int index(final String connState)
    {
        if (connState == null)
        {
            return NONE;
        }
        for (int i = 0; i < NONE; i++)
        {
            if (CONN_STATES[i].equals(connState))
            {
                return i;
            }
        }
        return NONE;
    }
}
