package dev.flowtracker.ingest.output;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;

/**
 * An output stream as a gathering channel: each buffer is written whole, then the stream is flushed. A failure
 * leaves the buffer it hit unwritten (a stream cannot say how much it took, so a retry may repeat part of a
 * line). A {@link PrintStream} hides its errors; they are read back with {@code checkError}. Used by the writer
 * thread of a {@link RecordWriter}.
 */
final class StreamChannel implements GatheringByteChannel
{
    private final OutputStream stream;

    StreamChannel(final OutputStream stream)
    {
        this.stream = stream;
    }

    @Override
    public long write(final ByteBuffer[] sources, final int offset, final int length) throws IOException
    {
        long total = 0;
        for (int i = offset; i < offset + length; i++)
        {
            final ByteBuffer source = sources[i];
            final int remaining = source.remaining();
            if (source.hasArray())
            {
                stream.write(source.array(), source.arrayOffset() + source.position(), remaining);
            }
            else
            {
                final byte[] copy = new byte[remaining]; // a read-only header, once per file
                source.duplicate().get(copy);
                stream.write(copy);
            }
            checkPrintStream();
            source.position(source.limit());
            total += remaining;
        }
        stream.flush();
        checkPrintStream();
        return total;
    }

    private void checkPrintStream() throws IOException
    {
        if (stream instanceof PrintStream print && print.checkError())
        {
            throw new IOException("the output stream reported an error");
        }
    }

    @Override
    public long write(final ByteBuffer[] sources) throws IOException
    {
        return write(sources, 0, sources.length);
    }

    @Override
    public int write(final ByteBuffer source) throws IOException
    {
        return (int)write(new ByteBuffer[] {source}, 0, 1);
    }

    @Override
    public boolean isOpen()
    {
        return true;
    }

    @Override
    public void close()
    {
        // standard output is flushed, never closed
    }
}
