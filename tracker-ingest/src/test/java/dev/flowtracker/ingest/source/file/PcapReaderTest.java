package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.source.file.CaptureRun.Frame;
import dev.flowtracker.ingest.source.file.CaptureRun.Outcome;
import dev.flowtracker.ingest.source.file.CaptureRun.Source;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.flowtracker.ingest.source.file.CaptureRun.assertFrame;
import static dev.flowtracker.ingest.source.file.CaptureRun.head;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Classic pcap: byte orders, timestamp precisions, lengths, link types, and every way a file can be broken. */
class PcapReaderTest
{
    private static final long SECONDS = 1_700_000_000L;

    @TempDir
    Path dir;

    static Stream<Arguments> layouts()
    {
        final List<Arguments> all = new ArrayList<>();
        for (final boolean bigEndian : new boolean[] {false, true})
        {
            for (final boolean nanos : new boolean[] {false, true})
            {
                for (final Source source : Source.values())
                {
                    all.add(Arguments.of(bigEndian, nanos, source));
                }
            }
        }
        return all.stream();
    }

    @ParameterizedTest(name = "bigEndian={0} nanos={1} {2}")
    @MethodSource("layouts")
    void deliversFramesInOrderWithLengthsTimesAndLinkType(final boolean bigEndian, final boolean nanos,
        final Source source)
    {
        final byte[] first = TestFrames.numbered(1);
        final byte[] second = TestFrames.numbered(2);
        final byte[] truncated = head(TestFrames.numbered(96), 60);
        final long fraction = nanos ? 123_456_789L : 123_456L;
        final long fractionNanos = nanos ? 123_456_789L : 123_456_000L;
        final long lastFraction = nanos ? 999_999_999L : 999_999L;
        final byte[] file = new PcapTestWriter(bigEndian, nanos, 60, PcapTestWriter.LINKTYPE_ETHERNET)
            .record(SECONDS, fraction, first)
            .record(SECONDS + 1, 0, second)
            .record(SECONDS + 2, lastFraction, truncated, 1514)
            .record(0, 0, new byte[0], 0)
            .toByteArray();

        final List<Frame> frames = source.read(dir, "layout.pcap", file).assertClean().frames();

        assertEquals(4, frames.size());
        assertFrame(frames.get(0), first, first.length, 1, SECONDS * 1_000_000_000L + fractionNanos, 0);
        assertFrame(frames.get(1), second, second.length, 1, (SECONDS + 1) * 1_000_000_000L, 0);
        // origlen > caplen: the wire length is the original length, not what was kept.
        assertFrame(frames.get(2), truncated, 1514, 1,
            (SECONDS + 2) * 1_000_000_000L + (nanos ? 999_999_999L : 999_999_000L), 0);
        assertFrame(frames.get(3), new byte[0], 0, 1, 0, 0);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 101, 113, 228, 276, 0xFFFF})
    void reportsTheFilesLinkType(final int linkType) throws IOException
    {
        final byte[] frame = TestFrames.patterned(40, linkType);
        final Path file = new PcapTestWriter(true, false, 65_535, linkType).record(5, 6, frame)
            .writeTo(dir.resolve("link.pcap"));
        try (CaptureReader reader = CaptureFiles.open(file))
        {
            assertEquals(linkType, assertInstanceOf(PcapReader.class, reader).linkType());
        }
        final List<Frame> frames = CaptureRun.read(file).assertClean().frames();
        assertFrame(frames.getFirst(), frame, 40, linkType, 5_000_006_000L, 0);
    }

    @Test
    void fcsLengthInTheUpperBitsIsNotPartOfTheLinkType()
    {
        // Bits 28-31 of the link-type field hold an FCS length; they are not part of the type.
        final byte[] frame = TestFrames.numbered(3);
        final byte[] file = new PcapTestWriter(false, false, 65_535, 0x4000_0000L | 1).record(1, 0, frame)
            .toByteArray();
        final List<Frame> frames = Source.MAPPED.read(dir, "fcs.pcap", file).assertClean().frames();
        assertEquals(1, frames.getFirst().linkType());
    }

    @Test
    void fcsPresentFlagIsNotPartOfTheLinkType() throws IOException
    {
        final byte[] frame = TestFrames.numbered(3);
        final Path file = new PcapTestWriter(false, false, 65_535, 0x4400_0001L).record(1, 0, frame)
            .writeTo(dir.resolve("fcs-present.pcap"));
        try (CaptureReader reader = CaptureFiles.open(file))
        {
            assertEquals(1, assertInstanceOf(PcapReader.class, reader).linkType());
        }
        assertEquals(1, CaptureRun.read(file).assertClean().frames().getFirst().linkType());
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void wireLengthIsNeverBelowCapturedLength(final Source source)
    {
        // A corrupt origlen smaller than caplen: the frame is still delivered, its wire length raised to what was kept.
        final byte[] frame = TestFrames.numbered(7);
        final byte[] file = PcapTestWriter.ethernet().record(1, 0, frame, 10).toByteArray();
        final Frame only = source.read(dir, "short-origlen.pcap", file).assertClean().frames().getFirst();
        assertEquals(frame.length, only.capturedLength());
        assertEquals(frame.length, only.wireLength());
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void headerOnlyFileHasNoFrames(final Source source)
    {
        final Outcome outcome = source.read(dir, "empty.pcap", PcapTestWriter.ethernet().toByteArray());
        assertEquals(List.of(), outcome.assertClean().frames());
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void manyRecordsAcrossManyReadCalls(final Source source)
    {
        final PcapTestWriter writer = PcapTestWriter.ethernet();
        final List<byte[]> expected = new ArrayList<>();
        for (int i = 0; i < 1000; i++)
        {
            expected.add(TestFrames.numbered(i));
            writer.record(SECONDS + i, i, expected.getLast());
        }
        final List<Frame> frames = source.read(dir, "many.pcap", writer.toByteArray()).assertClean().frames();
        assertEquals(expected.size(), frames.size());
        for (int i = 0; i < expected.size(); i++)
        {
            assertFrame(frames.get(i), expected.get(i), expected.get(i).length, 1,
                (SECONDS + i) * 1_000_000_000L + i * 1000L, 0);
        }
    }

    @Test
    void progressReachesTheFileSize() throws IOException
    {
        final PcapTestWriter writer = PcapTestWriter.ethernet();
        for (int i = 0; i < 10; i++)
        {
            writer.record(1, 0, TestFrames.numbered(i));
        }
        final Path file = writer.writeTo(dir.resolve("progress.pcap"));
        try (CaptureReader reader = CaptureFiles.open(file))
        {
            assertEquals(Files.size(file), reader.progressTotal());
            assertTrue(reader.progressPosition() <= reader.progressTotal());
            while (reader.read(frame -> { }, 4) > 0)
            {
                assertTrue(reader.progressPosition() <= reader.progressTotal());
            }
            assertEquals(Files.size(file), reader.progressPosition());
        }
    }

    @Test
    void recordOfExactlyTheLargestAcceptedLengthIsRead()
    {
        final byte[] big = TestFrames.patterned(PcapReader.MAX_RECORD_LENGTH, 9);
        final byte[] file = new PcapTestWriter(false, false, PcapReader.MAX_RECORD_LENGTH, 1)
            .record(1, 2, big).record(3, 4, TestFrames.numbered(5)).toByteArray();
        for (final Source source : Source.values())
        {
            final List<Frame> frames = source.read(dir, "largest-" + source + ".pcap", file).assertClean().frames();
            assertEquals(2, frames.size());
            assertFrame(frames.get(0), big, big.length, 1, 1_000_002_000L, 0);
        }
    }

    // ---- errors: each names the file and the offset, and the frames before the fault were delivered ----

    /** Two good records; returns the writer positioned after them. */
    private static PcapTestWriter twoGoodRecords(final long snaplen)
    {
        return new PcapTestWriter(false, false, snaplen, 1)
            .record(SECONDS, 1, TestFrames.numbered(1))
            .record(SECONDS, 2, TestFrames.numbered(2));
    }

    private static void assertTwoGoodFramesFirst(final Outcome outcome)
    {
        assertEquals(2, outcome.frames().size(), "frames before the fault");
        assertFrame(outcome.frames().get(0), TestFrames.numbered(1), TestFrames.numbered(1).length, 1,
            SECONDS * 1_000_000_000L + 1000, 0);
        assertFrame(outcome.frames().get(1), TestFrames.numbered(2), TestFrames.numbered(2).length, 1,
            SECONDS * 1_000_000_000L + 2000, 0);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void truncatedRecordHeader(final Source source)
    {
        final PcapTestWriter writer = twoGoodRecords(65_535);
        final int third = writer.length();
        writer.raw(new byte[10]);
        final Outcome outcome = source.read(dir, "cut-header.pcap", writer.toByteArray());
        outcome.assertFormatError(third, "cut short");
        assertTwoGoodFramesFirst(outcome);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void truncatedRecordData(final Source source)
    {
        final PcapTestWriter writer = twoGoodRecords(65_535);
        final int third = writer.length();
        writer.recordHeader(SECONDS, 3, 60, 60).raw(new byte[59]);
        final Outcome outcome = source.read(dir, "cut-data.pcap", writer.toByteArray());
        outcome.assertFormatError(third, "cut short");
        assertTwoGoodFramesFirst(outcome);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void sampleCutInTheMiddleOfARecord(final Source source) throws IOException
    {
        final byte[] sample = Files.readAllBytes(Path.of("../samples/sample.pcap"));
        final List<Frame> all = source.read(dir, "sample.pcap", sample).assertClean().frames();
        assertEquals(254, all.size());
        // Cut in the middle of record 101: find its start by walking the records.
        long position = PcapTestWriter.FILE_HEADER_LENGTH;
        for (int i = 0; i < 100; i++)
        {
            position += PcapTestWriter.RECORD_HEADER_LENGTH + all.get(i).capturedLength();
        }
        final Outcome outcome = source.read(dir, "sample-cut.pcap", head(sample, (int)position + 20));
        outcome.assertFormatError(position, "cut short");
        assertEquals(all.subList(0, 100), outcome.frames());
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void capturedLengthAboveTheMaximumIsCorrupt(final Source source)
    {
        for (final long snaplen : new long[] {65_535, PcapReader.MAX_RECORD_LENGTH})
        {
            final PcapTestWriter writer = twoGoodRecords(snaplen);
            final int third = writer.length();
            writer.recordHeader(SECONDS, 3, PcapReader.MAX_RECORD_LENGTH + 1, PcapReader.MAX_RECORD_LENGTH + 1)
                .raw(new byte[PcapReader.MAX_RECORD_LENGTH + 1]);
            final Outcome outcome = source.read(dir, "huge-" + snaplen + ".pcap", writer.toByteArray());
            outcome.assertFormatError(third, "captured length 262145 exceeds");
            assertTwoGoodFramesFirst(outcome);
        }
        final PcapTestWriter writer = twoGoodRecords(65_535);
        final int third = writer.length();
        writer.recordHeader(SECONDS, 3, 0xFFFF_FFFFL, 60).raw(new byte[100]);
        final Outcome outcome = source.read(dir, "huge-u32.pcap", writer.toByteArray());
        outcome.assertFormatError(third, "captured length 4294967295 exceeds");
        assertTwoGoodFramesFirst(outcome);
    }

    @Test
    void capturedLengthAboveTheMaximumIsCorruptWhateverTheSnaplen()
    {
        for (final long snaplen : new long[] {0x7FFF_FFFFL, 0xFFFF_FFFFL})
        {
            final PcapTestWriter writer = twoGoodRecords(snaplen);
            final int third = writer.length();
            writer.recordHeader(SECONDS, 3, PcapReader.MAX_RECORD_LENGTH + 1, PcapReader.MAX_RECORD_LENGTH + 1)
                .raw(new byte[PcapReader.MAX_RECORD_LENGTH + 1]);
            final Outcome outcome = Source.MAPPED.read(dir, "snaplen-" + snaplen + ".pcap", writer.toByteArray());
            outcome.assertFormatError(third, "exceeds");
            assertTwoGoodFramesFirst(outcome);
        }
    }

    @Test
    void hugeSnaplenAndCorruptCaplenInGzipDoesNotExhaustMemory() throws IOException
    {
        final byte[] pcap = new PcapTestWriter(false, false, 0xFFFF_FFFFL, 1)
            .record(1, 0, TestFrames.numbered(1))
            .recordHeader(2, 0, 0x7FFF_0000L, 0x7FFF_0000L)
            .raw(new byte[2 << 20])
            .toByteArray();
        final Path file = Files.write(dir.resolve("huge-snaplen.pcap.gz"), CaptureRun.gzip(pcap));
        final com.sun.management.ThreadMXBean threads =
            (com.sun.management.ThreadMXBean)ManagementFactory.getThreadMXBean();
        final long allocatedBefore = threads.getCurrentThreadAllocatedBytes();
        Throwable error = null;
        final List<Integer> lengths = new ArrayList<>();
        try (CaptureReader reader = CaptureFiles.open(file))
        {
            while (reader.read(frame -> lengths.add(frame.capturedLength()), 16) > 0)
            {
                // keep reading
            }
        }
        catch (final IOException | RuntimeException | OutOfMemoryError e)
        {
            error = e;
        }
        final long allocated = threads.getCurrentThreadAllocatedBytes() - allocatedBefore;
        final Throwable caught = error;
        assertInstanceOf(CaptureFormatException.class, caught,
            () -> "got " + lengths.size() + " frames, then " + caught);
        assertEquals(1, lengths.size());
        assertTrue(allocated < 64L << 20, "bytes allocated to read a " + Files.size(file) + "-byte file: " + allocated);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void badMagic(final Source source)
    {
        final byte[] file = new PcapTestWriter(false, 0xA1B2C3D5, 2, 4, 65_535, 1).record(1, 0, new byte[20])
            .toByteArray();
        final Outcome outcome = source.read(dir, "bad-magic.pcap", file);
        outcome.assertFormatError(0, "not a pcap");
        assertEquals(List.of(), outcome.frames());
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void unsupportedVersion(final Source source)
    {
        for (final int major : new int[] {1, 3, 0x0200})
        {
            for (final boolean bigEndian : new boolean[] {false, true})
            {
                final byte[] file =
                    new PcapTestWriter(bigEndian, PcapTestWriter.MAGIC_MICROSECONDS, major, 4, 65_535, 1)
                    .record(1, 0, TestFrames.numbered(1)).toByteArray();
                final Outcome outcome = source.read(dir, "version-" + major + "-" + bigEndian + ".pcap", file);
                outcome.assertFormatError(4, "version " + major);
                assertEquals(List.of(), outcome.frames());
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void fileShorterThanAHeader(final Source source)
    {
        final byte[] header = PcapTestWriter.ethernet().toByteArray();
        for (final int length : new int[] {0, 1, 3})
        {
            final Outcome outcome = source.read(dir, "short-" + length + ".pcap", head(header, length));
            outcome.assertFormatError(0, "too short");
        }
        for (final int length : new int[] {4, 10, 23})
        {
            final Outcome outcome = source.read(dir, "short-" + length + ".pcap", head(header, length));
            outcome.assertFormatError(0, "too short for a pcap header");
        }
    }
}
