package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Compares flow records of two captures of the same traffic. Two packet sockets on one interface each take their own
 * timestamp when the kernel copies a frame into their ring (a few microseconds apart), so the fields computed from
 * timestamps differ slightly: {@code ts}, {@code uid} (derived from it), {@code duration}, {@code initial_rtt} and the
 * RTT minimum, mean and maximum. Everything else (states, flags, counts, bytes, sequence numbers, options, analysis
 * counters, RTT sample counts, end reasons) must be equal, but for the order of packets sent the opposite ways at
 * nearly the same moment (see {@link #assertSameExceptTiming}).
 */
final class Records
{
    /** Decimals as BigDecimal: a nanosecond timestamp has more digits than a double holds. */
    private static final ObjectMapper JSON =
        new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private Records()
    {
    }

    /** The records without their timestamp-derived fields, sorted. */
    static List<String> withoutTiming(final List<String> records) throws JsonProcessingException
    {
        final List<String> stripped = new ArrayList<>();
        for (final String line : records)
        {
            final ObjectNode record = (ObjectNode)JSON.readTree(line);
            record.remove(List.of("ts", "uid", "duration"));
            final ObjectNode tcp = (ObjectNode)record.get("tcp");
            tcp.remove("initial_rtt");
            for (final String side : List.of("orig", "resp"))
            {
                ((ObjectNode)tcp.get(side).get("rtt")).remove(List.of("min", "mean", "max"));
            }
            stripped.add(JSON.writeValueAsString(record));
        }
        Collections.sort(stripped);
        return stripped;
    }

    /**
     * Asserts both captures' records are equal but for timing, and their start times at most {@code maxSkewNanos}
     * apart.
     */
    static void assertSameExceptTiming(final List<String> expected, final List<String> actual, final long maxSkewNanos)
        throws JsonProcessingException
    {
        final List<String> expectedRecords = withoutTiming(expected);
        final List<String> actualRecords = withoutTiming(actual);
        if (!expectedRecords.equals(actualRecords))
        {
            // Two sockets may see two packets sent the opposite ways microseconds apart in either order (the kernel
            // taps outgoing and incoming frames on different paths): the same events, interleaved otherwise. Only
            // the history's order and the bytes in flight may then differ, in a few connections.
            assertEquals(withoutOrder(expectedRecords), withoutOrder(actualRecords),
                "records apart from timestamp-derived fields and the interleaving of the two directions");
            final List<String> reordered = new ArrayList<>(actualRecords);
            reordered.removeAll(expectedRecords);
            assertTrue(reordered.size() <= Math.max(1, expected.size() / 10),
                "too many connections seen in another order: " + reordered);
        }
        final Map<String, BigDecimal> expectedStarts = starts(expected);
        for (final Map.Entry<String, BigDecimal> start : starts(actual).entrySet())
        {
            final BigDecimal reference = expectedStarts.get(start.getKey());
            assertNotNull(reference, start.getKey());
            final long skew = start.getValue().subtract(reference).abs().movePointRight(9).longValueExact();
            assertTrue(skew <= maxSkewNanos, start.getKey() + " starts " + skew + " ns away from the reference");
        }
    }

    /** Records without the history's order (its letters sorted) and the bytes in flight, which follow it. */
    private static List<String> withoutOrder(final List<String> records) throws JsonProcessingException
    {
        final List<String> stripped = new ArrayList<>();
        for (final String line : records)
        {
            final ObjectNode record = (ObjectNode)JSON.readTree(line);
            final char[] letters = record.get("history").asText().toCharArray();
            Arrays.sort(letters);
            record.put("history", new String(letters));
            for (final String side : List.of("orig", "resp"))
            {
                ((ObjectNode)record.get("tcp").get(side)).remove("max_bytes_in_flight");
            }
            stripped.add(JSON.writeValueAsString(record));
        }
        Collections.sort(stripped);
        return stripped;
    }

    private static Map<String, BigDecimal> starts(final List<String> records) throws JsonProcessingException
    {
        final Map<String, BigDecimal> starts = new HashMap<>();
        for (final String line : records)
        {
            final JsonNode record = JSON.readTree(line);
            starts.put(record.get("id.orig_h").asText() + ":" + record.get("id.orig_p").asInt() + ">" +
                record.get("id.resp_h").asText() + ":" + record.get("id.resp_p").asInt(),
                record.get("ts").decimalValue());
        }
        return starts;
    }

    /** How many records have each conn_state. */
    static Map<String, Integer> connStates(final List<String> records) throws JsonProcessingException
    {
        final Map<String, Integer> states = new TreeMap<>();
        for (final String line : records)
        {
            states.merge(JSON.readTree(line).get("conn_state").asText(), 1, Integer::sum);
        }
        return states;
    }

    static JsonNode parse(final String line) throws JsonProcessingException
    {
        return JSON.readTree(line);
    }
}
