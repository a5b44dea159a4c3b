package dev.flowtracker.ingest.source.file;

import dev.flowtracker.core.wire.Bytes;

import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Opens a capture file by its content, not its name: gzip (decompressed while streaming), then pcap or pcapng.
 * Plain regular files are memory-mapped; {@code -} (standard input), pipes and other files that are not regular
 * ({@code /dev/stdin}, {@code <(zcat x.pcap.gz)}) cannot be, and are streamed through the bounded sliding buffer
 * of {@link StreamingCaptureInput}, as compressed files are: nothing keeps the whole capture.
 */
public final class CaptureFiles
{
    /** The name that reads standard input. */
    public static final Path STDIN = Path.of("-");

    private static final int GZIP_MAGIC = 0x1F8B;
    private static final int STREAM_BUFFER = 1 << 16;

    private CaptureFiles()
    {
    }

    public static CaptureReader open(final Path file) throws IOException
    {
        final String name = file.toString();
        if (STDIN.equals(file))
        {
            return openStream("standard input", System.in, -1);
        }
        if (!Files.exists(file))
        {
            throw new NoSuchFileException(name, null, "no such file");
        }
        if (Files.isDirectory(file))
        {
            throw new CaptureFormatException(name, 0, "is a directory, not a capture file");
        }
        if (!Files.isReadable(file))
        {
            throw new IOException(name + ": permission denied");
        }
        if (!Files.isRegularFile(file))
        {
            return openStream(name, Files.newInputStream(file), -1);
        }
        final CaptureInput input = isGzip(file) ? gunzip(file) : new MappedCaptureInput(file);
        try
        {
            return open(name, input);
        }
        catch (final IOException | RuntimeException e)
        {
            input.close();
            throw e;
        }
    }

    /** Opens a reader over an input by its first bytes. */
    public static CaptureReader open(final String name, final CaptureInput input) throws IOException
    {
        final long head = input.require(0, 4);
        if (head < 0)
        {
            throw new CaptureFormatException(name, 0, "file too short to be a capture");
        }
        final int magic = Bytes.i32(input.segment(), head, true);
        if (magic == PcapngReader.SECTION_HEADER_BLOCK)
        {
            return new PcapngReader(name, input);
        }
        if (magic == PcapReader.MAGIC_MICROSECONDS || magic == PcapReader.MAGIC_NANOSECONDS ||
            Integer.reverseBytes(magic) == PcapReader.MAGIC_MICROSECONDS ||
            Integer.reverseBytes(magic) == PcapReader.MAGIC_NANOSECONDS)
        {
            return new PcapReader(name, input);
        }
        throw new CaptureFormatException(name, 0, String.format("not a pcap or pcapng file (magic 0x%08x)", magic));
    }

    /**
     * Opens a reader over a stream that cannot be mapped or read twice: gzip is told by peeking at its first two
     * bytes, then the capture is read forward through a sliding buffer.
     */
    public static CaptureReader openStream(final String name, final InputStream stream, final long total)
        throws IOException
    {
        final CountingInputStream raw = new CountingInputStream(new BufferedInputStream(stream, STREAM_BUFFER));
        CaptureInput input = null;
        try
        {
            raw.mark(2);
            final int first = raw.read();
            final int second = raw.read();
            raw.reset();
            final boolean gzip = first >= 0 && second >= 0 && ((first << 8) | second) == GZIP_MAGIC;
            input = new StreamingCaptureInput(name, gzip ? gunzip(name, raw) : raw, raw::count, total);
            return open(name, input);
        }
        catch (final IOException | RuntimeException e)
        {
            if (input != null)
            {
                input.close();
            }
            else
            {
                raw.close();
            }
            throw e;
        }
    }

    private static InputStream gunzip(final String name, final InputStream raw) throws IOException
    {
        try
        {
            return new GZIPInputStream(raw, STREAM_BUFFER);
        }
        catch (final IOException e)
        {
            throw new CaptureFormatException(name, 0, "bad gzip stream: " + e.getMessage());
        }
    }

    private static boolean isGzip(final Path file) throws IOException
    {
        try (InputStream in = Files.newInputStream(file))
        {
            final int first = in.read();
            final int second = in.read();
            return first >= 0 && second >= 0 && ((first << 8) | second) == GZIP_MAGIC;
        }
    }

    private static CaptureInput gunzip(final Path file) throws IOException
    {
        final CountingInputStream raw =
            new CountingInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16));
        try
        {
            final GZIPInputStream gzip = new GZIPInputStream(raw, 1 << 16);
            return new StreamingCaptureInput(file.toString(), gzip, raw::count, Files.size(file));
        }
        catch (final IOException e)
        {
            raw.close();
            throw new CaptureFormatException(file.toString(), 0, "bad gzip stream: " + e.getMessage());
        }
    }

    /** Counts bytes read from the compressed file, for progress. */
    private static final class CountingInputStream extends FilterInputStream
    {
        private long count;
        private long marked;

        CountingInputStream(final InputStream in)
        {
            super(in);
        }

        long count()
        {
            return count;
        }

        @Override
        public int read() throws IOException
        {
            final int b = super.read();
            if (b >= 0)
            {
                count++;
            }
            return b;
        }

        @Override
        public void mark(final int limit)
        {
            super.mark(limit);
            marked = count;
        }

        @Override
        public void reset() throws IOException
        {
            super.reset();
            count = marked;
        }

        @Override
        public int read(final byte[] buffer, final int offset, final int length) throws IOException
        {
            final int n = super.read(buffer, offset, length);
            if (n > 0)
            {
                count += n;
            }
            return n;
        }
    }
}
