/** The {@code bin/tracker} command line: subcommand dispatch, option parsing, summaries and exit codes. */
package dev.flowtracker.ingest.cli;
