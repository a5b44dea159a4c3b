package dev.flowtracker.core;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The frames of the project's own {@code samples/sample.pcap} (real kernel TCP traffic recorded by
 * {@code scripts/make-sample-capture.sh}), for seeding fuzz targets in a module that has no capture reader. Reads
 * only what that file is: classic pcap, either byte order, microsecond or nanosecond magic.
 */
public final class SampleCapture
{
    /** From a module directory (surefire's working directory). */
    public static final Path SAMPLE = Path.of("../samples/sample.pcap");

    /** One record: its link type, capture time and captured bytes. */
    public record Frame(int linkType, long timestampNanos, byte[] data)
    {
    }

    private SampleCapture()
    {
    }

    public static List<Frame> frames()
    {
        final byte[] file;
        try
        {
            file = Files.readAllBytes(SAMPLE);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("the project's sample capture is missing: " + SAMPLE.toAbsolutePath(), e);
        }
        final ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        final int magic = in.getInt(0);
        if (magic == 0xD4C3B2A1 || magic == 0x4D3CB2A1)
        {
            in.order(ByteOrder.BIG_ENDIAN);
        }
        final boolean nanos = in.getInt(0) == 0xA1B23C4D;
        final int linkType = in.getInt(20) & 0xFFFF;
        final List<Frame> frames = new ArrayList<>();
        int position = 24;
        while (position + 16 <= file.length)
        {
            final long seconds = in.getInt(position) & 0xFFFF_FFFFL;
            final long fraction = in.getInt(position + 4) & 0xFFFF_FFFFL;
            final int captured = in.getInt(position + 8);
            final int start = position + 16;
            frames.add(new Frame(linkType, seconds * 1_000_000_000L + fraction * (nanos ? 1 : 1000),
                Arrays.copyOfRange(file, start, start + captured)));
            position = start + captured;
        }
        return frames;
    }
}
