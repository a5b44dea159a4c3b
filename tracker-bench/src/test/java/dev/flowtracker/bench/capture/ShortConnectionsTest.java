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
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The short-connection capture, checked with our own decoder and analysis (no speed is asserted here). */
class ShortConnectionsTest
{
    private static final long WRAP_NEAR = (1L << 32) - 5_000;

    @TempDir
    Path dir;

    /** Small and quick: 20 ms RTTs, 500 new connections/s, so slots turn over several times. */
    private static ShortConnections.Shape shape(final long connections, final int concurrent)
    {
        return new ShortConnections.Shape(connections, concurrent, 500, 20_000, 200, 4_000, 3);
    }

    @Test
    void shouldCompleteEveryConnectionWithThirteenFramesAndZeeksStateSf() throws IOException
    {
        final Path file = dir.resolve("short.pcap");
        final ShortConnections.Result result = ShortConnections.write(file, shape(2_000, 150));
        assertEquals(2_000, result.connections());
        assertEquals(2_000 * ShortConnections.FRAMES_PER_CONNECTION, result.frames());

        final List<ObjectNode> records = Records.analyse(file, Lifecycle.ZEEK);
        assertEquals(2_000, records.size());
        final Set<String> tuples = new HashSet<>();
        long wrappedClients = 0;
        long wrappedServers = 0;
        for (final JsonNode record : records)
        {
            assertEquals("SF", Records.text(record, "conn_state"), record.toString());
            assertEquals("ShADdFaf", Records.text(record, "history"), record.toString());
            assertEquals(ShortConnections.CLIENT_FRAMES, record.get("orig_pkts").asLong());
            assertEquals(ShortConnections.SERVER_FRAMES, record.get("resp_pkts").asLong());
            assertEquals(200, record.get("orig_bytes").asLong());
            assertEquals(4_000, record.get("resp_bytes").asLong());
            assertEquals(0, record.get("missed_bytes").asLong());
            assertEquals("fin", record.get("tcp").get("end_reason").asText());
            for (final String side : new String[] {"orig", "resp"})
            {
                final JsonNode analysis = record.get("tcp").get(side).get("analysis");
                analysis.properties().forEach(counter ->
                    assertEquals(0, counter.getValue().asLong(), side + " " + counter.getKey() + ": " + record));
            }
            assertTrue(tuples.add(Records.text(record, "id.orig_h") + ":" + record.get("id.orig_p").asInt() + ">" +
                Records.text(record, "id.resp_h") + ":" + record.get("id.resp_p").asInt()), "4-tuple seen twice");
            wrappedClients += record.get("tcp").get("orig").get("isn").asLong() > WRAP_NEAR ? 1 : 0;
            wrappedServers += record.get("tcp").get("resp").get("isn").asLong() > WRAP_NEAR ? 1 : 0;
        }
        assertTrue(wrappedClients >= 2 && wrappedServers >= 2,
            "every 1,000th connection's ISNs sit just below 2^32: " + wrappedClients + ", " + wrappedServers);
    }

    @Test
    void shouldNeverHaveMoreThanTheAskedConnectionsOpenAndReachIt() throws IOException
    {
        for (final int concurrent : new int[] {1, 40, 300, 5_000})
        {
            final Path file = dir.resolve("open-" + concurrent + ".pcap");
            final ShortConnections.Result result = ShortConnections.write(file, shape(1_200, concurrent));
            final int expected = Math.min(1_200, concurrent);
            assertEquals(expected, result.peakOpen(), "the generator's own count");
            assertEquals(expected, peakOpen(file), "counted from the capture, first to last frame of each 4-tuple");
        }
    }

    @Test
    void shouldWriteTheSameFramesAtAnotherConcurrencyAndTheSameBytesForTheSameSeed() throws IOException
    {
        final Path a = dir.resolve("a.pcap");
        final Path b = dir.resolve("b.pcap");
        final Path c = dir.resolve("c.pcap");
        final ShortConnections.Result few = ShortConnections.write(a, shape(1_000, 20));
        final ShortConnections.Result many = ShortConnections.write(c, shape(1_000, 1_000));
        assertEquals(few.frames(), many.frames());
        assertEquals(few.bytes(), many.bytes(), "every connection's frames have the same sizes");
        assertTrue(many.durationNanos() > few.durationNanos(), "all open at once: each lives longer");
        ShortConnections.write(b, shape(1_000, 20));
        assertEquals(-1L, Files.mismatch(a, b));
        assertNotEquals(-1L, Files.mismatch(a, c));
    }

    /**
     * The most 4-tuples between their first and last frame at one time, from the decoded capture; also checks
     * that every checksum verifies and that time never goes back.
     */
    private static int peakOpen(final Path file) throws IOException
    {
        final Map<String, long[]> spans = new HashMap<>();
        final long[] previous = {Long.MIN_VALUE};
        Records.forEachPacket(file, (event, p) ->
        {
            assertEquals(DecodeEvent.TCP_SEGMENT, event);
            assertEquals(DecodedPacket.CHECKSUM_GOOD, p.tcpChecksum);
            assertEquals(DecodedPacket.CHECKSUM_GOOD, p.ipChecksum);
            assertTrue(p.timestampNanos >= previous[0], "time order");
            previous[0] = p.timestampNanos;
            final boolean fromClient = p.dstPort == 443;
            final String key = fromClient ? p.srcLow + ":" + p.srcPort + ">" + p.dstLow :
                p.dstLow + ":" + p.dstPort + ">" + p.srcLow;
            final long[] span = spans.computeIfAbsent(key, k -> new long[] {p.timestampNanos, 0});
            span[1] = p.timestampNanos;
        });
        // +1 at each first frame, -1 after each last frame; at equal times opens count first (the worst case).
        final TreeMap<Long, int[]> changes = new TreeMap<>();
        for (final long[] span : spans.values())
        {
            changes.computeIfAbsent(span[0], t -> new int[2])[0]++;
            changes.computeIfAbsent(span[1], t -> new int[2])[1]++;
        }
        int open = 0;
        int peak = 0;
        for (final int[] change : changes.values())
        {
            open += change[0];
            peak = Math.max(peak, open);
            open -= change[1];
        }
        return peak;
    }
}
