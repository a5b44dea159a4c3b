/**
 * Flow stage: which connection a segment belongs to, where its state lives between segments, and when it ends.
 *
 * <p>What lives here: {@link dev.flowtracker.core.flow.ConnectionTracker} (the stage's entry point: connection
 * identity by tshark's {@code tcp.stream} rules, the Zeek or tshark {@code Lifecycle}, idle and Zeek timers,
 * {@code finish}, checkpoints); the flow tables behind the {@code FlowTable} interface ({@code BoundedFlowTable}
 * for the daemon, with {@link dev.flowtracker.core.flow.FlowLimits}, phases ({@code FlowPhase}), idle lists,
 * emergency timeouts and eviction counted by {@link dev.flowtracker.core.flow.FlowRemoval}; {@code ConnectionTable},
 * unbounded, for offline analysis) and their index ({@code FlowIndex}: each bucket a flow's hash beside its slot);
 * the record store ({@code FlowStateStore} over {@code ChunkMemory}: every
 * connection's whole state as a fixed-size off-heap record, read and written in place); Zeek's timer queue
 * ({@code TimerQueue}, slot numbers);
 * {@link dev.flowtracker.core.flow.FlowHash}; {@link dev.flowtracker.core.flow.FinishOrder}; and
 * {@link dev.flowtracker.core.flow.FlowStateCodec}, a connection's record as checkpoint bytes.
 *
 * <p>The data's path: {@code ConnectionTracker.onSegment(DecodedPacket)} finds the connection's record in its
 * table (by {@code FlowHash}) or makes one, wraps the store's {@link dev.flowtracker.core.tcp.TcpConnection}
 * flyweight around the record, lets {@code dev.flowtracker.core.tcp} work on it in place, reschedules
 * its timers and moves it between phases; at its end (FIN/RST and Zeek's timers, idle timeout, eviction, or
 * {@code finish}) the {@link dev.flowtracker.core.tcp.ConnectionListener} gets the connection, then its slot is freed.
 * No Java object per connection outlives a segment: everything that does (index, idle lists, timer queue) holds slot
 * numbers.
 *
 * <p>Threads: none of its own. A {@code ConnectionTracker} with its table, store, timer queue and counters is owned
 * by one thread (a shard worker in {@code tracker-ingest}, or {@code analyze}'s reading thread);
 * its listener and handshake-RTT observer are called on that thread. {@code FlowHash} and {@code FlowStateCodec}
 * are stateless: any thread.
 *
 * <p>Depends on {@code dev.flowtracker.core.tcp}, {@code dev.flowtracker.core.tcp.zeek} and
 * {@code dev.flowtracker.core.state}; nothing there depends on this package.
 */
package dev.flowtracker.core.flow;
