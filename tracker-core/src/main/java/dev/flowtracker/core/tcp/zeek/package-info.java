/**
 * Zeek's session emulation: the {@code conn.log} view of one connection (conn_state, history, missed bytes, orig and
 * resp sides), split along the seams of Zeek's own TCP analyzer.
 *
 * <p>What lives here: {@link dev.flowtracker.core.tcp.zeek.ZeekSummary} (the session: who originated it, its
 * start, its lifecycle; its own fields in {@code ZeekSummaryFields}), {@code ZeekEndpoint} (one side's TCP analyzer
 * state), {@code ZeekStateMachine} (the endpoint state transitions), {@code ZeekHistory} (the history letters),
 * {@code ZeekTimers} (attempt, delete, inactivity and close timers), {@code ZeekContentGaps} (reassembly and
 * missed bytes), {@code ZeekConnState} (conn_state) and {@link dev.flowtracker.core.tcp.zeek.ZeekOptions}
 * (configuration shared by a tracker). The state classes are flyweights over the Zeek part of a flow's off-heap
 * record, each declaring its fields once in a {@code LAYOUT}.
 *
 * <p>The data's path: {@code dev.flowtracker.core.tcp.TcpConnection.onSegment} passes each segment to
 * {@code ZeekSummary.onPacket}; {@code dev.flowtracker.core.flow.ConnectionTracker} fires its due timers
 * ({@code nextTimerNanos}, {@code fireNextTimer}) by packet time and asks it whether a new SYN reuses the connection.
 *
 * <p>{@code ZeekSummary} and its parts (history, timers, state machine) are flyweights: their fields live in one
 * region of memory, read and written in place; the endpoints are still objects of their own.
 *
 * <p>Threads: none of its own. A {@code ZeekSummary} and its parts belong to the connection that holds them, owned by
 * the tracker's thread; {@code ZeekOptions} is immutable.
 *
 * <p>Depends only on {@code dev.flowtracker.core.state} (and {@code decode}); nothing in {@code tcp} or
 * {@code flow}.
 */
package dev.flowtracker.core.tcp.zeek;
