/**
 * Benchmark captures made on demand, never checked in: {@link dev.flowtracker.bench.capture.CaptureMultiplier}
 * scales a small real capture to K interleaved copies (each in its own address block and time offset, checksums
 * updated), {@link dev.flowtracker.bench.capture.SyntheticCapture} writes the extremes a real capture rarely has
 * (millions of concurrent flows, bulk flows across the 32-bit sequence wrap, SYN floods), and
 * {@link dev.flowtracker.bench.capture.ShortConnections} many complete short connections at a bounded concurrency.
 * Both stream their output through {@link dev.flowtracker.bench.capture.PcapWriter} and are deterministic: the same
 * arguments give the same bytes. Single-threaded command-line tools; nothing here runs inside the tracker.
 *
 * <p>Checksums are computed here by {@link dev.flowtracker.bench.capture.InternetChecksum}, not by the tracker's
 * own code, so that the tracker verifying them is a real cross-check.
 */
package dev.flowtracker.bench.capture;
