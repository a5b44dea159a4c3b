/**
 * The bytes of a connection's state: what the flyweights of {@code dev.flowtracker.core.tcp} and
 * {@code dev.flowtracker.core.tcp.zeek} share ({@link dev.flowtracker.core.state.StateMemory}: value layouts, home
 * memory, bulk zero), and the byte-level primitives of the checkpoint form that {@code dev.flowtracker.core.flow}'s
 * codec frames ({@link dev.flowtracker.core.state.StateBuffer}, the cursor, and
 * {@link dev.flowtracker.core.state.StateFields}, the field helpers).
 *
 * <p>A package of its own so that the dependency graph stays acyclic: {@code flow -> tcp -> tcp.zeek -> state}, and
 * {@code flow -> state}, {@code tcp -> state}. It depends on nothing of the tracker's.
 *
 * <p>Threads: a {@code StateBuffer} is owned by one thread at a time; {@code StateFields} and
 * {@code StateMemory} are stateless.
 */
package dev.flowtracker.core.state;
