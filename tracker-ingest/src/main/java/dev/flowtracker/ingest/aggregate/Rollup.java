package dev.flowtracker.ingest.aggregate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.streams.kstream.Window;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.Instant;
import java.util.Map;
import java.util.TreeMap;

/**
 * The sums of one (tap, server address, server port) over one window: connections, the conn_state and end_reason
 * mix, bytes and packets, every analysis and security counter of either side (by the names the records carry, so a
 * counter added to the record is summed without a change here) and handshake RTT count, sum and maximum. RTTs are
 * kept in integer nanoseconds, so sums are exact. Mutable; owned by the stream thread that runs its task.
 */
public final class Rollup
{
    private static final String[] SIDES = {"orig", "resp"};
    private static final String[] TOTALS = {
        "orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "orig_ip_bytes", "resp_ip_bytes", "missed_bytes"};
    private static final String NONE = "none";

    private String tap;
    private String server;
    private int serverPort;
    private long connections;
    private final long[] totals = new long[TOTALS.length];
    private final Map<String, Long> connStates = new TreeMap<>();
    private final Map<String, Long> endReasons = new TreeMap<>();
    /** Per side: counter name to sum, for {@code analysis} and {@code security}. */
    private final Map<String, Map<String, Long>> analysis = sides();
    private final Map<String, Map<String, Long>> security = sides();
    private long rttCount;
    private long rttSumNanos;
    private long rttMaxNanos;

    /** An empty rollup (the window aggregate's start). */
    public Rollup()
    {
    }

    /** The rollup of one record. */
    public static Rollup of(final InputRecord.Flow flow)
    {
        final Rollup rollup = new Rollup();
        final JsonNode tree = flow.tree();
        rollup.tap = flow.tap();
        rollup.server = flow.server();
        rollup.serverPort = flow.serverPort();
        rollup.connections = 1;
        for (int i = 0; i < TOTALS.length; i++)
        {
            rollup.totals[i] = tree.path(TOTALS[i]).asLong();
        }
        rollup.connStates.put(label(tree.get("conn_state")), 1L);
        final JsonNode tcp = tree.path("tcp");
        rollup.endReasons.put(label(tcp.get("end_reason")), 1L);
        for (final String side : SIDES)
        {
            addCounters(tcp.path(side).path("analysis"), rollup.analysis.get(side));
            addCounters(tcp.path(side).path("security"), rollup.security.get(side));
        }
        final JsonNode rtt = tcp.get("initial_rtt");
        if (rtt != null && rtt.isNumber() && rtt.decimalValue().signum() >= 0)
        {
            final long nanos = rtt.decimalValue().movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValue();
            rollup.rttCount = 1;
            rollup.rttSumNanos = nanos;
            rollup.rttMaxNanos = nanos;
        }
        return rollup;
    }

    /** Adds {@code other} to this rollup and returns this one (the window aggregator). */
    public Rollup add(final Rollup other)
    {
        if (tap == null)
        {
            tap = other.tap;
            server = other.server;
            serverPort = other.serverPort;
        }
        connections += other.connections;
        for (int i = 0; i < totals.length; i++)
        {
            totals[i] += other.totals[i];
        }
        other.connStates.forEach((state, count) -> connStates.merge(state, count, Long::sum));
        other.endReasons.forEach((reason, count) -> endReasons.merge(reason, count, Long::sum));
        for (final String side : SIDES)
        {
            other.analysis.get(side).forEach((name, count) -> analysis.get(side).merge(name, count, Long::sum));
            other.security.get(side).forEach((name, count) -> security.get(side).merge(name, count, Long::sum));
        }
        rttCount += other.rttCount;
        rttSumNanos += other.rttSumNanos;
        rttMaxNanos = Math.max(rttMaxNanos, other.rttMaxNanos);
        return this;
    }

    /** The number of connections summed. */
    public long connections()
    {
        return connections;
    }

    /**
     * The rollup row of the output topic: the group and the window first ({@code minute} its start in ISO-8601 UTC,
     * {@code window_start}/{@code window_end} in epoch seconds), then the sums.
     */
    public String row(final Window window)
    {
        final ObjectNode row = InputRecord.JSON.createObjectNode();
        row.put("tap", tap);
        row.put("server", server);
        row.put("server_port", serverPort);
        row.put("minute", minute(window.start()));
        row.put("window_start", window.start() / 1000);
        row.put("window_end", window.end() / 1000);
        body(row);
        return row.toString();
    }

    /** A window start as the rollup key and {@code minute} write it: ISO-8601 UTC, e.g. 2026-11-20T09:21:00Z. */
    public static String minute(final long epochMillis)
    {
        return Instant.ofEpochMilli(epochMillis).toString();
    }

    byte[] toBytes()
    {
        final ObjectNode node = InputRecord.JSON.createObjectNode();
        node.put("tap", tap);
        node.put("server", server);
        node.put("server_port", serverPort);
        body(node);
        try
        {
            return InputRecord.JSON.writeValueAsBytes(node);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    static Rollup fromBytes(final byte[] bytes)
    {
        final JsonNode node;
        try
        {
            node = InputRecord.JSON.readTree(bytes);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("a rollup in a store or repartition topic is not JSON", e);
        }
        final Rollup rollup = new Rollup();
        rollup.tap = node.path("tap").textValue();
        rollup.server = node.path("server").textValue();
        rollup.serverPort = node.path("server_port").asInt();
        rollup.connections = node.path("connections").asLong();
        for (int i = 0; i < TOTALS.length; i++)
        {
            rollup.totals[i] = node.path(TOTALS[i]).asLong();
        }
        addCounters(node.path("conn_state"), rollup.connStates);
        addCounters(node.path("end_reason"), rollup.endReasons);
        for (final String side : SIDES)
        {
            addCounters(node.path("analysis").path(side), rollup.analysis.get(side));
            addCounters(node.path("security").path(side), rollup.security.get(side));
        }
        final JsonNode rtt = node.path("handshake_rtt");
        rollup.rttCount = rtt.path("count").asLong();
        rollup.rttSumNanos = nanos(rtt.get("sum"));
        rollup.rttMaxNanos = nanos(rtt.get("max"));
        return rollup;
    }

    private void body(final ObjectNode node)
    {
        node.put("connections", connections);
        node.set("conn_state", counters(connStates));
        node.set("end_reason", counters(endReasons));
        for (int i = 0; i < TOTALS.length; i++)
        {
            node.put(TOTALS[i], totals[i]);
        }
        final ObjectNode analysisNode = node.putObject("analysis");
        final ObjectNode securityNode = node.putObject("security");
        for (final String side : SIDES)
        {
            analysisNode.set(side, counters(analysis.get(side)));
            securityNode.set(side, counters(security.get(side)));
        }
        final ObjectNode rtt = node.putObject("handshake_rtt");
        rtt.put("count", rttCount);
        rtt.put("sum", seconds(rttSumNanos));
        if (rttCount == 0)
        {
            rtt.putNull("max");
        }
        else
        {
            rtt.put("max", seconds(rttMaxNanos));
        }
    }

    private static ObjectNode counters(final Map<String, Long> counts)
    {
        final ObjectNode node = InputRecord.JSON.createObjectNode();
        counts.forEach(node::put);
        return node;
    }

    private static void addCounters(final JsonNode from, final Map<String, Long> into)
    {
        for (final Map.Entry<String, JsonNode> field : from.properties())
        {
            if (field.getValue().isIntegralNumber())
            {
                into.merge(field.getKey(), field.getValue().longValue(), Long::sum);
            }
        }
    }

    private static String label(final JsonNode value)
    {
        return value == null || !value.isTextual() ? NONE : value.textValue();
    }

    private static BigDecimal seconds(final long nanos)
    {
        return BigDecimal.valueOf(nanos, 9).stripTrailingZeros();
    }

    private static long nanos(final JsonNode seconds)
    {
        return seconds == null || !seconds.isNumber() ? 0 :
            seconds.decimalValue().movePointRight(9).setScale(0, RoundingMode.HALF_UP).longValue();
    }

    private static Map<String, Map<String, Long>> sides()
    {
        final Map<String, Map<String, Long>> sides = new TreeMap<>();
        for (final String side : SIDES)
        {
            sides.put(side, new TreeMap<>());
        }
        return sides;
    }
}
