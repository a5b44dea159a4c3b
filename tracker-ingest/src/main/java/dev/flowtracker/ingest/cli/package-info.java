/**
 * The {@code bin/tracker} command line: subcommand dispatch, option parsing, summaries and exit codes. {@code analyze}
 * and {@code run} open their record sinks from the options ({@code RecordSinks}) and run on one
 * {@link dev.flowtracker.ingest.runtime.TrackerRuntime}, which starts and stops the parts in one order.
 */
package dev.flowtracker.ingest.cli;
