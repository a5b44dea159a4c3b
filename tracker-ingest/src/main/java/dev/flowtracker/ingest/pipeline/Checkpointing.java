package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.util.function.BooleanSupplier;

/**
 * How a pipeline checkpoints its live connections: into {@code store}, every {@code intervalNanos} of wall-clock
 * time (0: only at the end), restoring what the store holds when the pipeline starts. At a shutdown the open
 * connections are checkpointed instead of written as records, so a restarted daemon continues them; at the end of
 * input too when {@code checkpointAtEnd} (a capture split across files), otherwise they are written and the
 * checkpoints emptied.
 *
 * <p>{@code flushRecords} runs before each checkpoint is committed (on the checkpoint thread): records of
 * connections that ended before the snapshot must be out of the process's buffers by then, or a kill after the
 * commit would lose them (they are in neither the output nor the checkpoint). It answers false when it could not
 * (the sink is failing and holds them in memory); that commit is then skipped.
 */
public record Checkpointing(CheckpointStore store, long intervalNanos, boolean checkpointAtEnd,
    BooleanSupplier flushRecords)
{
    public Checkpointing
    {
        if (store == null)
        {
            throw new IllegalArgumentException("a checkpoint store is required");
        }
        if (flushRecords == null)
        {
            throw new IllegalArgumentException(
                "a record flush is required (always true when records are not buffered)");
        }
        if (intervalNanos < 0)
        {
            throw new IllegalArgumentException("checkpoint interval must not be negative, was " + intervalNanos);
        }
    }
}
