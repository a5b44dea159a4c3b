package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.source.FrameSink;

import java.io.IOException;

/**
 * Reads frames from one capture file in order. Owned by the reading thread.
 */
public interface CaptureReader extends AutoCloseable
{
    /**
     * Delivers up to {@code limit} frames to {@code sink}, each in the reader's one {@link
     * dev.flowtracker.ingest.source.FrameDescriptor} (no tunnel, checksums not pending).
     *
     * @return frames delivered; 0 means the file has ended.
     * @throws CaptureFormatException when the file is cut short or corrupt; frames before it were delivered.
     */
    int read(FrameSink sink, int limit) throws IOException;

    /** Progress in file bytes (compressed bytes for compressed files) and the total, -1 when unknown. */
    long progressPosition();

    long progressTotal();

    /** {@link CaptureInput#releaseFailure()} of the file being read: null unless resident memory grows with it. */
    String releaseFailure();

    @Override
    void close() throws IOException;
}
