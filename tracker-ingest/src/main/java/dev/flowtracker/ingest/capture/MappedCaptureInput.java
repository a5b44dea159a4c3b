package dev.flowtracker.ingest.capture;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A whole capture file mapped read-only into memory: packets are read in place, with no copy, and files larger than
 * 2 GiB work because {@link MemorySegment} offsets are longs.
 */
public final class MappedCaptureInput implements CaptureInput
{
    private final Arena arena;
    private final MemorySegment mapped;

    public MappedCaptureInput(final Path file) throws IOException
    {
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
        return position >= 0 && length >= 0 && position + length <= mapped.byteSize() ? position : -1;
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
