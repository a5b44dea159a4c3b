package dev.flowtracker.bench.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.Lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The synthetic extremes, checked with our own decoder and analysis. */
class SyntheticCaptureTest
{
    private static final long FIVE_GIB = 5L << 30;
    private static final long GAP = 1_000;

    @TempDir
    Path dir;

    @Test
    void shouldCrossTheSequenceWrapAndReportFiveGibPerFlow() throws IOException
    {
        final Path file = dir.resolve("wrap.pcap");
        // 64,000-byte segments with headers only captured: 5 GiB per flow in about 10 MB of file.
        final SyntheticCapture.Result result = SyntheticCapture.wrapFlows(file, 2, FIVE_GIB, 64_000, 0, GAP, 7);
        final long dataSegments = (FIVE_GIB + 63_999) / 64_000;
        final long acks = (dataSegments + 1) / 2;
        assertEquals(2 * (3 + dataSegments + acks + 3), result.frames());

        final long[] wraps = new long[2];
        final long[] previousSeq = {-1, -1};
        Records.forEachPacket(file, (event, p) ->
        {
            assertEquals(DecodeEvent.TCP_SEGMENT, event);
            if (p.dstPort == 5001 && p.payloadLength > 0)
            {
                final int flow = p.srcPort - 40_000;
                final long seq = p.seq & 0xFFFF_FFFFL;
                if (previousSeq[flow] >= 0 && seq < previousSeq[flow])
                {
                    wraps[flow]++;
                }
                previousSeq[flow] = seq;
            }
        });
        // 5 GiB from just below 2^32: across 2^32 once near the start, then once for every further 4 GiB.
        assertEquals(2, wraps[0], "flow 0 wraps");
        assertEquals(2, wraps[1], "flow 1 wraps");

        final List<ObjectNode> records = Records.analyse(file, Lifecycle.ZEEK);
        assertEquals(2, records.size());
        for (final JsonNode record : records)
        {
            assertEquals(FIVE_GIB, record.get("orig_bytes").asLong(), record.toString());
            assertEquals(0, record.get("resp_bytes").asLong());
            assertEquals("SF", Records.text(record, "conn_state"));
            assertEquals(3 + dataSegments + 1, record.get("orig_pkts").asLong());
            assertEquals(1 + acks + 1, record.get("resp_pkts").asLong());
            final JsonNode orig = record.get("tcp").get("orig");
            assertEquals(FIVE_GIB, orig.get("payload_bytes").asLong());
            assertEquals(FIVE_GIB + 1, orig.get("sequence_bytes").asLong(), "payload plus FIN");
            assertEquals(0, orig.get("analysis").get("retransmission").asLong());
            assertEquals(0, orig.get("analysis").get("out_of_order").asLong());
        }
    }

    @Test
    void shouldWriteFullSegmentsWithChecksumsOurDecoderVerifies() throws IOException
    {
        final Path file = dir.resolve("wrap-full.pcap");
        final long bytes = 3_000_000;
        SyntheticCapture.wrapFlows(file, 1, bytes, 1448, Integer.MAX_VALUE, GAP, 7);
        final long[] good = new long[1];
        Records.forEachPacket(file, (event, p) ->
        {
            assertEquals(DecodedPacket.CHECKSUM_GOOD, p.tcpChecksum);
            assertEquals(DecodedPacket.CHECKSUM_GOOD, p.ipChecksum);
            good[0]++;
        });
        assertTrue(good[0] > 2000);
        final JsonNode record = Records.analyse(file, Lifecycle.ZEEK).getFirst();
        assertEquals(bytes, record.get("orig_bytes").asLong());
        assertEquals(0, record.get("missed_bytes").asLong(), "every byte captured");
        assertEquals("ShADaFf", Records.text(record, "history"), "the server only ACKs");
    }

    @Test
    void shouldHoldEveryConcurrentFlowOpenToTheEnd() throws IOException
    {
        for (final boolean ipv6 : new boolean[] {false, true})
        {
            final Path file = dir.resolve("flows-" + ipv6 + ".pcap");
            final SyntheticCapture.Result result = SyntheticCapture.concurrentFlows(file, 3_000, ipv6, false, GAP, 3);
            assertEquals(9_000, result.frames());
            final long[] good = new long[1];
            Records.forEachPacket(file, (event, p) ->
            {
                assertEquals(ipv6 ? 6 : 4, p.ipVersion);
                assertEquals(DecodedPacket.CHECKSUM_GOOD, p.tcpChecksum);
                good[0]++;
            });
            assertEquals(9_000, good[0]);
            final List<ObjectNode> records = Records.analyse(file, Lifecycle.ZEEK);
            assertEquals(3_000, records.size());
            for (final JsonNode record : records)
            {
                assertEquals("S1", Records.text(record, "conn_state"), record.toString());
                assertEquals("ShA", Records.text(record, "history"));
                assertEquals("end_of_input", record.get("tcp").get("end_reason").asText(), "open at the end");
            }
        }
    }

    @Test
    void shouldExchangeARequestAndAResponse() throws IOException
    {
        final Path file = dir.resolve("exchange.pcap");
        SyntheticCapture.concurrentFlows(file, 100, false, true, GAP, 3);
        final List<ObjectNode> records = Records.analyse(file, Lifecycle.ZEEK);
        assertEquals(100, records.size());
        for (final JsonNode record : records)
        {
            assertEquals(100, record.get("orig_bytes").asLong());
            assertEquals(300, record.get("resp_bytes").asLong());
            assertEquals("ShADd", Records.text(record, "history"), record.toString());
        }
    }

    @Test
    void shouldFloodSynsFromDistinctSourcesAnsweringTheAskedShare() throws IOException
    {
        final Path file = dir.resolve("flood.pcap");
        final SyntheticCapture.Result result = SyntheticCapture.synFlood(file, 2_000, 50, GAP, 11);
        final long answered = result.frames() - 2_000;
        assertTrue(answered > 800 && answered < 1_200, "about half answered: " + answered);
        final List<ObjectNode> records = Records.analyse(file, Lifecycle.ZEEK);
        assertEquals(2_000, records.size(), "one connection per spoofed SYN");
        final long synAcked = records.stream().filter(r -> Records.text(r, "history").equals("Sh")).count();
        final long unanswered = records.stream().filter(r -> Records.text(r, "history").equals("S")).count();
        assertEquals(answered, synAcked);
        assertEquals(2_000 - answered, unanswered);
    }

    @Test
    void shouldWriteTheSameBytesForTheSameSeedAndOthersForAnother() throws IOException
    {
        final Path a = dir.resolve("a.pcap");
        final Path b = dir.resolve("b.pcap");
        final Path c = dir.resolve("c.pcap");
        SyntheticCapture.synFlood(a, 500, 50, GAP, 5);
        SyntheticCapture.synFlood(b, 500, 50, GAP, 5);
        SyntheticCapture.synFlood(c, 500, 50, GAP, 6);
        assertEquals(-1L, Files.mismatch(a, b));
        assertNotEquals(-1L, Files.mismatch(a, c));
        SyntheticCapture.concurrentFlows(a, 500, true, true, GAP, 5);
        SyntheticCapture.concurrentFlows(b, 500, true, true, GAP, 5);
        assertEquals(-1L, Files.mismatch(a, b));
        SyntheticCapture.wrapFlows(a, 2, 1_000_000, 1448, 100, GAP, 5);
        SyntheticCapture.wrapFlows(b, 2, 1_000_000, 1448, 100, GAP, 5);
        assertEquals(-1L, Files.mismatch(a, b));
    }
}
