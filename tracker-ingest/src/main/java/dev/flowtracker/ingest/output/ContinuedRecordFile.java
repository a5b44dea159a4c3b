package dev.flowtracker.ingest.output;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.TimeUnit;

/**
 * A record file an earlier run left, opened to be continued (a daemon's output must survive its restarts) and
 * repaired first: a last line without its newline is the torn fragment of a record a killed process did not finish,
 * and is cut off so every line stays a whole record. It exists to keep that repair, and what rotation needs to know
 * of the file (its size and age), out of the writer thread's way: it all happens before the writer thread starts.
 *
 * <p>Threads: the thread that opens the {@link RecordWriter} ({@link RecordWriter#continuing}); immutable after.
 *
 * @param channel      the file, open for writing, positioned at its end.
 * @param tornBytesCut bytes of a torn last line cut off (0 when the file ended with a newline or was new).
 * @param size         the bytes kept, whole records.
 * @param ageNanos     how long ago the file was created, for age rotation; 0 when it is new or unknown.
 */
record ContinuedRecordFile(FileChannel channel, long tornBytesCut, long size, long ageNanos)
{
    /**
     * Opens {@code file}, creating it if needed, and cuts a torn last line off it.
     *
     * @throws IOException when the file cannot be opened or repaired.
     */
    static ContinuedRecordFile open(final Path file) throws IOException
    {
        final FileChannel first = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        final long torn;
        final long size;
        try
        {
            torn = cutTornLastLine(first);
            size = first.size();
            first.position(size);
        }
        catch (final IOException e)
        {
            first.close();
            throw new IOException("cannot continue " + file + ": " + RecordOutput.describe(e), e);
        }
        return new ContinuedRecordFile(first, torn, size, fileAgeNanos(file, size));
    }

    /** Truncates {@code channel} after its last newline; returns how many bytes were cut. */
    private static long cutTornLastLine(final FileChannel channel) throws IOException
    {
        final long size = channel.size();
        final ByteBuffer chunk = ByteBuffer.allocate(8192);
        long end = size;
        while (end > 0)
        {
            final long start = Math.max(0, end - chunk.capacity());
            chunk.clear().limit((int)(end - start));
            long at = start;
            while (chunk.hasRemaining())
            {
                final int read = channel.read(chunk, at);
                if (read < 0)
                {
                    throw new IOException("the file shrank while it was read");
                }
                at += read;
            }
            for (int i = chunk.position() - 1; i >= 0; i--)
            {
                if (chunk.get(i) == '\n')
                {
                    final long keep = start + i + 1;
                    if (keep < size)
                    {
                        channel.truncate(keep);
                    }
                    return size - keep;
                }
            }
            end = start;
        }
        if (size > 0)
        {
            channel.truncate(0); // no newline at all: one torn fragment
        }
        return size;
    }

    /** How long ago {@code file} was created, for age rotation; 0 when it is new or the file system cannot say. */
    private static long fileAgeNanos(final Path file, final long size)
    {
        if (size == 0)
        {
            return 0;
        }
        try
        {
            final BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            final FileTime created = attributes.creationTime();
            // Without a birth time, Java reports the modification time as the creation time: no age to go by.
            if (created.equals(attributes.lastModifiedTime()))
            {
                return 0;
            }
            return Math.max(0, TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis() - created.toMillis()));
        }
        catch (final IOException e)
        {
            return 0;
        }
    }
}
