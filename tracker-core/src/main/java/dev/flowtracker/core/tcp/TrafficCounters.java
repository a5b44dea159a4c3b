package dev.flowtracker.core.tcp;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * What one {@link dev.flowtracker.core.flow.ConnectionTracker} has seen so far, counted as segments are tracked (not
 * when connections end): segments, tshark analysis flags and security signals by direction, and the RFC 793 states of
 * the endpoints of the connections it holds now. For metrics.
 *
 * <p>Single writer: the tracker's thread bumps plain array elements. Any thread may read at any time through the
 * accessors (opaque reads: never torn, at most a moment stale). Direction is relative to each connection's
 * originator: {@link #ORIG} for segments the originator sent, {@link #RESP} for the responder's.
 */
public final class TrafficCounters
{
    public static final int ORIG = 0;
    public static final int RESP = 1;
    /** Public for {@code dev.flowtracker.core.flow}. */
    public static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);
    private static final int STATES = TcpState.values().length;

    final long[] segments = new long[2];
    /** TCP payload bytes (as the IP header gives them, captured or not), by direction. */
    final long[] payloadBytes = new long[2];
    final long[] analysisEvents = new long[2 * AnalysisFlag.count()];
    final long[] securityEvents = new long[2 * SecuritySignal.count()];
    /** Endpoints of the connections held now, by side and state: up and down as states change. */
    final long[] endpointStates = new long[2 * STATES];
    /** Public for {@code dev.flowtracker.core.flow}. */
    public long handshakeRttSamples;

    /** Segments tracked from {@code direction}'s side. */
    public long segments(final int direction)
    {
        return read(segments, direction);
    }

    /** TCP payload bytes sent from {@code direction}'s side (on the wire, whether captured in full or not). */
    public long payloadBytes(final int direction)
    {
        return read(payloadBytes, direction);
    }

    /** Segments from {@code direction}'s side that carried {@code flag}. */
    public long analysisEvents(final AnalysisFlag flag, final int direction)
    {
        return read(analysisEvents, direction * AnalysisFlag.count() + flag.ordinal());
    }

    public long securityEvents(final SecuritySignal signal, final int direction)
    {
        return read(securityEvents, direction * SecuritySignal.count() + signal.ordinal());
    }

    /** Endpoints on {@code side} ({@link #ORIG} or {@link #RESP}) of the connections held now, in {@code state}. */
    public long endpoints(final int side, final TcpState state)
    {
        return read(endpointStates, side * STATES + state.ordinal());
    }

    private static long read(final long[] counters, final int index)
    {
        return (long)LONGS.getOpaque(counters, index);
    }

    /**
     * Adds a connection that starts holding: both endpoints enter their current states.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void hold(final TcpConnection connection)
    {
        endpointStates[connection.originator().state().ordinal()]++;
        endpointStates[STATES + connection.responder().state().ordinal()]++;
    }

    /**
     * A held connection leaves: its endpoints' states no longer count.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void release(final TcpConnection connection)
    {
        endpointStates[connection.originator().state().ordinal()]--;
        endpointStates[STATES + connection.responder().state().ordinal()]--;
    }

    /**
     * Moves the state counts of a connection whose endpoints were in {@code origBefore}/{@code respBefore} (by
     * ordinal, before its latest segment) to their states now.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void moveStates(final TcpConnection connection, final int origBefore, final int respBefore)
    {
        final int origNow = connection.originator().state().ordinal();
        final int respNow = connection.responder().state().ordinal();
        if (origNow != origBefore || respNow != respBefore)
        {
            endpointStates[origBefore]--;
            endpointStates[STATES + respBefore]--;
            endpointStates[origNow]++;
            endpointStates[STATES + respNow]++;
        }
    }

    /**
     * Counts one tracked segment from {@code direction} with {@code payload} bytes that carried the analysis
     * {@code flags} bit set.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void onSegment(final int direction, final int flags, final int payload)
    {
        segments[direction]++;
        payloadBytes[direction] += payload;
        int remaining = flags;
        final int base = direction * AnalysisFlag.count();
        while (remaining != 0)
        {
            analysisEvents[base + Integer.numberOfTrailingZeros(remaining)]++;
            remaining &= remaining - 1;
        }
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public void onSecurityEvents(final int direction, final SecuritySignal signal, final long added)
    {
        securityEvents[direction * SecuritySignal.count() + signal.ordinal()] += added;
    }
}
