/**
 * Offline analysis on one thread, the reference the tests and a benchmark compare the streaming pipeline with:
 * capture reader, decode stage ({@link dev.flowtracker.ingest.decode}) and connection tracker wired in sequence.
 */
package dev.flowtracker.ingest.analyze;
