package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.EndReason;

/**
 * One ring slot: a decoded frame (primitives only, preallocated with the ring and overwritten in place) plus what
 * the workers should do with it. Written by the source thread before publication, read by the workers after.
 */
public final class PacketEvent
{
    /** The frame held a TCP segment: its shard tracks it, every worker advances time. */
    static final int SEGMENT = 1;
    /** Any other frame: only packet time advances. */
    static final int TIME = 2;
    /** End of input or shutdown: every worker emits its open connections with {@link #endReason}. */
    static final int FINISH = 3;
    /** Every worker snapshots its live connections into its checkpoint. */
    static final int CHECKPOINT = 4;
    /** Nothing to do: ends a batch so that idle workers look at a pending flow query. */
    static final int NUDGE = 5;

    final DecodedPacket packet = new DecodedPacket();
    int kind;
    int shard;
    /**
     * For {@link #FINISH} only: the end reason of the connections still open, or null to keep them open in the
     * final checkpoint instead of writing their records.
     */
    EndReason endReason;
}
