package dev.flowtracker.ingest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.source.file.PcapTestWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Corrupt and hostile capture files through {@code tracker analyze}, end to end: a broken header inside a frame is a
 * counted decode event and the analysis goes on (exit 0); a broken file ends the analysis with exit 1 and an error
 * naming the file and the byte offset, and every connection seen before the fault is still written. Each file holds
 * a clean connection before the hostile part (and after it, where the analysis goes on).
 */
class HostileCaptureFileTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CLIENT = 0x0A00_0001;
    private static final int SERVER = 0x0A00_0002;
    private static final int FIN = 0x01;
    private static final int SYN = 0x02;
    private static final int PSH = 0x08;
    private static final int ACK = 0x10;
    private static final int ETHERNET = 14;
    private static final int IPV4 = 20;

    @TempDir
    Path dir;

    private record Run(int exit, List<JsonNode> records, String err)
    {
        /** The summary's decode events ("decode events: non_ip=2 ..."), empty when none. */
        Map<String, Long> events()
        {
            final Map<String, Long> events = new TreeMap<>();
            for (final String line : err.split("\n"))
            {
                if (line.startsWith("decode events:"))
                {
                    for (final String event : line.substring("decode events:".length()).trim().split(" "))
                    {
                        final String[] parts = event.split("=");
                        events.put(parts[0], Long.parseLong(parts[1]));
                    }
                }
            }
            return events;
        }

        JsonNode record(final int port)
        {
            return records.stream().filter(r -> r.get("id.orig_p").asInt() == port).findFirst().orElseThrow();
        }

        /** Records of the connection from the client's {@code port}. */
        long connectionsFrom(final int port)
        {
            return records.stream().filter(r -> r.get("id.orig_p").asInt() == port).count();
        }
    }

    private static Run analyze(final Path file)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            exit = TrackerCli.run(new String[] {"analyze", "--no-progress", "-C", file.toString()}, o, e);
        }
        final List<JsonNode> records = new ArrayList<>();
        for (final String line : out.toString(StandardCharsets.UTF_8).split("\n"))
        {
            if (!line.isEmpty())
            {
                try
                {
                    records.add(JSON.readTree(line));
                }
                catch (final IOException e)
                {
                    throw new UncheckedIOException(e);
                }
            }
        }
        return new Run(exit, records, err.toString(StandardCharsets.UTF_8));
    }

    // ---------------------------------------------------------------- frames

    /** Ethernet + IPv4 + TCP with {@code options} (padded to 32 bits) and {@code payload} bytes. */
    private static byte[] tcp(final int port, final int flags, final int seq, final int ack, final byte[] options,
        final int payload)
    {
        final int optionBytes = (options.length + 3) & ~3;
        final int tcpLength = 20 + optionBytes;
        final ByteBuffer frame = ByteBuffer.allocate(ETHERNET + IPV4 + tcpLength + payload);
        frame.put(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1}).putShort((short)0x0800);
        frame.put((byte)0x45).put((byte)0).putShort((short)(IPV4 + tcpLength + payload)).putInt(0).put((byte)64)
            .put((byte)6).putShort((short)0).putInt(CLIENT).putInt(SERVER);
        frame.putShort((short)port).putShort((short)80).putInt(seq).putInt(ack)
            .put((byte)((tcpLength / 4) << 4)).put((byte)flags).putShort((short)0xFFFF).putInt(0);
        frame.put(options);
        return frame.array();
    }

    private static byte[] tcp(final int port, final int flags, final int seq, final int payload)
    {
        return tcp(port, flags, seq, 0, new byte[0], payload);
    }

    /** A short connection from {@code port}: SYN, data, FIN (one record). */
    private static PcapTestWriter connection(final PcapTestWriter writer, final int port, final long second)
    {
        return writer.record(second, 0, tcp(port, SYN, 100, 0)).record(second, 10, tcp(port, ACK | PSH, 101, 10))
            .record(second, 20, tcp(port, ACK | FIN, 111, 0));
    }

    /** A clean connection from port 1000, then {@code hostile}, then a clean one from port 2000. */
    private Path sandwich(final String name, final byte[]... hostile) throws IOException
    {
        final PcapTestWriter writer = connection(PcapTestWriter.ethernet(), 1000, 1);
        for (final byte[] frame : hostile)
        {
            writer.record(2, 0, frame);
        }
        return connection(writer, 2000, 3).writeTo(dir.resolve(name));
    }

    private static byte[] patched(final byte[] frame, final int offset, final int... values)
    {
        final byte[] copy = frame.clone();
        for (int i = 0; i < values.length; i++)
        {
            copy[offset + i] = (byte)values[i];
        }
        return copy;
    }

    /** Asserts exit 0, both clean connections written, and exactly {@code expected} decode events. */
    private static void assertGoesOnCounting(final Run run, final Map<String, Long> expected)
    {
        assertEquals(0, run.exit(), run.err());
        assertEquals(1, run.connectionsFrom(1000), run.err());
        assertEquals(1, run.connectionsFrom(2000), run.err());
        assertEquals(expected, run.events(), run.err());
    }

    /** Asserts exit 1 with the error naming the file and offset, and the clean connection before it written. */
    private static void assertStopsAt(final Run run, final Path file, final long offset, final String problem)
    {
        assertEquals(1, run.exit(), run.err());
        assertTrue(run.err().contains("tracker analyze: error: " + file + ": " + problem + " at byte offset " +
            offset + "\n"), run.err());
        assertEquals(1, run.connectionsFrom(1000), "the connection before the fault is written: " + run.err());
        assertEquals(0, run.connectionsFrom(2000), "nothing after the fault is read: " + run.err());
    }

    // ---------------------------------------------------------------- broken files: exit 1 with an offset

    @Test
    void recordHeaderCutShortStopsWithItsOffset() throws IOException
    {
        final PcapTestWriter writer = connection(PcapTestWriter.ethernet(), 1000, 1);
        final int cut = writer.length();
        final Path file = writer.raw(new byte[9]).writeTo(dir.resolve("cut-header.pcap"));
        assertStopsAt(analyze(file), file, cut, "file cut short in the middle of a record header");
    }

    @Test
    void absurdCapturedLengthStopsWithItsOffset() throws IOException
    {
        final PcapTestWriter writer = connection(PcapTestWriter.ethernet(), 1000, 1);
        final int bad = writer.length();
        final Path file = connection(writer.recordHeader(2, 0, 0xFFFF_FFFFL, 60).raw(new byte[60]), 2000, 3)
            .writeTo(dir.resolve("absurd-caplen.pcap"));
        assertStopsAt(analyze(file), file, bad,
            "corrupt record: captured length 4294967295 exceeds the maximum of 262144");
    }

    @Test
    void absurdCapturedLengthInAGzipStreamStopsWithoutBufferingIt() throws IOException
    {
        final PcapTestWriter writer = connection(PcapTestWriter.ethernet(), 1000, 1);
        final int bad = writer.length();
        final byte[] pcap = writer.recordHeader(2, 0, 0x7FFF_FFF0L, 60).raw(new byte[60]).toByteArray();
        final ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(compressed))
        {
            gzip.write(pcap);
        }
        final Path file = Files.write(dir.resolve("absurd-caplen.pcap.gz"), compressed.toByteArray());
        assertStopsAt(analyze(file), file, bad,
            "corrupt record: captured length 2147483632 exceeds the maximum of 262144");
    }

    @Test
    void pcapngBlockLengthsThatCannotBeStopWithTheBlocksOffset() throws IOException
    {
        for (final long length : new long[] {0, 8, 13, 0xFFFF_FFFCL})
        {
            final Pcapng writer = new Pcapng().cleanConnection();
            final int bad = writer.length();
            final Path file = writer.block(6, length, new byte[40], length).writeTo(dir.resolve("length.pcapng"));
            assertStopsAt(analyze(file), file, bad, "corrupt block: invalid block length " + length);
        }
    }

    @Test
    void pcapngTrailingLengthThatDisagreesStopsWithTheBlocksOffset() throws IOException
    {
        final Pcapng writer = new Pcapng().cleanConnection();
        final int bad = writer.length();
        final Path file = writer.block(6, 52, new byte[40], 56).writeTo(dir.resolve("trailing.pcapng"));
        assertStopsAt(analyze(file), file, bad, "corrupt block: trailing length 56 differs from leading length 52");
    }

    @Test
    void pcapngOptionRunningPastItsBlockStopsWithTheOptionsOffset() throws IOException
    {
        final Pcapng writer = new Pcapng().cleanConnection();
        final int block = writer.length();
        // A second interface whose if_tsresol option says 200 bytes where 4 are left.
        final byte[] body = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putShort((short)1).putShort((short)0)
            .putInt(0).putShort((short)9).putShort((short)200).put((byte)6).array();
        final Path file = writer.block(1, 12 + body.length, body, 12 + body.length).writeTo(dir.resolve("opt.pcapng"));
        assertStopsAt(analyze(file), file, block + 16, "option 9 of length 200 runs past the end of its block");
    }

    @Test
    void pcapngCapturedLengthBeyondItsBlockStopsWithTheBlocksOffset() throws IOException
    {
        final Pcapng writer = new Pcapng().cleanConnection();
        final int bad = writer.length();
        final Path file = writer.packet(tcp(2000, SYN, 1, 0), 100_000).writeTo(dir.resolve("caplen.pcapng"));
        assertStopsAt(analyze(file), file, bad, "captured length 100000 larger than its enhanced packet block");
    }

    @Test
    void pcapngCutInTheMiddleOfABlockStopsWithTheBlocksOffset() throws IOException
    {
        final Pcapng writer = new Pcapng().cleanConnection();
        final int cut = writer.length();
        final byte[] whole = writer.packet(tcp(2000, SYN, 1, 0)).toByteArray();
        final Path file = Files.write(dir.resolve("cut.pcapng"), Arrays.copyOf(whole, cut + 20));
        assertStopsAt(analyze(file), file, cut, "file cut short in the middle of a block");
    }

    // ---------------------------------------------------------------- hostile frames: counted, analysis goes on

    @Test
    void capturedLengthAboveTheSnaplenIsReadWhole() throws IOException
    {
        // Like Wireshark, the record's own length is trusted up to 262,144 bytes whatever the header's snaplen.
        final PcapTestWriter writer = connection(new PcapTestWriter(false, false, 40, 1), 1000, 1);
        final Path file = connection(writer, 2000, 3).writeTo(dir.resolve("snaplen.pcap"));
        final Run run = analyze(file);
        assertGoesOnCounting(run, Map.of());
        assertEquals(10, run.record(1000).get("orig_bytes").asLong(), "the payload beyond the snaplen is read");
    }

    @Test
    void absurdOriginalLengthIsNotTrustedForTheRecord() throws IOException
    {
        final PcapTestWriter writer = connection(PcapTestWriter.ethernet(), 1000, 1);
        writer.record(2, 0, tcp(1000, ACK, 111, 0), 0xFFFF_FFFFL);
        final Run run = analyze(connection(writer, 2000, 3).writeTo(dir.resolve("origlen.pcap")));
        assertGoesOnCounting(run, Map.of());
        assertEquals(4 * 40 + 10, run.record(1000).get("orig_ip_bytes").asLong(), "IP bytes come from IP");
    }

    @Test
    void zeroLengthFramesAreCountedAsEmpty() throws IOException
    {
        assertGoesOnCounting(analyze(sandwich("empty.pcap", new byte[0], new byte[0])), Map.of("frame_empty", 2L));
    }

    @Test
    void ipTotalLengthLiesAreCounted() throws IOException
    {
        final byte[] frame = tcp(3000, ACK, 1, 20);
        final int totalLength = ETHERNET + 2;
        final Run run = analyze(sandwich("ip-length.pcap",
            patched(frame, totalLength, 0x05, 0xDC),   // 1500: more than the frame
            patched(frame, totalLength, 0x00, 0x13),   // 19: less than the IP header
            patched(frame, totalLength, 0x00, 28)));   // 28: eight bytes of TCP, the rest is padding
        assertGoesOnCounting(run, Map.of("ip_length_exceeds_frame", 1L, "ipv4_total_length_invalid", 1L,
            "tcp_header_truncated", 1L));
        assertEquals(1, run.connectionsFrom(3000), "the clamped segment is still tracked");
    }

    @Test
    void tcpDataOffsetBelowFiveOrBeyondThePacketIsCounted() throws IOException
    {
        final byte[] frame = tcp(3000, ACK, 1, 0);
        final int dataOffset = ETHERNET + IPV4 + 12;
        final Run run = analyze(sandwich("data-offset.pcap", patched(frame, dataOffset, 0x40),
            patched(frame, dataOffset, 0xF0)));
        assertGoesOnCounting(run, Map.of("tcp_data_offset_too_small", 1L, "tcp_short_segment", 1L));
        assertEquals(1, run.connectionsFrom(3000), "bogus headers still belong to their connection");
    }

    @Test
    void tcpOptionLengthsOfZeroOneOrPastTheHeaderAreCounted() throws IOException
    {
        final Run run = analyze(sandwich("options.pcap",
            tcp(3000, SYN, 1, 0, new byte[] {2, 0, 5, 0xB4 - 256}, 0),
            tcp(3000, ACK, 2, 0, new byte[] {1, 1, 8, 1}, 0),
            tcp(3000, ACK, 2, 0, new byte[] {1, 1, 8, 10}, 0)));
        assertGoesOnCounting(run, Map.of("tcp_option_malformed", 3L));
    }

    @Test
    void ipv6ExtensionHeaderLoopsAreBounded() throws IOException
    {
        // 2,000 destination-options headers, each naming another: the chain ends at the decoder's limit.
        final int headers = 2_000;
        final ByteBuffer ipv6 = ByteBuffer.allocate(40 + 8 * headers + 20);
        ipv6.putInt(0x6000_0000).putShort((short)(8 * headers + 20)).put((byte)60).put((byte)64);
        ipv6.put(new byte[32]);
        for (int i = 0; i < headers; i++)
        {
            ipv6.put((byte)(i == headers - 1 ? 6 : 60)).put((byte)0).put(new byte[6]);
        }
        final Run run = analyze(sandwich("ipv6-loop.pcap", ethernet(0x86DD, ipv6.array())));
        assertGoesOnCounting(run, Map.of("ipv6_extension_chain_too_long", 1L));
    }

    @Test
    void encapsulationDepthBombsAreBounded() throws IOException
    {
        // 5,000 VLAN tags; IPv4 in IPv4 a thousand deep; GRE in GRE a thousand deep.
        final ByteBuffer vlans = ByteBuffer.allocate(4 * 5_000 + 60);
        for (int i = 0; i < 5_000; i++)
        {
            vlans.putShort((short)1).putShort((short)0x8100);
        }
        final byte[] inner = Arrays.copyOfRange(tcp(3000, SYN, 1, 0), ETHERNET, ETHERNET + 40);
        vlans.put(inner);
        byte[] ipInIp = inner;
        byte[] greInGre = inner;
        for (int i = 0; i < 1_000; i++)
        {
            ipInIp = ipv4(4, ipInIp);
            greInGre = ipv4(47, concat(new byte[] {0, 0, 0x08, 0x00}, greInGre));
        }
        final byte[] firstTag = new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, (byte)0x81, 0};
        final Run run = analyze(sandwich("depth.pcap", concat(firstTag, vlans.array()), ethernet(0x0800, ipInIp),
            ethernet(0x0800, greInGre)));
        assertGoesOnCounting(run, Map.of("encapsulation_too_deep", 3L));
    }

    private static byte[] ethernet(final int etherType, final byte[] payload)
    {
        return concat(new byte[] {2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, (byte)(etherType >>> 8), (byte)etherType},
            payload);
    }

    /** An IPv4 header (total length capped at 65,535) around {@code payload}. */
    private static byte[] ipv4(final int protocol, final byte[] payload)
    {
        final ByteBuffer header = ByteBuffer.allocate(IPV4);
        header.put((byte)0x45).put((byte)0).putShort((short)Math.min(0xFFFF, IPV4 + payload.length)).putInt(0)
            .put((byte)64).put((byte)protocol).putShort((short)0).putInt(0xAC10_0001).putInt(0xAC10_0002);
        return concat(header.array(), payload);
    }

    private static byte[] concat(final byte[] first, final byte[] second)
    {
        final byte[] all = Arrays.copyOf(first, first.length + second.length);
        System.arraycopy(second, 0, all, first.length, second.length);
        return all;
    }

    /** A little-endian pcapng file: one section, one Ethernet interface, then blocks as given. */
    private final class Pcapng
    {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Pcapng()
        {
            final byte[] section = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(0x1A2B_3C4D)
                .putShort((short)1).putShort((short)0).putLong(-1).array();
            block(0x0A0D_0D0A, 28, section, 28);
            final byte[] interfaceBody = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putShort((short)1)
                .putShort((short)0).putInt(0).array();
            block(1, 20, interfaceBody, 20);
        }

        Pcapng cleanConnection()
        {
            return packet(tcp(1000, SYN, 100, 0)).packet(tcp(1000, ACK | PSH, 101, 10))
                .packet(tcp(1000, ACK | FIN, 111, 0));
        }

        Pcapng packet(final byte[] frame)
        {
            return packet(frame, frame.length);
        }

        /** An enhanced packet block whose captured-length field says {@code capturedLength}. */
        Pcapng packet(final byte[] frame, final int capturedLength)
        {
            final int padded = (frame.length + 3) & ~3;
            final byte[] body = ByteBuffer.allocate(20 + padded).order(ByteOrder.LITTLE_ENDIAN).putInt(0).putInt(0)
                .putInt(1_000 * (out.size() + 1)).putInt(capturedLength).putInt(frame.length).put(frame).array();
            return block(6, 12 + body.length, body, 12 + body.length);
        }

        Pcapng block(final int type, final long length, final byte[] body, final long trailingLength)
        {
            out.writeBytes(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(type).putInt((int)length)
                .array());
            out.writeBytes(body);
            out.writeBytes(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int)trailingLength).array());
            return this;
        }

        int length()
        {
            return out.size();
        }

        byte[] toByteArray()
        {
            return out.toByteArray();
        }

        Path writeTo(final Path file) throws IOException
        {
            return Files.write(file, out.toByteArray());
        }
    }
}
