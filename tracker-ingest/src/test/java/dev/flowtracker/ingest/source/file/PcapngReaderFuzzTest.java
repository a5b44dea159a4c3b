package dev.flowtracker.ingest.source.file;

import com.code_intelligence.jazzer.junit.FuzzTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.flowtracker.ingest.source.file.PcapngTestWriter.comment;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.custom;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.epbFlags;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.option;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.tsoffset;
import static dev.flowtracker.ingest.source.file.PcapngTestWriter.tsresol;

/**
 * Coverage-guided fuzzing of {@link PcapngReader} (see {@link ReaderFuzzing} for what every input must satisfy, and
 * docs/reliability.md for how to fuzz longer). The normal test run replays the seeds and committed findings.
 */
class PcapngReaderFuzzTest
{
    private static final int ETHERNET = 1;
    private static final int RAW = 101;
    /** The smallest packet block (a simple packet block without data); a section header takes 28. */
    private static final int SMALLEST_PACKET_BLOCK = 16;

    /** Block types the assembled mode can write, by selector. */
    private static final int[] BLOCK_TYPES = {PcapngTestWriter.SECTION_HEADER, PcapngTestWriter.INTERFACE_DESCRIPTION,
        PcapngTestWriter.PACKET, PcapngTestWriter.SIMPLE_PACKET, PcapngTestWriter.NAME_RESOLUTION,
        PcapngTestWriter.INTERFACE_STATISTICS, PcapngTestWriter.ENHANCED_PACKET, PcapngTestWriter.DECRYPTION_SECRETS,
        PcapngTestWriter.CUSTOM_COPYABLE, PcapngTestWriter.CUSTOM_NOT_COPYABLE};

    /**
     * Input: byte 0 picks the mode, the rest is the file (even) or the blocks to assemble into one (odd): each a
     * type selector byte (an index into {@link #BLOCK_TYPES}), a 16-bit big-endian body length, and the body. The
     * assembled file has well-formed length fields, in the byte order of the section header before the block, so
     * that mutations reach what lies inside blocks (a one-byte change to a body length is a whole new block) instead
     * of stopping at the length checks; the raw mode keeps those checks in play.
     */
    @MethodSource("seeds")
    @FuzzTest(maxDuration = "60s")
    void readsAnyFileOrStopsAtAnOffset(final byte[] input)
    {
        if (input.length == 0)
        {
            return;
        }
        final byte[] rest = Arrays.copyOfRange(input, 1, input.length);
        final byte[] file = (input[0] & 1) != 0 ? assemble(rest) : rest;
        ReaderFuzzing.check(file, PcapngReader::new, 28, SMALLEST_PACKET_BLOCK);
    }

    /** Builds a file from (type selector, body length, body) chunks; see {@link #readsAnyFileOrStopsAtAnOffset}. */
    static byte[] assemble(final byte[] chunks)
    {
        final EndianBuffer out = new EndianBuffer(false);
        int at = 0;
        while (at + 3 <= chunks.length)
        {
            final int type = BLOCK_TYPES[(chunks[at] & 0xFF) % BLOCK_TYPES.length];
            final int length =
                Math.min(((chunks[at + 1] & 0xFF) << 8) | (chunks[at + 2] & 0xFF), chunks.length - at - 3);
            final byte[] body = Arrays.copyOfRange(chunks, at + 3, at + 3 + length);
            at += 3 + length;
            if (type == PcapngTestWriter.SECTION_HEADER && body.length >= 4)
            {
                out.order(ByteBuffer.wrap(body).getInt(0) == PcapngTestWriter.BYTE_ORDER_MAGIC);
            }
            final int total = 12 + ((body.length + 3) & ~3);
            out.u32(type).u32(total).bytes(body).pad4().u32(total);
        }
        return out.toByteArray();
    }

    /** The chunks {@link #assemble} turns back into {@code file} (a well-formed file of the selectable types). */
    static byte[] disassemble(final byte[] file)
    {
        final EndianBuffer chunks = new EndianBuffer(true);
        final ByteBuffer in = ByteBuffer.wrap(file);
        ByteOrder order = ByteOrder.LITTLE_ENDIAN;
        int position = 0;
        while (position + 12 <= file.length)
        {
            if (in.order(ByteOrder.BIG_ENDIAN).getInt(position) == PcapngTestWriter.SECTION_HEADER)
            {
                order = in.getInt(position + 8) == PcapngTestWriter.BYTE_ORDER_MAGIC ? ByteOrder.BIG_ENDIAN :
                    ByteOrder.LITTLE_ENDIAN;
            }
            in.order(order);
            final int blockType = in.getInt(position);
            final int length = in.getInt(position + 4);
            int selector = -1;
            for (int i = 0; i < BLOCK_TYPES.length; i++)
            {
                selector = BLOCK_TYPES[i] == blockType ? i : selector;
            }
            if (selector < 0)
            {
                throw new IllegalArgumentException("no selector for block type " + blockType);
            }
            chunks.u8(selector).u16(length - 12).bytes(file, position + 8, length - 12);
            position += length;
        }
        return chunks.toByteArray();
    }

    /** Sample frames in every block type, both byte orders, several sections and timestamp resolutions. */
    static Stream<byte[]> seeds()
    {
        final List<SampleCaptures.Record> records = SampleCaptures.records(6);
        final List<byte[]> seeds = new ArrayList<>();
        for (final boolean bigEndian : new boolean[] {false, true})
        {
            final PcapngTestWriter writer = new PcapngTestWriter()
                .section(bigEndian, comment("sample"), option(2, bytes("x86_64")))
                .interfaceDescription(ETHERNET, 65_535, option(PcapngTestWriter.IF_NAME, bytes("veth0")), tsresol(6));
            for (final SampleCaptures.Record record : records)
            {
                writer.enhanced(0, record.seconds() * 1_000_000 + record.micros(), record.frame(),
                    record.frame().length, epbFlags(1));
            }
            seeds.add(writer.toByteArray());
        }
        final byte[] frame = records.get(0).frame();
        final byte[] data = records.get(3).frame();
        seeds.add(new PcapngTestWriter()
            .section(false)
            .interfaceDescription(ETHERNET, 64, tsresol(9), tsoffset(1_700_000_000L))
            .interfaceDescription(RAW, 0, tsresol(0x80 | 20))
            .simple(frame.length, frame)
            .obsoletePacket(0, 3, 1_234_567, data, data.length + 100)
            .block(PcapngTestWriter.NAME_RESOLUTION, new byte[] {1, 0, 8, 0, 10, 0, 0, 1, 'h', 'o', 's', 't', 0, 0, 0,
                0, 0, 0, 0, 0})
            .block(PcapngTestWriter.INTERFACE_STATISTICS, new byte[20])
            .customBlock(PcapngTestWriter.CUSTOM_COPYABLE, bytes("custom"))
            .enhanced(1, 99, Arrays.copyOfRange(data, 14, data.length))
            .section(true, custom(PcapngTestWriter.OPT_CUSTOM_STRING, PcapngTestWriter.PEN, bytes("second")))
            .interfaceDescription(ETHERNET, 0, tsresol(3))
            .enhanced(0, 1, frame, 0xFFFF_FFFFL)
            .toByteArray());
        // Each file as it is, and as the blocks to assemble it from.
        return seeds.stream().flatMap(file -> Stream.of(concat((byte)0, file), concat((byte)1, disassemble(file))));
    }

    private static byte[] concat(final byte first, final byte[] rest)
    {
        final byte[] all = new byte[1 + rest.length];
        all[0] = first;
        System.arraycopy(rest, 0, all, 1, rest.length);
        return all;
    }

    private static byte[] bytes(final String text)
    {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
