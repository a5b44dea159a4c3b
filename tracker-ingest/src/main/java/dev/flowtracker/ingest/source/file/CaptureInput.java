package dev.flowtracker.ingest.source.file;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * A capture file's bytes seen through a window: {@link #require} makes a range of file positions readable in
 * {@link #segment()} and says where it starts there. A memory-mapped file is one window over everything; a
 * compressed stream is a sliding buffer. Readers keep file positions, so error messages name true offsets. Readers
 * read forward: once they require position p, they read nothing before p again, so an input may drop those bytes
 * (the sliding buffer does; a mapped file gives their pages back to the system).
 *
 * <p>Owned by the reading thread.
 */
public interface CaptureInput extends AutoCloseable
{
    /** The memory the offsets returned by {@link #require} point into; may change after each call. */
    MemorySegment segment();

    /**
     * Makes {@code length} bytes at file position {@code position} readable.
     *
     * @return the offset of {@code position} in {@link #segment()}, or -1 when the file ends before
     *         {@code position + length}.
     */
    long require(long position, int length) throws IOException;

    /** Whether the file has no byte at {@code position}. */
    boolean isEndOfInput(long position) throws IOException;

    /** Bytes consumed so far, in compressed units when compressed (for progress), and the total if known, else -1. */
    long progressPosition(long position);

    long progressTotal();

    /**
     * Why bytes already read could not be given back to the system, or null: they then stay resident until the file
     * is closed; what is read is the same either way.
     */
    default String releaseFailure()
    {
        return null;
    }

    @Override
    void close() throws IOException;
}
