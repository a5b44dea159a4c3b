package dev.flowtracker.ingest.source.file;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Pieces of the project's own {@code samples/sample.pcap} (little-endian, microseconds, Ethernet) for fuzz seeds. */
final class SampleCaptures
{
    static final Path SAMPLE = Path.of("../samples/sample.pcap");

    /** One record of the sample: seconds, microseconds and the frame. */
    record Record(long seconds, long micros, byte[] frame)
    {
    }

    private SampleCaptures()
    {
    }

    static byte[] bytes()
    {
        try
        {
            return Files.readAllBytes(SAMPLE);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("the project's sample capture is missing: " + SAMPLE.toAbsolutePath(), e);
        }
    }

    /** The sample's first {@code count} records. */
    static List<Record> records(final int count)
    {
        final byte[] file = bytes();
        final ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        final List<Record> records = new ArrayList<>();
        int position = PcapTestWriter.FILE_HEADER_LENGTH;
        while (records.size() < count && position + PcapTestWriter.RECORD_HEADER_LENGTH <= file.length)
        {
            final int captured = in.getInt(position + 8);
            final int start = position + PcapTestWriter.RECORD_HEADER_LENGTH;
            records.add(new Record(in.getInt(position) & 0xFFFF_FFFFL, in.getInt(position + 4) & 0xFFFF_FFFFL,
                Arrays.copyOfRange(file, start, start + captured)));
            position = start + captured;
        }
        return records;
    }

    /** The sample's first {@code count} records as they are in the file: its header, then the records. */
    static byte[] prefix(final int count)
    {
        final byte[] file = bytes();
        final ByteBuffer in = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        int position = PcapTestWriter.FILE_HEADER_LENGTH;
        for (int i = 0; i < count && position + PcapTestWriter.RECORD_HEADER_LENGTH <= file.length; i++)
        {
            position += PcapTestWriter.RECORD_HEADER_LENGTH + in.getInt(position + 8);
        }
        return Arrays.copyOf(file, position);
    }
}
