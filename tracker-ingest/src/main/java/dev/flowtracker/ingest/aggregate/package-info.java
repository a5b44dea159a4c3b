/**
 * {@code tracker aggregate}: a Kafka Streams application over the record topic of a fleet of taps. It writes
 * per-minute rollups per (tap, server address, server port) and a cross-tap de-duplicated record stream keyed by
 * community_id (docs/aggregate.md).
 *
 * <pre>
 *  tracker.conn ─► parse (InputRecords; malformed counted, skipped) ─► event time = ts + duration
 *     ├─► key tap|addr|port ─► repartition ─► 1-minute tumbling windows ─► suppress until closed ─► rollup topic
 *     └─► key community_id ─► repartition ─► DedupProcessor (state stores) ─► dedup topic
 * </pre>
 *
 * <p>Threads: Kafka Streams' stream threads run the topology (each task on one thread at a time); the command's
 * thread starts and stops the application; the metrics endpoint answers on its own HTTP thread.
 */
package dev.flowtracker.ingest.aggregate;
