/**
 * The side-by-side harness behind {@code bin/bench compare}: whole processes of our {@code tracker analyze} and
 * of tshark, tcptrace, argus and {@code tcpdump -w /dev/null} (the bare libpcap read loop) on the same capture in
 * the same session, several rounds interleaved tool by tool, wall time and peak RSS from GNU time, medians and
 * spreads, packets per second and ratios to ours; the flow-state footprint per tracked flow
 * ({@link dev.flowtracker.bench.harness.FlowFootprint}); a JFR profile of our run when a target is missed; and a
 * dated results section written into {@code tracker-bench/README.md}. For a scenario ({@code --scenario
 * shortconn}) also the in-process pipeline with one worker on the same capture
 * ({@link dev.flowtracker.bench.harness.InProcessPipeline}, JMH) and, across concurrencies, a side-by-side table
 * ({@link dev.flowtracker.bench.harness.ConcurrencySummary}). Runs on one thread of its own; everything measured
 * runs in child processes.
 */
package dev.flowtracker.bench.harness;
