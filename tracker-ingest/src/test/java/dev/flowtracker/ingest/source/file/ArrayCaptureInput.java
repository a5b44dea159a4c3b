package dev.flowtracker.ingest.source.file;

import java.lang.foreign.MemorySegment;

/**
 * A capture file's bytes held in an array, seen exactly as {@link MappedCaptureInput} sees a mapped file: one window
 * over everything. Lets fuzz targets read thousands of files a second without touching the disk.
 */
final class ArrayCaptureInput implements CaptureInput
{
    private final MemorySegment bytes;

    ArrayCaptureInput(final byte[] bytes)
    {
        this.bytes = MemorySegment.ofArray(bytes);
    }

    @Override
    public MemorySegment segment()
    {
        return bytes;
    }

    @Override
    public long require(final long position, final int length)
    {
        return position >= 0 && length >= 0 && position + length <= bytes.byteSize() ? position : -1;
    }

    @Override
    public boolean isEndOfInput(final long position)
    {
        return position >= bytes.byteSize();
    }

    @Override
    public long progressPosition(final long position)
    {
        return position;
    }

    @Override
    public long progressTotal()
    {
        return bytes.byteSize();
    }

    @Override
    public void close()
    {
    }
}
