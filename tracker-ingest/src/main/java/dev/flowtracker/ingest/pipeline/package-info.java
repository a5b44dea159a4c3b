/**
 * The streaming pipeline: each source delivery thread decodes frames straight into preallocated ring events
 * through its own {@code SourcePort}; worker threads each own one shard of the flow space and the connections in
 * it.
 *
 * <pre>
 *   source delivery threads            LMAX Disruptor ring                  worker threads
 *  +-----------------------+     +-------------------------------+     +----------------------------+
 *  | pcap replay / AF_PACKET|    | PacketEvent[ring size]        |     | ShardWorker 0: tracker,    |
 *  | socket / VXLAN channel|     | (DecodedPacket, kind, shard)  |---->|   owns hash % N == 0       |
 *  | SourcePort i: decode, |---->| multi-producer, preallocated  |  +->| ShardWorker 1 ...          |
 *  |  defragment, publish  |     |                               |  |  | ShardWorker N-1            |
 *  | replay: wait if full  |     +-------------------------------+  |  +------+-------------+-------+
 *  | live: drop, ring_full |        ^  every worker sees every event-+         |             |
 *  +-----------------------+        |  (time advances everywhere; a          v             v
 *  clock thread (live only): -------+   segment is tracked only by   RecordWriter      flow queries
 *   wall-clock TIME events,            its shard)                     thread (records,  (HTTP /flows,
 *   periodic CHECKPOINT                                               rotation)         between batches)
 * </pre>
 *
 * The shard is {@code FlowHash % workers}: the hash is symmetric, so both directions of a connection land on the
 * same worker and each connection has exactly one writer. No locks on the packet path; publishing claims a slot
 * with one CAS (several producers). {@code analyze} builds {@link dev.flowtracker.ingest.pipeline.Pipeline#offline}:
 * one reading thread is the only producer (a claim is a plain increment) and publishes its events in batches, so
 * the workers are woken once per batch rather than once per frame.
 *
 * <p>Each worker's tracker has a bounded flow table (its share of {@link dev.flowtracker.core.flow.FlowLimits}):
 * every connection's state in a fixed-size off-heap record read in place (no connection object on the heap),
 * idle expiry per phase driven by packet time (and by the clock's
 * wall time for live sources), emergency timeouts and least-recently-active eviction, every removal counted and
 * emitted. Workers keep their counters themselves; metrics read them when scraped.
 */
package dev.flowtracker.ingest.pipeline;
