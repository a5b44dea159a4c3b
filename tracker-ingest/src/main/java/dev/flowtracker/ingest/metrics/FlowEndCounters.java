package dev.flowtracker.ingest.metrics;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import org.HdrHistogram.Recorder;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Connection records emitted by one worker: by Zeek conn_state and end reason; by service (the responder's port, as
 * {@link ServicePorts} groups them) their number, payload bytes each way and retransmitted segments; and their
 * durations. The worker counts (single writer, no allocation); metrics read at any time (opaque reads and the
 * recorder's interval histograms, a moment stale).
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
    private final ServicePorts services;
    /** Per service: connections, payload bytes from the originator, from the responder, retransmissions. */
    private final long[] serviceCounts;
    private final Recorder durations = new Recorder(1, MAX_DURATION_NANOS, 2);

    /** Longest duration the histogram tells apart (a week); longer ones count as this. */
    static final long MAX_DURATION_NANOS = 7 * 24 * 3600 * 1_000_000_000L;
    static final int SERVICE_FLOWS = 0;
    static final int SERVICE_ORIG_BYTES = 1;
    static final int SERVICE_RESP_BYTES = 2;
    static final int SERVICE_RETRANSMISSIONS = 3;
    private static final int SERVICE_COUNTERS = 4;

    /** Counters split by the default {@link ServicePorts}. */
    public FlowEndCounters()
    {
        this(ServicePorts.DEFAULTS);
    }

    public FlowEndCounters(final ServicePorts services)
    {
        this.services = services;
        this.serviceCounts = new long[services.size() * SERVICE_COUNTERS];
    }

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
        final int service = services.indexOf(connection.responderPort()) * SERVICE_COUNTERS;
        serviceCounts[service + SERVICE_FLOWS]++;
        serviceCounts[service + SERVICE_ORIG_BYTES] += connection.originator().payloadBytes();
        serviceCounts[service + SERVICE_RESP_BYTES] += connection.responder().payloadBytes();
        serviceCounts[service + SERVICE_RETRANSMISSIONS] += connection.analysisCount(AnalysisFlag.RETRANSMISSION);
        durations.recordValue(Math.clamp(connection.durationNanos(), 1, MAX_DURATION_NANOS));
    }

    /** The services counted apart. */
    ServicePorts services()
    {
        return services;
    }

    /** Counter {@code which} ({@link #SERVICE_FLOWS} ...) of service {@code service} (a {@link ServicePorts} index). */
    long serviceCount(final int service, final int which)
    {
        return (long)LONGS.getOpaque(serviceCounts, service * SERVICE_COUNTERS + which);
    }

    /** Durations of the connections counted, in nanoseconds. */
    Recorder durations()
    {
        return durations;
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
