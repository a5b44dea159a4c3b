package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.source.FrameSink;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A memory-mapped capture gives back the pages the reader has passed: what this process holds of the mapping
 * (its {@code Rss} in {@code /proc/self/smaps}, not the page cache, which {@code mincore} would report) stays a few
 * chunks however far the reader goes, and every frame still reads the same. Counts resident pages, never time.
 */
class MappedCaptureInputTest
{
    private static final long CHUNK = 1L << 20;
    private static final int FRAME = 1_500;
    /** 48 MiB of records: 48 chunks, so that keeping every page read would show as about 48 MiB resident. */
    private static final int RECORDS = (int)((48L << 20) / (PcapReader.RECORD_HEADER_LENGTH + FRAME));
    private static final Path SMAPS = Path.of("/proc/self/smaps");

    @TempDir
    static Path dir;
    private static Path capture;

    @BeforeAll
    static void writeCapture() throws IOException
    {
        capture = dir.resolve("numbered.pcap");
        final ByteBuffer record = ByteBuffer.allocate(PcapReader.RECORD_HEADER_LENGTH + FRAME)
            .order(ByteOrder.LITTLE_ENDIAN);
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(capture), 1 << 16))
        {
            out.write(PcapTestWriter.ethernet().toByteArray());
            for (int i = 0; i < RECORDS; i++)
            {
                record.clear();
                record.putInt(1_700_000_000).putInt(i).putInt(FRAME).putInt(FRAME);
                // The frame's first and last four bytes hold its number: a wrong page would show.
                record.putInt(PcapReader.RECORD_HEADER_LENGTH, i);
                record.putInt(record.capacity() - 4, i);
                out.write(record.array());
            }
        }
    }

    @Test
    void shouldKeepOnlyTheChunksNearTheReaderResident() throws IOException
    {
        assumeTrue(Files.isReadable(SMAPS) && PageRelease.isAvailable(), "needs Linux and native access");
        final MappedCaptureInput input = new MappedCaptureInput(capture, CHUNK);
        final long mapping = input.segment().address();
        final long[] mostResident = {0};
        final int[] next = {0};
        try (PcapReader reader = new PcapReader(capture.toString(), input))
        {
            final FrameSink handler = frame ->
            {
                final int number = next[0]++;
                assertEquals(number, frame.segment().get(INT_LE, frame.offset()));
                assertEquals(number, frame.segment().get(INT_LE, frame.offset() + frame.capturedLength() - 4));
                if (number % 500 == 0)
                {
                    mostResident[0] = Math.max(mostResident[0], residentBytes(mapping));
                }
            };
            CaptureReplay.read(reader, handler, 1_000, CaptureReplay.TO_THE_END);
            mostResident[0] = Math.max(mostResident[0], residentBytes(mapping));
            assertNull(reader.releaseFailure());
        }
        assertEquals(RECORDS, next[0]);
        assertTrue(mostResident[0] > 0, "the mapping was found in smaps and held pages");
        // Released up to a chunk behind the reader, a chunk at a time: at most two chunks (plus the kernel's 64 KiB
        // fault-around) behind it. Without the release this would be the whole file read so far (48 MiB).
        assertTrue(mostResident[0] <= 3 * CHUNK, "resident " + mostResident[0] + " bytes of a " + Files.size(capture) +
            "-byte mapping");
        assertEquals(Files.size(capture) - 2 * CHUNK, input.releasedBytes(), CHUNK);
    }

    @Test
    void shouldReadTheSameBytesAgainAfterTheirPagesWereReleased() throws IOException
    {
        try (MappedCaptureInput input = new MappedCaptureInput(capture, CHUNK))
        {
            final long end = Files.size(capture);
            assertTrue(input.require(end - 4, 4) >= 0);
            assertTrue(input.releasedBytes() > 0 || !PageRelease.isAvailable());
            // Behind the release point (readers never go back; were one to, it would refault the same bytes).
            final long first = PcapTestWriter.FILE_HEADER_LENGTH + PcapReader.RECORD_HEADER_LENGTH;
            assertEquals(0, input.segment().get(INT_LE, first));
            final long record = 1_000;
            final long offset = first + record * (PcapReader.RECORD_HEADER_LENGTH + FRAME);
            assertEquals(record, input.segment().get(INT_LE, offset));
        }
    }

    @Test
    void shouldRejectAReleaseChunkThatIsNotWholePages()
    {
        for (final long chunk : List.of(0L, 4096L, (1L << 20) + 4096))
        {
            assertThrows(IllegalArgumentException.class, () -> new MappedCaptureInput(capture, chunk));
        }
    }

    private static final ValueLayout.OfInt INT_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Bytes of the mapping starting at {@code address} that are in this process's page tables. */
    private static long residentBytes(final long address)
    {
        final String start = String.format("%08x-", address);
        try
        {
            final List<String> lines = Files.readAllLines(SMAPS);
            boolean inMapping = false;
            for (final String line : lines)
            {
                if (line.matches("^[0-9a-f]+-[0-9a-f]+ .*"))
                {
                    inMapping = line.startsWith(start);
                }
                else if (inMapping && line.startsWith("Rss:"))
                {
                    return 1024 * Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return -1;
        }
        catch (final IOException e)
        {
            throw new AssertionError(e);
        }
    }
}
