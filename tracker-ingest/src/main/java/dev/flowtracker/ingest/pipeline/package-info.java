/**
 * The streaming pipeline: one source thread decodes frames straight into preallocated ring events; worker
 * threads each own one shard of the flow space and the connections in it.
 *
 * <pre>
 *   source thread                      LMAX Disruptor ring                  worker threads
 *  +-----------------------+     +-------------------------------+     +----------------------------+
 *  | capture reader        |     | PacketEvent[ring size]        |     | ShardWorker 0: tracker,    |
 *  | decode -> event slot  |---->| (DecodedPacket, kind, shard)  |---->|   owns hash % N == 0       |
 *  | defragment            |     | single producer, preallocated |  +->| ShardWorker 1 ...          |
 *  | offline: wait if full |     |                               |  |  | ShardWorker N-1            |
 *  | live: drop, ring_full |     +-------------------------------+  |  +-------------+--------------+
 *  +-----------------------+        every worker sees every event --+                |
 *                                   (time advances everywhere; a segment            v
 *                                    is tracked only by its shard)        RecordWriter thread (one
 *                                                                          line per finished connection,
 *                                                                          off the workers; rotation)
 * </pre>
 *
 * The shard is {@code FlowHash % workers}: the hash is symmetric, so both directions of a connection land on the
 * same worker and each connection has exactly one writer. No locks on the packet path.
 *
 * <p>Each worker's tracker has a bounded flow table (its share of {@link dev.flowtracker.core.tcp.FlowLimits}):
 * fixed off-heap bookkeeping, pooled connections, idle expiry per phase driven by packet time, emergency timeouts
 * and least-recently-active eviction, every removal counted and emitted.
 */
package dev.flowtracker.ingest.pipeline;
