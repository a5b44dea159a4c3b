/**
 * The daemon's Prometheus metrics. {@link dev.flowtracker.ingest.metrics.TrackerMetric} is the catalogue: every
 * metric's name, type, unit, help and label names, declared once (docs/metrics.md explains each, and a test keeps
 * the two in step). {@link dev.flowtracker.ingest.metrics.TrackerMetrics} builds the meters from it, each a
 * function of counters that sources and workers keep on their own threads, read on the HTTP server's thread when
 * scraped, so no hot thread ever calls Micrometer.
 */
package dev.flowtracker.ingest.metrics;
