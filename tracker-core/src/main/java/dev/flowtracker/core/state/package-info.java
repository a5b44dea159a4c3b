/**
 * The memory of a connection's state: what the flyweights of {@code dev.flowtracker.core.tcp} and
 * {@code dev.flowtracker.core.tcp.zeek} share. {@link dev.flowtracker.core.state.Flyweight} is their base (where the
 * state is, typed accessors at absolute addresses, bulk zero and copy, the range checks a checkpoint's bytes go
 * through); {@link dev.flowtracker.core.state.StateMemory} holds the value layouts, a flyweight's own memory and the
 * field offsets taken from each class's {@code LAYOUT}.
 *
 * <p>A package of its own so that the dependency graph stays acyclic: {@code flow -> tcp -> tcp.zeek -> state}, and
 * {@code flow -> state}, {@code tcp -> state}. It depends on nothing of the tracker's.
 *
 * <p>Threads: a flyweight is owned by the thread that owns its connection; {@code StateMemory} is stateless.
 */
package dev.flowtracker.core.state;
