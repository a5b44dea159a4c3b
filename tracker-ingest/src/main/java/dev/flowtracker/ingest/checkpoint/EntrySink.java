package dev.flowtracker.ingest.checkpoint;

import java.nio.ByteBuffer;

/**
 * Receives checkpoint entries: one flow state per flow key. On the write side the {@link EntrySource} pushes into
 * the store's sink; on the read side the store pushes into the caller's sink.
 */
@FunctionalInterface
public interface EntrySink
{
    /**
     * @param flowKey the flow's key, unique among the live flows of one shard.
     * @param state   the flow state: the bytes from its position to its limit (0 to a few KB). Only valid during
     *                the call: the buffer is reused for the next entry, so copy what must be kept.
     */
    void accept(long flowKey, ByteBuffer state);
}
