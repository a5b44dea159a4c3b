/**
 * JMH benchmarks of the tracker's stages, each with a baseline beside it (decode, engine, pipeline), plus mains
 * that measure what JMH cannot (capture rate, mirror receive rate). {@code FlowTableBenchmark} and
 * {@code RingBenchmark} live in the packages whose package-private classes they measure. Sub-packages:
 * {@link dev.flowtracker.bench.capture} makes benchmark captures, {@link dev.flowtracker.bench.harness} runs whole
 * processes side by side ({@code bin/bench compare}). Results and commands: {@code tracker-bench/README.md}.
 */
package dev.flowtracker.bench;
