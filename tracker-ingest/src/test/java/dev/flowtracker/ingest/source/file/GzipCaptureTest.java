package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.source.file.CaptureRun.Frame;
import dev.flowtracker.ingest.source.file.CaptureRun.Outcome;
import dev.flowtracker.ingest.source.file.CaptureRun.Source;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;

import static dev.flowtracker.ingest.source.file.CaptureRun.assertFrame;
import static dev.flowtracker.ingest.source.file.CaptureRun.gzip;
import static dev.flowtracker.ingest.source.file.CaptureRun.head;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gzip-compressed captures (streamed through {@link StreamingCaptureInput}'s sliding 1 MiB buffer): the same frames as
 * the plain file, records across buffer refills, records larger than the buffer, and cut or damaged streams.
 */
class GzipCaptureTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final int SMALL_RECORDS = 20_000;
    private static final long SECONDS = 1_600_000_000L;

    /** 20,000 small pcap records with two 200 KB ones among them, and where each record starts. */
    private static byte[] largePcap;
    private static List<byte[]> largePcapFrames;
    private static List<Integer> largePcapOffsets;

    @TempDir
    Path dir;

    @BeforeAll
    static void buildLargePcap()
    {
        final PcapTestWriter writer = new PcapTestWriter(false, true, 262_144, PcapTestWriter.LINKTYPE_ETHERNET);
        largePcapFrames = new ArrayList<>();
        largePcapOffsets = new ArrayList<>();
        for (int i = 0; i < SMALL_RECORDS; i++)
        {
            final byte[] frame = i == 5_000 || i == 15_000 ? TestFrames.patterned(200_000, i) : TestFrames.numbered(i);
            largePcapFrames.add(frame);
            largePcapOffsets.add(writer.length());
            writer.record(SECONDS + i, i, frame);
        }
        largePcap = writer.toByteArray();
        assertTrue(largePcap.length > 2 << 20, "the 1 MiB buffer refills more than twice");
    }

    private static void assertLargePcapFrames(final List<Frame> frames, final int count)
    {
        assertEquals(count, frames.size());
        for (int i = 0; i < count; i++)
        {
            final byte[] expected = largePcapFrames.get(i);
            assertFrame(frames.get(i), expected, expected.length, 1, (SECONDS + i) * 1_000_000_000L + i, 0);
        }
    }

    @Test
    void sampleReadsTheSameCompressed() throws IOException
    {
        final byte[] sample = Files.readAllBytes(SAMPLE);
        final List<Frame> plain = CaptureRun.read(SAMPLE).assertClean().frames();
        assertEquals(254, plain.size());
        assertEquals(plain, Source.GZIP.read(dir, "sample.pcap", sample).assertClean().frames());
        assertEquals(plain, Source.STREAMING.read(dir, "sample.pcap", sample).assertClean().frames());
    }

    @Test
    void pcapngReadsTheSameCompressed()
    {
        final PcapngTestWriter writer = new PcapngTestWriter()
            .section(true, PcapngTestWriter.comment("compressed"))
            .interfaceDescription(1, 0, PcapngTestWriter.tsresol(9))
            .interfaceDescription(101, 128, PcapngTestWriter.tsoffset(100));
        for (int i = 0; i < 500; i++)
        {
            writer.enhanced(i % 2, 1_000L * i, TestFrames.numbered(i));
            if (i % 50 == 0)
            {
                writer.block(0x1234, new byte[i]).section(i % 100 == 0)
                    .interfaceDescription(1, 0)
                    .interfaceDescription(101, 128, PcapngTestWriter.tsoffset(100));
            }
        }
        final byte[] file = writer.toByteArray();
        final List<Frame> plain = Source.MAPPED.read(dir, "same.pcapng", file).assertClean().frames();
        assertEquals(500, plain.size());
        assertEquals(plain, Source.GZIP.read(dir, "same.pcapng", file).assertClean().frames());
    }

    @Test
    void manySmallRecordsAcrossBufferRefills()
    {
        final List<Frame> frames = Source.GZIP.read(dir, "large.pcap", largePcap).assertClean().frames();
        assertLargePcapFrames(frames, SMALL_RECORDS);
    }

    @Test
    void pcapngBlocksLargerThanTheInitialBuffer()
    {
        final List<byte[]> expected = new ArrayList<>();
        final PcapngTestWriter writer = new PcapngTestWriter().section(false).interfaceDescription(1, 0);
        for (int i = 0; i < SMALL_RECORDS; i++)
        {
            final byte[] frame = switch (i)
            {
                case 3_000 -> TestFrames.patterned(1_500_000, i); // larger than the 1 MiB buffer
                case 9_000 -> TestFrames.patterned(3_000_000, i); // larger than the grown buffer
                case 14_000 -> TestFrames.patterned(262_145, i);
                default -> TestFrames.numbered(i);
            };
            expected.add(frame);
            writer.enhanced(0, i, frame);
            if (i % 1000 == 999)
            {
                writer.block(PcapngTestWriter.INTERFACE_STATISTICS, new byte[64]);
            }
        }
        final byte[] file = writer.toByteArray();
        for (final Source source : new Source[] {Source.GZIP, Source.STREAMING})
        {
            final List<Frame> frames = source.read(dir, "large-" + source + ".pcapng", file).assertClean().frames();
            assertEquals(expected.size(), frames.size());
            for (int i = 0; i < expected.size(); i++)
            {
                assertFrame(frames.get(i), expected.get(i), expected.get(i).length, 1, i * 1000L, 0);
            }
        }
    }

    @Test
    void concatenatedGzipMembersReadAsOneFile() throws IOException
    {
        // A record split across two gzip members, as `cat a.gz b.gz` makes.
        final int split = largePcapOffsets.get(1234) + 7;
        final byte[] first = gzip(head(largePcap, split));
        final byte[] second = gzip(Arrays.copyOfRange(largePcap, split, largePcap.length));
        final byte[] both = new byte[first.length + second.length];
        System.arraycopy(first, 0, both, 0, first.length);
        System.arraycopy(second, 0, both, first.length, second.length);
        final Path file = Files.write(dir.resolve("two-members.pcap.gz"), both);
        assertLargePcapFrames(CaptureRun.read(file).assertClean().frames(), SMALL_RECORDS);
    }

    @Test
    void formatIsFoundByContentNotName() throws IOException
    {
        final byte[] sample = Files.readAllBytes(SAMPLE);
        final Path gzipNamedPcap = Files.write(dir.resolve("really-gzip.pcap"), gzip(sample));
        final Path pcapNamedGz = Files.write(dir.resolve("really-pcap.gz"), sample);
        final List<Frame> plain = CaptureRun.read(SAMPLE).assertClean().frames();
        assertEquals(plain, CaptureRun.read(gzipNamedPcap).assertClean().frames());
        assertEquals(plain, CaptureRun.read(pcapNamedGz).assertClean().frames());
    }

    // ---- cut and damaged streams ----

    /** How many bytes a gzip stream yields before it fails (all of them when it does not fail). */
    private static int decompressibleLength(final byte[] gzip)
    {
        int total = 0;
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(gzip)))
        {
            final byte[] buffer = new byte[512];
            int n;
            while ((n = in.read(buffer)) > 0)
            {
                total += n;
            }
        }
        catch (final IOException e)
        {
            // the prefix counted so far is what can be had
        }
        return total;
    }

    /** The cuts tried on the large file's gzip: early, middle, late, at the end of the data, inside the trailer. */
    private static int[] cutPoints(final int length)
    {
        return new int[] {length / 10, length / 2, length * 9 / 10, length - 9, length - 4, length - 1};
    }

    @Test
    void truncatedGzipIsAFormatErrorNamingTheFile() throws IOException
    {
        final byte[] compressed = gzip(largePcap);
        for (final int cut : cutPoints(compressed.length))
        {
            final Path file = Files.write(dir.resolve("cut-" + cut + ".pcap.gz"), head(compressed, cut));
            final Outcome outcome = CaptureRun.read(file);
            final CaptureFormatException e = assertInstanceOf(CaptureFormatException.class, outcome.error(),
                () -> "cut at " + cut + " of " + compressed.length + ": " + outcome.error());
            assertEquals(file.toString(), e.file());
            assertTrue(e.getMessage().startsWith(file + ": ") && e.getMessage().contains("at byte offset "),
                e.getMessage());
            assertTrue(e.offset() >= 0 && e.offset() <= decompressibleLength(head(compressed, cut)),
                "offset within what was decompressed: " + e.getMessage());
            // Whatever was delivered is an intact prefix.
            assertLargePcapFrames(outcome.frames(), outcome.frames().size());
        }
        final byte[] sample = gzip(Files.readAllBytes(SAMPLE));
        for (final int cut : new int[] {3, 10, 30, sample.length / 2, sample.length - 4})
        {
            final Path file = Files.write(dir.resolve("sample-cut-" + cut + ".pcap.gz"), head(sample, cut));
            final Outcome outcome = CaptureRun.read(file);
            assertInstanceOf(CaptureFormatException.class, outcome.error(),
                () -> "cut at " + cut + ": " + outcome.error());
            assertEquals(file.toString(), ((CaptureFormatException)outcome.error()).file());
        }
    }

    @Test
    void truncatedGzipDeliversEveryFrameBeforeTheCut() throws IOException
    {
        final byte[] sample = Files.readAllBytes(SAMPLE);
        final List<Frame> sampleFrames = CaptureRun.read(SAMPLE).assertClean().frames();
        final byte[] sampleGzip = gzip(sample);
        assertCutDeliversPrefix(sampleGzip, sampleGzip.length / 2, sampleFrames, "sample");
        final List<Frame> largeFrames = Source.MAPPED.read(dir, "large.pcap", largePcap).assertClean().frames();
        final byte[] largeGzip = gzip(largePcap);
        for (final int cut : cutPoints(largeGzip.length))
        {
            assertCutDeliversPrefix(largeGzip, cut, largeFrames, "large");
        }
    }

    /** Cuts {@code gzip} at {@code cut} and checks every record complete in the decompressible prefix is delivered. */
    private void assertCutDeliversPrefix(final byte[] gzip, final int cut, final List<Frame> all, final String label)
        throws IOException
    {
        final int available = decompressibleLength(head(gzip, cut));
        int complete = 0;
        long position = PcapTestWriter.FILE_HEADER_LENGTH;
        while (complete < all.size() &&
            position + PcapTestWriter.RECORD_HEADER_LENGTH + all.get(complete).capturedLength() <= available)
        {
            position += PcapTestWriter.RECORD_HEADER_LENGTH + all.get(complete).capturedLength();
            complete++;
        }
        final Path file = Files.write(dir.resolve(label + "-cut-" + cut + ".pcap.gz"), head(gzip, cut));
        final Outcome outcome = CaptureRun.read(file);
        assertInstanceOf(CaptureFormatException.class, outcome.error());
        assertEquals(complete, outcome.frames().size(),
            () -> label + " cut at " + cut + " of " + gzip.length + " compressed bytes (" + available +
                " decompressible): frames delivered");
        assertEquals(all.subList(0, complete), outcome.frames());
        final long offset = ((CaptureFormatException)outcome.error()).offset();
        assertTrue(offset >= position && offset <= available, "offset " + offset + " between the first incomplete " +
            "record at " + position + " and the end of the decompressible data at " + available);
    }

    @Test
    void truncatedGzipTrailerIsDescribedWithoutNull() throws IOException
    {
        final byte[] compressed = gzip(Files.readAllBytes(SAMPLE));
        final Path file =
            Files.write(dir.resolve("sample-no-trailer.pcap.gz"), head(compressed, compressed.length - 4));
        final Outcome outcome = CaptureRun.read(file);
        final CaptureFormatException e = assertInstanceOf(CaptureFormatException.class, outcome.error());
        assertFalse(e.getMessage().contains("null"), e.getMessage());
    }

    @Test
    void damagedGzipIsAFormatError() throws IOException
    {
        final byte[] compressed = gzip(largePcap);
        // A flipped byte in the deflate data, then a wrong CRC in the trailer, then a wrong length in the trailer.
        final int[] positions = {compressed.length / 3, compressed.length - 8, compressed.length - 2};
        for (final int position : positions)
        {
            final byte[] damaged = compressed.clone();
            damaged[position] ^= 0x55;
            final Path file = Files.write(dir.resolve("damaged-" + position + ".pcap.gz"), damaged);
            final Outcome outcome = CaptureRun.read(file);
            final CaptureFormatException e = assertInstanceOf(CaptureFormatException.class, outcome.error(),
                () -> "damage at " + position + ": " + outcome.error());
            assertEquals(file.toString(), e.file());
            if (position != positions[0])
            {
                // Damage in the trailer is found after all data; what was delivered is intact. (Damaged deflate
                // data may decompress to garbage before the CRC check at the end can tell.)
                assertLargePcapFrames(outcome.frames(), outcome.frames().size());
            }
        }
        // Only the gzip magic: the header cannot be read.
        final Path magicOnly = Files.write(dir.resolve("magic-only.gz"), new byte[] {0x1F, (byte)0x8B});
        final CaptureFormatException e = assertThrows(CaptureFormatException.class, () -> CaptureFiles.open(magicOnly));
        assertEquals(0, e.offset());
        assertTrue(e.getMessage().startsWith(magicOnly + ": "), e.getMessage());
    }

    // ---- CaptureFiles.open on things that are not captures ----

    @Test
    void missingFileDirectoryAndNonCapture() throws IOException
    {
        final Path missing = dir.resolve("missing.pcap");
        final NoSuchFileException absent = assertThrows(NoSuchFileException.class, () -> CaptureFiles.open(missing));
        assertEquals(missing.toString(), absent.getFile());

        final CaptureFormatException directory =
            assertThrows(CaptureFormatException.class, () -> CaptureFiles.open(dir));
        assertEquals(dir.toString(), directory.file());
        assertEquals(0, directory.offset());

        final Path text = Files.writeString(dir.resolve("notes.txt"), "hello, this is not a capture\n");
        final CaptureFormatException notCapture =
            assertThrows(CaptureFormatException.class, () -> CaptureFiles.open(text));
        assertEquals(0, notCapture.offset());
        assertTrue(notCapture.getMessage().contains("not a pcap or pcapng file (magic 0x68656c6c)"),
            notCapture.getMessage());
        assertNotNull(notCapture.file());
    }
}
