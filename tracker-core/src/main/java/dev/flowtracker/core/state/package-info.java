/**
 * The bytes of a connection's state: the byte-level primitives that the state classes of
 * {@code dev.flowtracker.core.tcp} and {@code dev.flowtracker.core.tcp.zeek} encode their own fields with, and that
 * {@code dev.flowtracker.core.flow}'s store and checkpoint codec frame. {@link dev.flowtracker.core.state.StateBuffer}
 * is the cursor, {@link dev.flowtracker.core.state.StateFields} the wide (checkpoint) form's field helpers,
 * {@link dev.flowtracker.core.state.CompactWidths} the compact record's widths.
 *
 * <p>A package of its own so that the dependency graph stays acyclic: {@code flow -> tcp -> tcp.zeek -> state}, and
 * {@code flow -> state}, {@code tcp -> state}. It depends on nothing of the tracker's.
 *
 * <p>Threads: a {@code StateBuffer} or {@code CompactWidths} is owned by one thread at a time; {@code StateFields}
 * is stateless.
 */
package dev.flowtracker.core.state;
