/**
 * One run of the tracker, shared by {@code analyze} and {@code run}, without the command line: {@link
 * dev.flowtracker.ingest.runtime.TrackerRuntime} holds the record sinks, the pipeline and its checkpoint store, the
 * sources, the metrics and HTTP server and the stop signals, and stops them in one order;
 * {@link dev.flowtracker.ingest.runtime.StopSignals} turns SIGTERM and SIGINT into that orderly stop. The commands
 * ({@link dev.flowtracker.ingest.cli}) open the sinks from their options and say what happened; nothing here knows an
 * option, a message's wording beyond {@code tracker <command>:}, or an exit status.
 */
package dev.flowtracker.ingest.runtime;
