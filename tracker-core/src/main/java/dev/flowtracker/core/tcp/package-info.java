/**
 * TCP analysis stage: what one connection's segments say, per direction, as tshark and RFC 793 see it.
 *
 * <p>What lives here: {@link dev.flowtracker.core.tcp.TcpConnection} (one connection's identity, times and end
 * reason, and which side originated it) with its two {@code TcpEndpoint}s (per-direction counters, sequence state,
 * RTTs; flyweights over memory laid out by {@code EndpointLayout}); {@code SequenceAnalysis}, tshark's analysis flags
 * ({@code AnalysisFlag}); the inferred RFC 793 states ({@code TcpState}, {@code EndpointStates}),
 * {@code EndpointExtras}, {@code SecuritySignal}s, the tracker-wide {@code TrafficCounters}; the vocabulary of a
 * connection's end ({@code EndReason}, {@code Lifecycle}, {@code ConnectionListener}). The state classes are
 * flyweights over a flow's off-heap record: each declares its fields once in a {@code LAYOUT}
 * ({@code ConnectionFields} for the connection's own, {@code EndpointLayout} for an endpoint's), drawn in javadoc.
 *
 * <p>The data's path: {@code dev.flowtracker.core.flow.ConnectionTracker} hands each segment to the bound
 * {@code TcpConnection.onSegment}, which updates the sending endpoint (counters, sequence analysis, RTTs, states)
 * and passes the segment on to the connection's {@code dev.flowtracker.core.tcp.zeek.ZeekSummary}. Each state class
 * encodes its own fields ({@code encode}/{@code decode} beside them, through {@code dev.flowtracker.core.state}).
 *
 * <p>Threads: none of its own. A {@code TcpConnection} flyweight, and {@code TrafficCounters}, belong to the
 * thread that owns the tracker; enums are immutable.
 *
 * <p>Depends on {@code dev.flowtracker.core.tcp.zeek} and {@code dev.flowtracker.core.state}, never on
 * {@code dev.flowtracker.core.flow}.
 */
package dev.flowtracker.core.tcp;
