package dev.flowtracker.ingest.aggregate;

import static dev.flowtracker.ingest.aggregate.AggregateFixture.analysis;
import static dev.flowtracker.ingest.aggregate.AggregateFixture.record;
import static dev.flowtracker.ingest.aggregate.AggregateFixture.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.streams.test.TestRecord;

import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The per-minute rollups through {@link org.apache.kafka.streams.TopologyTestDriver}: one final row per (tap, server,
 * port, minute) once the minute and its grace have passed in event time, with sums equal to those of its records.
 */
class AggregateRollupTest
{
    /** 2026-11-21T09:22:00Z: a minute boundary, in seconds. */
    private static final long MINUTE = 1795252920L;
    /** A record far later, that moves stream time past every window of a test. */
    private static final ObjectNode LATER = record("tap-z", "192.0.2.9", 1, String.valueOf(MINUTE + 3600));

    @TempDir
    Path stateDir;

    @Test
    void shouldSumEveryCountOfAMinutesRecordsIntoOneRow()
    {
        final List<ObjectNode> records = new ArrayList<>();
        records.add(record("tap-a", "10.99.0.1", 8080, MINUTE + ".5"));
        records.add(analysis(record("tap-a", "10.99.0.1", 8080, MINUTE + 10 + ".25"), "orig", "retransmission", 3));
        final ObjectNode rejected = record("tap-a", "10.99.0.1", 8080, MINUTE + 20 + ".125");
        rejected.put("conn_state", "REJ").put("orig_bytes", 0).put("resp_bytes", 0);
        ((ObjectNode)rejected.path("tcp")).putNull("initial_rtt");
        records.add(analysis(rejected, "resp", "duplicate_ack", 2));
        final ObjectNode big = record("tap-a", "10.99.0.1", 8080, MINUTE + 59 + ".999");
        big.put("orig_bytes", 5_000_000_000L).put("conn_state", "S1").put("missed_bytes", 7);
        ((ObjectNode)big.path("tcp")).put("initial_rtt", new BigDecimal("0.250001")).put("end_reason", "timeout");
        records.add(analysis(analysis(big, "orig", "retransmission", 1), "orig", "fast_retransmission", 1));
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.send(records.toArray(JsonNode[]::new));
            fixture.send(LATER);
            final List<TestRecord<String, String>> rows = fixture.rollups.readRecordsToList();
            assertEquals(1, rows.size(), rows.toString());
            assertEquals("tap-a|10.99.0.1|8080|2026-11-21T09:22:00Z", rows.getFirst().key());
            final JsonNode row = tree(rows.getFirst().value());
            assertEquals(expected(records), withoutWindow(row));
            assertEquals(MINUTE, row.path("window_start").asLong());
            assertEquals(MINUTE + 60, row.path("window_end").asLong());
            assertEquals("2026-11-21T09:22:00Z", row.path("minute").asText());
            assertEquals(Map.of("SF", 2L, "REJ", 1L, "S1", 1L), counts(row.path("conn_state")));
            assertEquals(4, row.path("analysis").path("orig").path("retransmission").asLong());
            assertEquals(new BigDecimal("0.250001"), row.path("handshake_rtt").path("max").decimalValue());
            assertEquals(1, fixture.counters.rollupsWritten());
        }
    }

    @Test
    void shouldPutRecordsInTheMinuteTheirConnectionEndedIn()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            final ObjectNode spanning = record("tap-a", "10.0.0.1", 443, MINUTE + 60 + ".2");
            spanning.put("duration", new BigDecimal("0.4")).put("ts", new BigDecimal(MINUTE + 59 + ".8"));
            fixture.send(record("tap-a", "10.0.0.1", 443, MINUTE + 59 + ".999"), spanning,
                record("tap-a", "10.0.0.1", 443, MINUTE + 60 + ".000"), LATER);
            final Map<String, Long> connections = new TreeMap<>();
            for (final TestRecord<String, String> row : fixture.rollups.readRecordsToList())
            {
                connections.put(row.key(), tree(row.value()).path("connections").asLong());
            }
            assertEquals(Map.of("tap-a|10.0.0.1|443|2026-11-21T09:22:00Z", 1L,
                "tap-a|10.0.0.1|443|2026-11-21T09:23:00Z", 2L), connections);
        }
    }

    @Test
    void shouldKeepTapsServersAndPortsApart()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.send(record("a", "10.0.0.1", 80, MINUTE + ".1"), record("b", "10.0.0.1", 80, MINUTE + ".2"),
                record("a", "10.0.0.2", 80, MINUTE + ".3"), record("a", "10.0.0.1", 81, MINUTE + ".4"),
                record("a", "2001:db8::1", 80, MINUTE + ".5"), record("a", "10.0.0.1", 80, MINUTE + ".6"), LATER);
            final Map<String, Long> connections = new TreeMap<>();
            fixture.rollups.readRecordsToList().forEach(row ->
                connections.put(row.key(), tree(row.value()).path("connections").asLong()));
            assertEquals(Map.of("a|10.0.0.1|80|2026-11-21T09:22:00Z", 2L, "b|10.0.0.1|80|2026-11-21T09:22:00Z", 1L,
                "a|10.0.0.2|80|2026-11-21T09:22:00Z", 1L, "a|10.0.0.1|81|2026-11-21T09:22:00Z", 1L,
                "a|2001:db8::1|80|2026-11-21T09:22:00Z", 1L), connections);
        }
    }

    @Test
    void shouldWriteARowOnlyOnceTheMinuteAndItsGraceHavePassed()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            final long close = MINUTE + 60 + AggregateFixture.GRACE.toSeconds();
            fixture.send(record("a", "10.0.0.1", 80, MINUTE + ".1"));
            fixture.send(record("a", "10.0.0.9", 80, close - 1 + ".999"));
            assertTrue(fixture.rollups.isEmpty(), "no row before the minute's end plus the grace");
            fixture.send(record("a", "10.0.0.1", 80, MINUTE + 30 + ".0")); // late, within the grace: counted
            fixture.send(record("a", "10.0.0.9", 80, close + ".000"));
            final List<TestRecord<String, String>> rows = fixture.rollups.readRecordsToList();
            assertEquals(1, rows.size(), rows.toString());
            assertEquals(2, tree(rows.getFirst().value()).path("connections").asLong());
            fixture.send(record("a", "10.0.0.1", 80, MINUTE + 40 + ".0")); // after the close: dropped, no new row
            fixture.send(LATER);
            assertTrue(fixture.rollups.readRecordsToList().stream().noneMatch(r -> r.key().contains("09:22")));
        }
    }

    @Test
    void shouldCountAndSkipMalformedRecordsAndGoOn()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.input.pipeInput("k", "not json {");
            fixture.input.pipeInput("k", "[1,2]");
            fixture.input.pipeInput("k", "{\"tap\":\"a\"}");
            fixture.input.pipeInput("k", "{\"ts\":-5,\"duration\":0}");
            fixture.input.pipeInput("k", (String)null);
            final ObjectNode noCommunityId = record("a", "10.0.0.1", 80, MINUTE + ".1");
            noCommunityId.remove("community_id");
            fixture.send(noCommunityId);
            fixture.send(record("a", "10.0.0.1", 80, MINUTE + ".2"), LATER);
            assertEquals(1, fixture.rollups.readRecordsToList().size());
            assertEquals(8, fixture.counters.read());
            assertEquals(1, fixture.counters.malformed(MalformedReason.NOT_JSON));
            assertEquals(1, fixture.counters.malformed(MalformedReason.NOT_OBJECT));
            assertEquals(2, fixture.counters.malformed(MalformedReason.BAD_TIMESTAMP));
            assertEquals(1, fixture.counters.malformed(MalformedReason.EMPTY));
            assertEquals(1, fixture.counters.malformed(MalformedReason.MISSING_FIELD));
        }
    }

    /** The row the test computes from the records themselves: every count summed, as the output names them. */
    private static ObjectNode expected(final List<ObjectNode> records)
    {
        final ObjectNode row = AggregateFixture.JSON.createObjectNode();
        final JsonNode first = records.getFirst();
        row.put("tap", first.path("tap").asText()).put("server", first.path("id.resp_h").asText())
            .put("server_port", first.path("id.resp_p").asInt()).put("connections", records.size());
        final Map<String, Long> states = new TreeMap<>();
        final Map<String, Long> reasons = new TreeMap<>();
        final Map<String, Map<String, Long>> counters = new TreeMap<>();
        BigDecimal rttSum = BigDecimal.ZERO;
        BigDecimal rttMax = null;
        long rttCount = 0;
        for (final ObjectNode record : records)
        {
            for (final String total : List.of("orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "orig_ip_bytes",
                "resp_ip_bytes", "missed_bytes"))
            {
                row.put(total, row.path(total).asLong() + record.path(total).asLong());
            }
            states.merge(record.path("conn_state").asText(), 1L, Long::sum);
            reasons.merge(record.path("tcp").path("end_reason").asText(), 1L, Long::sum);
            for (final String group : List.of("analysis", "security"))
            {
                for (final String side : List.of("orig", "resp"))
                {
                    record.path("tcp").path(side).path(group).properties().forEach(counter -> counters
                        .computeIfAbsent(group + "/" + side, k -> new TreeMap<>())
                        .merge(counter.getKey(), counter.getValue().asLong(), Long::sum));
                }
            }
            final JsonNode rtt = record.path("tcp").path("initial_rtt");
            if (rtt.isNumber())
            {
                rttCount++;
                rttSum = rttSum.add(rtt.decimalValue());
                rttMax = rttMax == null || rtt.decimalValue().compareTo(rttMax) > 0 ? rtt.decimalValue() : rttMax;
            }
        }
        row.set("conn_state", AggregateFixture.JSON.valueToTree(states));
        row.set("end_reason", AggregateFixture.JSON.valueToTree(reasons));
        counters.forEach((path, sums) -> row.withObject(path.substring(0, path.indexOf('/')))
            .set(path.substring(path.indexOf('/') + 1), AggregateFixture.JSON.valueToTree(sums)));
        row.putObject("handshake_rtt").put("count", rttCount).put("sum", rttSum).put("max", rttMax);
        return normalised(row);
    }

    private static ObjectNode withoutWindow(final JsonNode row)
    {
        final ObjectNode copy = ((ObjectNode)row).deepCopy();
        copy.remove(List.of("minute", "window_start", "window_end"));
        return normalised(copy);
    }

    /** Neither decimal scale nor number node types matter: both rows through one text form, parsed alike. */
    private static ObjectNode normalised(final ObjectNode row)
    {
        final ObjectNode rtt = (ObjectNode)row.path("handshake_rtt");
        for (final String field : List.of("sum", "max"))
        {
            if (rtt.path(field).isNumber())
            {
                rtt.put(field, rtt.path(field).decimalValue().stripTrailingZeros().toPlainString());
            }
        }
        return AggregateFixture.parse(row.toString());
    }

    private static Map<String, Long> counts(final JsonNode node)
    {
        final Map<String, Long> counts = new TreeMap<>();
        node.properties().forEach(e -> counts.put(e.getKey(), e.getValue().asLong()));
        return counts;
    }
}
