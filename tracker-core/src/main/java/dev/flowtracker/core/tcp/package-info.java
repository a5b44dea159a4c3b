/**
 * TCP stage: connection identity (tshark's {@code tcp.stream} rules: 4-tuple, SYN with a new ISN starts a new
 * connection), per-endpoint counters and inferred RFC 793 states, tshark's analysis flags, Zeek's view of each
 * connection, and the decision of which side originated it.
 *
 * <p>Flow tables ({@link dev.flowtracker.core.tcp.BoundedFlowTable} for the daemon, {@code ConnectionTable} for
 * offline analysis) keep no Java object per connection: each connection's whole engine state is a fixed-size
 * off-heap record in a {@code FlowStateStore} (the checkpoint codec's body), and the engine runs on a fixed working
 * set of {@link dev.flowtracker.core.tcp.TcpConnection} objects bound to connections as their segments arrive.
 * Everything that outlives one segment (index, idle lists, Zeek's timer queue) holds slot numbers.
 *
 * <p>A {@link dev.flowtracker.core.tcp.ConnectionTracker} is owned by one thread.
 */
package dev.flowtracker.core.tcp;
