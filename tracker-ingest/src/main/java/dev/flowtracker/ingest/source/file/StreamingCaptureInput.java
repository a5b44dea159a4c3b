package dev.flowtracker.ingest.source.file;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.util.function.LongSupplier;

/**
 * A capture read from a stream (e.g. gzip-decompressed) through a sliding buffer that grows only as large as the
 * largest record asked for (bounded by the readers' own record-size limits). Bytes are copied once, from the
 * stream into the buffer; records are then read in place.
 */
public final class StreamingCaptureInput implements CaptureInput
{
    private static final int INITIAL_CAPACITY = 1 << 20;

    private final String name;
    private final InputStream in;
    private final LongSupplier compressedPosition;
    private final long compressedTotal;
    private byte[] buffer;
    private MemorySegment segment;
    /** File position of buffer[0]. */
    private long windowStart;
    /** Valid bytes in the buffer. */
    private int windowLength;
    private boolean endOfStream;
    /** The stream failed after {@link #windowLength} good bytes: raised once those bytes are consumed. */
    private CaptureFormatException streamError;

    /**
     * @param name               the file's name, for error messages.
     * @param in                 the decompressed bytes.
     * @param compressedPosition bytes of the underlying file consumed so far (for progress).
     * @param compressedTotal    size of the underlying file, or -1.
     */
    public StreamingCaptureInput(
        final String name, final InputStream in, final LongSupplier compressedPosition, final long compressedTotal)
    {
        this(name, in, compressedPosition, compressedTotal, INITIAL_CAPACITY);
    }

    /** With a first buffer of {@code initialCapacity} bytes: tests make small files slide and grow the window. */
    StreamingCaptureInput(
        final String name, final InputStream in, final LongSupplier compressedPosition, final long compressedTotal,
        final int initialCapacity)
    {
        this.name = name;
        this.in = in;
        this.compressedPosition = compressedPosition;
        this.compressedTotal = compressedTotal;
        this.buffer = new byte[Math.max(1, initialCapacity)];
        this.segment = MemorySegment.ofArray(buffer);
    }

    @Override
    public MemorySegment segment()
    {
        return segment;
    }

    @Override
    public long require(final long position, final int length) throws IOException
    {
        if (position < windowStart || length < 0)
        {
            throw new IllegalArgumentException("cannot rewind a stream to " + position);
        }
        final long end = position + length;
        while (end > windowStart + windowLength)
        {
            if (endOfStream)
            {
                if (streamError != null)
                {
                    throw streamError;
                }
                return -1;
            }
            fill(position, length);
        }
        return position - windowStart;
    }

    @Override
    public boolean isEndOfInput(final long position) throws IOException
    {
        return require(position, 1) < 0;
    }

    @Override
    public long progressPosition(final long position)
    {
        return compressedPosition.getAsLong();
    }

    @Override
    public long progressTotal()
    {
        return compressedTotal;
    }

    private void fill(final long keepFrom, final int length) throws IOException
    {
        // Drop what lies before keepFrom, make room for length bytes, then read as much as fits.
        final int keepOffset = (int)Math.min(windowLength, Math.max(0, keepFrom - windowStart));
        final int kept = windowLength - keepOffset;
        if (length > buffer.length)
        {
            final byte[] larger = new byte[Math.max(length, buffer.length * 2)];
            System.arraycopy(buffer, keepOffset, larger, 0, kept);
            buffer = larger;
            segment = MemorySegment.ofArray(buffer);
        }
        else if (keepOffset > 0)
        {
            System.arraycopy(buffer, keepOffset, buffer, 0, kept);
        }
        windowStart += keepOffset;
        windowLength = kept;
        // Read piecewise so that bytes decompressed before a failure are kept and delivered first. Block only for
        // the bytes asked for; beyond them take what the stream has ready: a pipe fed slowly (tcpdump -w -) gets
        // each frame tracked as it comes, not once a buffer's worth has piled up.
        try
        {
            while (windowLength < length || windowLength < buffer.length && in.available() > 0)
            {
                final int read = in.read(buffer, windowLength, buffer.length - windowLength);
                if (read < 0)
                {
                    endOfStream = true;
                    return;
                }
                windowLength += read;
            }
        }
        catch (final IOException e)
        {
            endOfStream = true;
            final String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            streamError = new CaptureFormatException(name, windowStart + windowLength,
                "corrupt or truncated compressed data (" + reason + ")");
        }
    }

    @Override
    public void close() throws IOException
    {
        in.close();
    }
}
