/**
 * TCP stage: connection identity (tshark's {@code tcp.stream} rules: 4-tuple, SYN with a new ISN starts a new
 * connection), per-endpoint counters and inferred RFC 793 states, and the decision of which side originated the
 * connection. A {@link dev.flowtracker.core.tcp.ConnectionTracker} is owned by one thread.
 */
package dev.flowtracker.core.tcp;
