package dev.flowtracker.ingest.checkpoint;

/**
 * The live flows of one shard, as the shard's owner hands them to
 * {@link CheckpointStore#write(int, long, int, long, EntrySource)}.
 */
@FunctionalInterface
public interface EntrySource
{
    /**
     * Pushes every entry into the sink, once each, on the calling thread.
     *
     * <p>May be called more than once for one checkpoint: when the entries outgrow the sizing hints the store
     * starts the file again, bigger. Each call must push the same entries, which holds when the shard's owner
     * thread is the one writing (nothing changes its flows meanwhile).
     */
    void forEachEntry(EntrySink sink);
}
