/**
 * Offline analysis on one thread: capture reader, decoder and connection tracker wired in sequence, with the
 * run's counters. The streaming pipeline (ring and sharded workers) reuses the same stages.
 */
package dev.flowtracker.ingest.analyze;
