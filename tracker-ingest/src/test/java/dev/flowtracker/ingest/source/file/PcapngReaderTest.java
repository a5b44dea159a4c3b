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

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static dev.flowtracker.ingest.source.file.CaptureRun.assertFrame;
import static dev.flowtracker.ingest.source.file.CaptureRun.head;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.comment;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.custom;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.epbFlags;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.option;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.tsoffset;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.tsresol;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.withDeclaredLength;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** pcapng: sections, interfaces, timestamp resolutions, every packet block type, and every way a file can break. */
class PcapngReaderTest
{
    private static final int ETHERNET = 1;
    private static final int RAW_IP = 101;
    private static final long NANOS = 1_000_000_000L;

    @TempDir
    Path dir;

    static Stream<Arguments> orders()
    {
        final List<Arguments> all = new ArrayList<>();
        for (final boolean bigEndian : new boolean[] {false, true})
        {
            for (final Source source : Source.values())
            {
                all.add(Arguments.of(bigEndian, source));
            }
        }
        return all.stream();
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void enhancedPacketsInOrderWithOptionsEverywhere(final boolean bigEndian, final Source source)
    {
        final byte[] first = TestFrames.numbered(1);
        final byte[] second = TestFrames.numbered(42);
        final byte[] truncated = head(TestFrames.numbered(95), 61);
        final byte[] file = new PcapngTestWriter()
            .section(bigEndian, comment("made by a test"), option(2, bytes("x86_64")), option(3, bytes("Linux")),
                custom(PcapngTestWriter.OPT_CUSTOM_STRING, PcapngTestWriter.PEN, bytes("custom text")),
                custom(PcapngTestWriter.OPT_CUSTOM_BINARY, PcapngTestWriter.PEN, new byte[] {1, 2, 3}))
            .interfaceDescription(ETHERNET, 65_535, option(PcapngTestWriter.IF_NAME, bytes("eth0")), tsresol(6),
                custom(PcapngTestWriter.OPT_CUSTOM_STRING_NO_COPY, PcapngTestWriter.PEN, bytes("private")))
            .enhanced(0, 1_700_000_000_123_456L, first)
            .enhanced(0, 1_700_000_001_000_000L, second, second.length, epbFlags(1), comment("second"),
                custom(PcapngTestWriter.OPT_CUSTOM_BINARY, PcapngTestWriter.PEN, new byte[5]))
            .enhanced(0, 1_700_000_002_000_001L, truncated, 1514)
            .enhanced(0, 0, new byte[0], 0)
            .toByteArray();

        final List<Frame> frames = source.read(dir, "basic.pcapng", file).assertClean().frames();

        assertEquals(4, frames.size());
        assertFrame(frames.get(0), first, first.length, ETHERNET, 1_700_000_000_123_456_000L, 0);
        assertFrame(frames.get(1), second, second.length, ETHERNET, 1_700_000_001_000_000_000L, 0);
        assertFrame(frames.get(2), truncated, 1514, ETHERNET, 1_700_000_002_000_001_000L, 0);
        assertFrame(frames.get(3), new byte[0], 0, ETHERNET, 0, 0);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void timestampResolutionsAndOffsets(final boolean bigEndian, final Source source)
    {
        final byte[] frame = TestFrames.numbered(9);
        final byte[] file = new PcapngTestWriter()
            .section(bigEndian)
            .interfaceDescription(ETHERNET, 0)                                      // 0: default, microseconds
            .interfaceDescription(ETHERNET, 0, tsresol(9))                          // 1: nanoseconds
            .interfaceDescription(ETHERNET, 0, tsresol(0x80 | 20))                  // 2: 2^-20 s
            .interfaceDescription(ETHERNET, 0, tsresol(3), tsoffset(1_000_000_000L)) // 3: ms, +1e9 s
            .interfaceDescription(ETHERNET, 0, tsoffset(0x1_0000_0002L))            // 4: us, offset in both words
            .interfaceDescription(ETHERNET, 0, tsresol(12))                         // 5: picoseconds
            .interfaceDescription(ETHERNET, 0, tsresol(0x80))                       // 6: 2^0 = seconds
            .interfaceDescription(ETHERNET, 0, tsresol(0))                          // 7: 10^0 = seconds
            .interfaceDescription(RAW_IP, 0, tsresol(0x80 | 10), tsoffset(-1))     // 8: 2^-10 s, -1 s (9 IDBs)
            .enhanced(0, 1_700_000_000_123_456L, frame)
            .enhanced(1, 1_700_000_000_123_456_789L, frame)
            .enhanced(2, (1_700_000_000L << 20) + (1 << 19), frame)
            .enhanced(2, (1_700_000_000L << 20) + 3, frame)
            .enhanced(3, 1_500, frame)
            .enhanced(4, 7, frame)
            .enhanced(5, 123_456_789_012L, frame)
            .enhanced(6, 5, frame)
            .enhanced(7, 5, frame)
            .enhanced(8, 3 * 1024 + 512, frame)
            .obsoletePacket(2, 0, (1_700_000_000L << 20) + (1 << 18), frame, frame.length)
            .toByteArray();

        final List<Frame> frames = source.read(dir, "resolutions.pcapng", file).assertClean().frames();

        final long[] expected = {
            1_700_000_000_123_456_000L,
            1_700_000_000_123_456_789L,
            1_700_000_000_500_000_000L,
            1_700_000_000L * NANOS + 2_861, // 3 * 1e9 / 2^20 = 2861.02...
            1_000_000_001_500_000_000L,
            0x1_0000_0002L * NANOS + 7_000,
            123_456_789L,
            5 * NANOS,
            5 * NANOS,
            2_500_000_000L,
            1_700_000_000_250_000_000L};
        final int[] interfaces = {0, 1, 2, 2, 3, 4, 5, 6, 7, 8, 2};
        assertEquals(expected.length, frames.size());
        for (int i = 0; i < expected.length; i++)
        {
            assertFrame(frames.get(i), frame, frame.length, interfaces[i] == 8 ? RAW_IP : ETHERNET, expected[i],
                interfaces[i]);
        }
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void sectionsResetInterfacesAndMayChangeByteOrder(final Source source)
    {
        final byte[] a = TestFrames.numbered(10);
        final byte[] b = TestFrames.patterned(28, 1);
        final byte[] c = TestFrames.numbered(11);
        final byte[] d = TestFrames.numbered(12);
        final byte[] file = new PcapngTestWriter()
            .section(false)
            .interfaceDescription(ETHERNET, 65_535)
            .interfaceDescription(RAW_IP, 65_535, tsresol(9))
            .enhanced(1, 5, b)
            .enhanced(0, 5, a)
            .section(true)
            .interfaceDescription(RAW_IP, 65_535)
            .enhanced(0, 6, b)
            .section(false, comment("third section"))
            .interfaceDescription(113, 0, tsresol(9))
            .interfaceDescription(ETHERNET, 0)
            .enhanced(1, 7, c)
            .enhanced(0, 8, d)
            .toByteArray();

        final List<Frame> frames = source.read(dir, "sections.pcapng", file).assertClean().frames();

        assertEquals(5, frames.size());
        assertFrame(frames.get(0), b, b.length, RAW_IP, 5, 1);
        assertFrame(frames.get(1), a, a.length, ETHERNET, 5_000, 0);
        // Section 2 declares its own interface 0, raw IP, microseconds.
        assertFrame(frames.get(2), b, b.length, RAW_IP, 6_000, 0);
        assertFrame(frames.get(3), c, c.length, ETHERNET, 7_000, 1);
        assertFrame(frames.get(4), d, d.length, 113, 8, 0);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void interfacesOfAnEarlierSectionAreGone(final Source source)
    {
        final byte[] frame = TestFrames.numbered(13);
        final PcapngTestWriter writer = new PcapngTestWriter()
            .section(true)
            .interfaceDescription(ETHERNET, 0)
            .interfaceDescription(ETHERNET, 0)
            .enhanced(1, 1, frame)
            .section(false)
            .interfaceDescription(RAW_IP, 0)
            .enhanced(0, 2, frame);
        final int bad = writer.length();
        writer.enhanced(1, 3, frame);

        final Outcome outcome = source.read(dir, "stale-interface.pcapng", writer.toByteArray());

        outcome.assertFormatError(bad, "packet for interface 1 but only 1 interfaces described");
        assertEquals(2, outcome.frames().size());
        assertFrame(outcome.frames().get(1), frame, frame.length, RAW_IP, 2_000, 0);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void simplePacketLengthIsTheLeastOfOriginalLengthSnaplenAndBlockRoom(final boolean bigEndian,
        final Source source)
    {
        final byte[] hundred = TestFrames.patterned(100, 3);
        final byte[] sixty = TestFrames.patterned(60, 4);
        final byte[] odd = TestFrames.patterned(41, 5);
        final byte[] file = new PcapngTestWriter()
            .section(bigEndian)
            .interfaceDescription(ETHERNET, 64, tsresol(9))
            .simple(100, hundred)      // snaplen 64 limits
            .simple(40, head(hundred, 40))
            .section(bigEndian)
            .interfaceDescription(RAW_IP, 0)
            .simple(1000, sixty)       // only 60 bytes of room: the block limits
            .simple(41, odd)           // padded to 44: the original length limits
            .simple(0, new byte[0])
            .section(!bigEndian)
            .interfaceDescription(ETHERNET, 65_535)
            .simple(500, sixty)        // snaplen above the room: the room limits
            .toByteArray();

        final List<Frame> frames = source.read(dir, "simple.pcapng", file).assertClean().frames();

        assertEquals(6, frames.size());
        assertFrame(frames.get(0), head(hundred, 64), 100, ETHERNET, 0, 0);
        assertFrame(frames.get(1), head(hundred, 40), 40, ETHERNET, 0, 0);
        assertFrame(frames.get(2), sixty, 1000, RAW_IP, 0, 0);
        assertFrame(frames.get(3), odd, 41, RAW_IP, 0, 0);
        assertFrame(frames.get(4), new byte[0], 0, RAW_IP, 0, 0);
        assertFrame(frames.get(5), sixty, 500, ETHERNET, 0, 0);
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void simplePacketNeedsInterfaceZero(final Source source)
    {
        final PcapngTestWriter writer = new PcapngTestWriter().section(false);
        final int bad = writer.length();
        writer.simple(10, new byte[10]);
        final Outcome outcome = source.read(dir, "simple-no-interface.pcapng", writer.toByteArray());
        outcome.assertFormatError(bad, "packet for interface 0 but only 0 interfaces described");
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void obsoletePacketBlocks(final boolean bigEndian, final Source source)
    {
        final byte[] first = TestFrames.numbered(20);
        final byte[] second = head(TestFrames.numbered(21), 30);
        final byte[] file = new PcapngTestWriter()
            .section(bigEndian)
            .interfaceDescription(ETHERNET, 0)
            .interfaceDescription(RAW_IP, 0, tsresol(9))
            .obsoletePacket(1, 7, 1_234_567_890_123L, first, first.length, option(2, new byte[4]))
            .obsoletePacket(0, 0, 1_000_000L, second, 1514)
            .toByteArray();

        final List<Frame> frames = source.read(dir, "obsolete.pcapng", file).assertClean().frames();

        assertEquals(2, frames.size());
        assertFrame(frames.get(0), first, first.length, RAW_IP, 1_234_567_890_123L, 1);
        assertFrame(frames.get(1), second, 1514, ETHERNET, NANOS, 0);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void unknownAndUninterestingBlocksAreSkipped(final boolean bigEndian, final Source source)
    {
        final byte[] frame = TestFrames.numbered(30);
        final byte[] big = TestFrames.patterned(70_000, 6);
        final byte[] file = new PcapngTestWriter()
            .section(bigEndian)
            .block(0x12345678, bytes("unknown block type"))
            .interfaceDescription(ETHERNET, 0)
            .block(PcapngTestWriter.NAME_RESOLUTION,
                new byte[] {1, 0, 8, 0, 10, 0, 0, 1, 'h', 'o', 's', 't', 0, 0, 0, 0, 0, 0, 0, 0})
            .enhanced(0, 1, frame)
            .block(PcapngTestWriter.INTERFACE_STATISTICS, new byte[20])
            .block(PcapngTestWriter.DECRYPTION_SECRETS, new byte[] {0x4B, 0x53, 0x4C, 0x54, 0, 0, 0, 0})
            .customBlock(PcapngTestWriter.CUSTOM_COPYABLE, bytes("custom"))
            .customBlock(PcapngTestWriter.CUSTOM_NOT_COPYABLE, big)
            .block(0x8000_0001, new byte[0])
            .block(0, new byte[4])
            .enhanced(0, 2, frame)
            .block(0x0BAD_0000, new byte[12])
            .toByteArray();

        final List<Frame> frames = source.read(dir, "unknown.pcapng", file).assertClean().frames();

        assertEquals(2, frames.size());
        assertFrame(frames.get(0), frame, frame.length, ETHERNET, 1_000, 0);
        assertFrame(frames.get(1), frame, frame.length, ETHERNET, 2_000, 0);
    }

    @Test
    void hugeOriginalLengthNeverMakesANegativeWireLength()
    {
        final byte[] frame = TestFrames.numbered(31);
        final byte[] file = new PcapngTestWriter()
            .section(false)
            .interfaceDescription(ETHERNET, 0)
            .enhanced(0, 1, frame, 0xFFFF_FFFFL)
            .enhanced(0, 1, frame, 0x8000_0000L)
            .obsoletePacket(0, 0, 1, frame, 0xFFFF_FFFFL)
            .simple(0xFFFF_FFFFL, frame)
            .toByteArray();
        final List<Frame> frames = Source.MAPPED.read(dir, "huge-origlen.pcapng", file).assertClean().frames();
        assertEquals(4, frames.size());
        for (int i = 0; i < frames.size(); i++)
        {
            final Frame f = frames.get(i);
            if (i < 3)
            {
                assertEquals(frame.length, f.capturedLength());
            }
            else
            {
                // A simple packet block's data length is min(origlen, snaplen): with both unbounded it is the
                // block's whole (4-byte padded) data area.
                assertEquals((frame.length + 3) & ~3, f.capturedLength());
            }
            assertTrue(f.wireLength() >= f.capturedLength(), () -> "wire length of " + f);
        }
    }

    // ---- errors: each names the file and the offset, and the frames before the fault were delivered ----

    /** A section, an interface and two packets; the next block starts at {@link PcapngTestWriter#length()}. */
    private static PcapngTestWriter goodStart(final boolean bigEndian)
    {
        return new PcapngTestWriter()
            .section(bigEndian)
            .interfaceDescription(ETHERNET, 0)
            .enhanced(0, 1, TestFrames.numbered(1))
            .enhanced(0, 2, TestFrames.numbered(2));
    }

    private static void assertGoodFramesFirst(final Outcome outcome)
    {
        assertEquals(2, outcome.frames().size(), "frames before the fault");
        assertFrame(outcome.frames().get(0), TestFrames.numbered(1), TestFrames.numbered(1).length, ETHERNET, 1_000, 0);
        assertFrame(outcome.frames().get(1), TestFrames.numbered(2), TestFrames.numbered(2).length, ETHERNET, 2_000, 0);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void invalidBlockLengths(final boolean bigEndian, final Source source)
    {
        final long[] lengths = {30, 33, 8, 0, 4, PcapngReader.MAX_BLOCK_LENGTH + 4L, 0x7FFF_FFF0L, 0xFFFF_FFFCL};
        for (final long length : lengths)
        {
            final PcapngTestWriter writer = goodStart(bigEndian);
            final int bad = writer.length();
            writer.rawBlock(PcapngTestWriter.ENHANCED_PACKET, length, new byte[40], length)
                .enhanced(0, 3, TestFrames.numbered(3));
            final Outcome outcome = source.read(dir, "length-" + length + ".pcapng", writer.toByteArray());
            outcome.assertFormatError(bad, "invalid block length " + length);
            assertGoodFramesFirst(outcome);
        }
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void invalidSectionHeaderLengths(final boolean bigEndian, final Source source)
    {
        for (final long length : new long[] {30, 0x7FFF_FFF0L})
        {
            final PcapngTestWriter writer = goodStart(bigEndian);
            final int bad = writer.length();
            final EndianBuffer body = new EndianBuffer(bigEndian).u32(PcapngTestWriter.BYTE_ORDER_MAGIC).u16(1).u16(0)
                .u64(-1);
            writer.rawBlock(PcapngTestWriter.SECTION_HEADER, length, body.toByteArray(), length);
            final Outcome outcome = source.read(dir, "shb-length-" + length + ".pcapng", writer.toByteArray());
            outcome.assertFormatError(bad, "invalid block length " + length);
            assertGoodFramesFirst(outcome);
        }
        final PcapngTestWriter writer = goodStart(bigEndian);
        final int bad = writer.length();
        final EndianBuffer body = new EndianBuffer(bigEndian).u32(PcapngTestWriter.BYTE_ORDER_MAGIC).u16(1).u16(0)
            .u64(-1);
        writer.rawBlock(PcapngTestWriter.SECTION_HEADER, 24, body.toByteArray(), 24);
        final Outcome outcome = source.read(dir, "shb-length-24.pcapng", writer.toByteArray());
        outcome.assertFormatError(bad, "section header block too short");
        assertGoodFramesFirst(outcome);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void trailingLengthMismatch(final boolean bigEndian, final Source source)
    {
        final PcapngTestWriter writer = goodStart(bigEndian);
        final int bad = writer.length();
        final EndianBuffer body = new EndianBuffer(bigEndian).u32(0).u32(0).u32(3).u32(20).u32(20).bytes(new byte[20]);
        writer.rawBlock(PcapngTestWriter.ENHANCED_PACKET, 52, body.toByteArray(), 56).raw(new byte[4]);
        final Outcome outcome = source.read(dir, "trailing.pcapng", writer.toByteArray());
        outcome.assertFormatError(bad, "trailing length 56 differs from leading length 52");
        assertGoodFramesFirst(outcome);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void sectionHeaderOptionTooLong(final boolean bigEndian, final Source source)
    {
        // Like libpcap's tests/shb-option-too-long.pcapng: an SHB option claims more bytes than its block holds.
        final byte[] file = new PcapngTestWriter()
            .section(bigEndian, comment("fine"), withDeclaredLength(3, 100, bytes("Linux")))
            .interfaceDescription(ETHERNET, 0)
            .enhanced(0, 1, TestFrames.numbered(1))
            .toByteArray();
        // Options start at 24; the comment option takes 4 + 4 bytes.
        final Outcome outcome = source.read(dir, "shb-option-too-long.pcapng", file);
        outcome.assertFormatError(32, "option 3 of length 100 runs past the end of its block");
        assertEquals(List.of(), outcome.frames());
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void optionOneByteTooLong(final boolean bigEndian, final Source source)
    {
        // The value would end exactly at the trailing length with 8 bytes; 9 runs one byte into it.
        final PcapngTestWriter writer = goodStart(bigEndian);
        final int bad = writer.length();
        final EndianBuffer body = new EndianBuffer(bigEndian).u16(ETHERNET).u16(0).u32(0).u16(2).u16(9)
            .bytes(new byte[8]);
        writer.block(PcapngTestWriter.INTERFACE_DESCRIPTION, body.toByteArray());
        final Outcome outcome = source.read(dir, "idb-option-too-long.pcapng", writer.toByteArray());
        outcome.assertFormatError(bad + 16, "option 2 of length 9 runs past the end of its block");
        assertGoodFramesFirst(outcome);

        final PcapngTestWriter exact = goodStart(bigEndian);
        final EndianBuffer fits = new EndianBuffer(bigEndian).u16(ETHERNET).u16(0).u32(0).u16(2).u16(8)
            .bytes(new byte[8]);
        exact.block(PcapngTestWriter.INTERFACE_DESCRIPTION, fits.toByteArray()).enhanced(1, 3, TestFrames.numbered(3));
        assertEquals(3, source.read(dir, "idb-option-fits.pcapng", exact.toByteArray()).assertClean().frames().size());
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void packetForAnUndeclaredInterface(final boolean bigEndian, final Source source)
    {
        final PcapngTestWriter writer = goodStart(bigEndian);
        final int bad = writer.length();
        writer.enhanced(1, 3, TestFrames.numbered(3));
        final Outcome outcome = source.read(dir, "undeclared.pcapng", writer.toByteArray());
        outcome.assertFormatError(bad, "packet for interface 1 but only 1 interfaces described");
        assertGoodFramesFirst(outcome);

        final PcapngTestWriter obsolete = goodStart(bigEndian);
        obsolete.obsoletePacket(5, 0, 3, TestFrames.numbered(3), 60);
        source.read(dir, "undeclared-pb.pcapng", obsolete.toByteArray())
            .assertFormatError(bad, "packet for interface 5 but only 1 interfaces described");

        final PcapngTestWriter none = new PcapngTestWriter().section(bigEndian);
        final int first = none.length();
        none.enhanced(0, 3, TestFrames.numbered(3));
        source.read(dir, "no-interface.pcapng", none.toByteArray())
            .assertFormatError(first, "packet for interface 0 but only 0 interfaces described");
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void badByteOrderMagic(final Source source)
    {
        final byte[] file = new PcapngTestWriter().sectionWithByteOrderMagic(0x1A2B3C4E)
            .interfaceDescription(ETHERNET, 0).enhanced(0, 1, TestFrames.numbered(1)).toByteArray();
        final Outcome outcome = source.read(dir, "bad-bom.pcapng", file);
        outcome.assertFormatError(8, "bad byte-order magic");
        assertEquals(List.of(), outcome.frames());

        final PcapngTestWriter writer = goodStart(true);
        final int second = writer.length();
        writer.sectionWithByteOrderMagic(0x4D3C2B1B).interfaceDescription(ETHERNET, 0)
            .enhanced(0, 1, TestFrames.numbered(1));
        final Outcome later = source.read(dir, "bad-bom-2.pcapng", writer.toByteArray());
        later.assertFormatError(second + 8, "bad byte-order magic");
        assertGoodFramesFirst(later);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void unsupportedVersion(final boolean bigEndian, final Source source)
    {
        final PcapngTestWriter writer = goodStart(bigEndian);
        final int second = writer.length();
        writer.section(bigEndian, 2, 0).interfaceDescription(ETHERNET, 0).enhanced(0, 1, TestFrames.numbered(1));
        final Outcome outcome = source.read(dir, "version.pcapng", writer.toByteArray());
        outcome.assertFormatError(second + 12, "unsupported pcapng version 2");
        assertGoodFramesFirst(outcome);
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void fileCutShort(final boolean bigEndian, final Source source)
    {
        final PcapngTestWriter writer = goodStart(bigEndian);
        final int third = writer.length();
        writer.enhanced(0, 3, TestFrames.numbered(3));
        final byte[] whole = writer.toByteArray();
        // In the block header, then in the block body, then one byte short of the trailing length.
        for (final int cut : new int[] {third + 4, third + 7, third + 20, whole.length - 1})
        {
            final Outcome outcome = source.read(dir, "cut-" + cut + ".pcapng", head(whole, cut));
            outcome.assertFormatError(third, "cut short");
            assertGoodFramesFirst(outcome);
        }
        // A cut exactly between blocks is a clean end.
        assertEquals(2, source.read(dir, "cut-between.pcapng", head(whole, third)).assertClean().frames().size());
    }

    @ParameterizedTest(name = "bigEndian={0} {1}")
    @MethodSource("orders")
    void capturedLengthLargerThanItsBlock(final boolean bigEndian, final Source source)
    {
        final PcapngTestWriter writer = goodStart(bigEndian);
        final int bad = writer.length();
        writer.enhancedRaw(0, 3, 61, 61, new byte[60]);
        final Outcome outcome = source.read(dir, "caplen.pcapng", writer.toByteArray());
        outcome.assertFormatError(bad, "captured length 61 larger than its enhanced packet block");
        assertGoodFramesFirst(outcome);

        final PcapngTestWriter huge = goodStart(bigEndian);
        huge.enhancedRaw(0, 3, 0xFFFF_FFF0L, 60, new byte[60]);
        source.read(dir, "caplen-huge.pcapng", huge.toByteArray())
            .assertFormatError(bad, "captured length 4294967280 larger than its enhanced packet block");

        final PcapngTestWriter shortBlock = goodStart(bigEndian);
        shortBlock.rawBlock(PcapngTestWriter.ENHANCED_PACKET, 28, new byte[16], 28);
        source.read(dir, "epb-short.pcapng", shortBlock.toByteArray())
            .assertFormatError(bad, "enhanced packet block too short");

        final PcapngTestWriter shortInterface = goodStart(bigEndian);
        shortInterface.rawBlock(PcapngTestWriter.INTERFACE_DESCRIPTION, 16, new byte[4], 16);
        source.read(dir, "idb-short.pcapng", shortInterface.toByteArray())
            .assertFormatError(bad, "interface description block too short");
    }

    @ParameterizedTest
    @EnumSource(Source.class)
    void fileShorterThanASectionHeader(final Source source)
    {
        final byte[] whole = new PcapngTestWriter().section(false).toByteArray();
        assertEquals(28, whole.length);
        for (final int length : new int[] {4, 8, 11, 12, 20, 27})
        {
            final Outcome outcome = source.read(dir, "short-" + length + ".pcapng", head(whole, length));
            outcome.assertFormatError(0, length < 12 ? "not a pcapng file" : "cut short in a section header block");
        }
        assertEquals(List.of(), source.read(dir, "empty-section.pcapng", whole).assertClean().frames());
    }
}
