package dev.flowtracker.ingest.source.file;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A whole capture file mapped read-only into memory: packets are read in place, with no copy, and files larger than
 * 2 GiB work because {@link MemorySegment} offsets are longs.
 *
 * <p>Pages the reader has passed are given back ({@link PageRelease}), so that resident memory holds a few chunks of
 * the file, not all of it. Readers read forward: once they {@link #require} position p, nothing before p is read
 * again, and a frame's bytes are only read during its {@link dev.flowtracker.ingest.source.FrameSink#onFrame} call
 * (ring events hold decoded primitives, never a reference into the mapping). So the bytes before p are free;
 * releasing stops a whole {@link #RELEASE_CHUNK} short of p anyway, and always in whole chunks. Should a read ever
 * land behind that point, it costs a page fault, not a wrong byte: the mapping is shared, so the page cache still
 * holds the file.
 *
 * <pre>
 *   file: | released ......... | kept (one to two chunks) | p: record being read | not yet read ...
 *         0                releasedTo                     p
 * </pre>
 * Owned by the reading thread.
 */
public final class MappedCaptureInput implements CaptureInput
{
    /** Pages are released this many bytes at a time, the newest a chunk behind the reader. */
    public static final long RELEASE_CHUNK = 16L << 20;
    /** Chunks must be whole pages on any page size Linux uses (4 KiB to 64 KiB). */
    private static final long MIN_RELEASE_CHUNK = 1L << 16;

    private final Arena arena;
    private final MemorySegment mapped;
    private final long releaseChunk;
    /** Pages of file bytes before this position have been released (a multiple of the chunk). */
    private long releasedTo;
    /** The reader position at which the next chunk is released. */
    private long nextRelease;
    /** errno memory for madvise, allocated at the first release. */
    private MemorySegment callState;
    /** Why pages are no longer released (releasing stops at the first failure), or null. */
    private String releaseFailure;

    public MappedCaptureInput(final Path file) throws IOException
    {
        this(file, RELEASE_CHUNK);
    }

    /** With chunks of {@code releaseChunk} bytes (a power of two of at least 64 KiB): tests use small ones. */
    MappedCaptureInput(final Path file, final long releaseChunk) throws IOException
    {
        if (releaseChunk < MIN_RELEASE_CHUNK || Long.bitCount(releaseChunk) != 1)
        {
            throw new IllegalArgumentException("release chunk must be a power of two >= 64 KiB: " + releaseChunk);
        }
        this.releaseChunk = releaseChunk;
        this.nextRelease = 2 * releaseChunk;
        arena = Arena.ofShared();
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final long size = channel.size();
            mapped = size == 0 ? MemorySegment.NULL : channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
        }
        catch (final IOException | RuntimeException e)
        {
            arena.close();
            throw e;
        }
    }

    @Override
    public MemorySegment segment()
    {
        return mapped;
    }

    @Override
    public long require(final long position, final int length)
    {
        if (position >= nextRelease)
        {
            releaseBehind(position);
        }
        return position >= 0 && length >= 0 && position + length <= mapped.byteSize() ? position : -1;
    }

    /** Releases whole chunks up to one chunk short of {@code position}: once per chunk read, never per packet. */
    private void releaseBehind(final long position)
    {
        final long to = Math.min((position - releaseChunk) & -releaseChunk, mapped.byteSize() & -releaseChunk);
        if (to <= releasedTo)
        {
            nextRelease = Long.MAX_VALUE; // past the end of the file: no whole chunk is left to release
            return;
        }
        if (callState == null)
        {
            if (!PageRelease.isAvailable())
            {
                stopReleasing(PageRelease.unavailabilityCause());
                return;
            }
            callState = arena.allocate(PageRelease.CALL_STATE);
        }
        final int errno = PageRelease.dontNeed(mapped.asSlice(releasedTo, to - releasedTo), callState);
        if (errno != 0)
        {
            stopReleasing("madvise(MADV_DONTNEED) failed with errno " + errno);
            return;
        }
        releasedTo = to;
        nextRelease = to + 2 * releaseChunk;
    }

    /** Reading goes on as before; only the pages read stay resident, and {@link #releaseFailure} says why. */
    private void stopReleasing(final String cause)
    {
        releaseFailure = cause;
        nextRelease = Long.MAX_VALUE;
    }

    /** File bytes whose pages have been given back so far. */
    public long releasedBytes()
    {
        return releasedTo;
    }

    @Override
    public String releaseFailure()
    {
        return releaseFailure;
    }

    @Override
    public boolean isEndOfInput(final long position)
    {
        return position >= mapped.byteSize();
    }

    @Override
    public long progressPosition(final long position)
    {
        return position;
    }

    @Override
    public long progressTotal()
    {
        return mapped.byteSize();
    }

    @Override
    public void close()
    {
        arena.close();
    }
}
