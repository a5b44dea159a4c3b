package dev.flowtracker.ingest.aggregate;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;

/**
 * One message of the record topic, parsed once on the consumer side: a final {@link Flow} record, an {@link Interim}
 * one ({@code --update-interval}: counts so far of a connection still open, which the aggregation leaves out so
 * that each connection counts once, by its final record) or a {@link Malformed} one (never an exception, so a bad
 * message cannot stop a stream thread). Immutable.
 */
public sealed interface InputRecord permits InputRecord.Flow, InputRecord.Interim, InputRecord.Malformed
{
    /**
     * JSON as the aggregation reads and writes it: decimals as BigDecimal (ts, RTTs summed exactly), written plain
     * (no exponent), and a value with trailing content refused.
     */
    JsonMapper JSON = JsonMapper.builder()
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
        .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
        .build();

    /** Event times beyond this (year 5138) are refused: they would overflow window arithmetic. */
    long MAX_EVENT_TIME_MS = 100_000_000_000_000L;

    /**
     * A flow record: its text as it came, its parsed tree and the fields the aggregation keys on.
     *
     * @param eventTimeMs {@code ts + duration} in epoch milliseconds (floor): when the connection's last packet was
     *                    seen, the time the tracker writes the record.
     */
    record Flow(
        String json, JsonNode tree, String tap, String communityId, String server, int serverPort, long eventTimeMs)
        implements InputRecord
    {
        /** The rollup group: {@code tap|server|port}. */
        public String serverKey()
        {
            return tap + '|' + server + '|' + serverPort;
        }
    }

    /** An interim record ({@code "interim":true}): left out. */
    record Interim() implements InputRecord
    {
    }

    /** A message that is not a usable flow record, and why. */
    record Malformed(MalformedReason reason) implements InputRecord
    {
    }

    /** Parses a message value. */
    static InputRecord parse(final byte[] value)
    {
        if (value == null || value.length == 0)
        {
            return new Malformed(MalformedReason.EMPTY);
        }
        final JsonNode tree;
        try
        {
            tree = JSON.readTree(value);
        }
        catch (final IOException e)
        {
            return new Malformed(MalformedReason.NOT_JSON);
        }
        if (tree == null || !tree.isObject())
        {
            return new Malformed(MalformedReason.NOT_OBJECT);
        }
        if (tree.path("interim").asBoolean(false))
        {
            return new Interim();
        }
        final long eventTimeMs = eventTimeMs(tree);
        if (eventTimeMs < 0)
        {
            return new Malformed(MalformedReason.BAD_TIMESTAMP);
        }
        final JsonNode tap = tree.get("tap");
        final JsonNode communityId = tree.get("community_id");
        final JsonNode server = tree.get("id.resp_h");
        final JsonNode port = tree.get("id.resp_p");
        if (tap == null || !tap.isTextual() || tap.asText().isEmpty() || communityId == null ||
            !communityId.isTextual() || server == null || !server.isTextual() || port == null || !port.isInt() ||
            port.intValue() < 0 || port.intValue() > 65535)
        {
            return new Malformed(MalformedReason.MISSING_FIELD);
        }
        return new Flow(new String(value, StandardCharsets.UTF_8).strip(), tree, tap.asText(), communityId.asText(),
            server.asText(), port.intValue(), eventTimeMs);
    }

    /** {@code ts + duration} in epoch milliseconds, or -1 when either is missing, negative or out of range. */
    private static long eventTimeMs(final JsonNode tree)
    {
        final JsonNode ts = tree.get("ts");
        final JsonNode duration = tree.get("duration");
        if (ts == null || !ts.isNumber() || duration != null && !duration.isNull() && !duration.isNumber())
        {
            return -1;
        }
        final BigDecimal end = duration == null || duration.isNull() ? ts.decimalValue() :
            ts.decimalValue().add(duration.decimalValue());
        if (ts.decimalValue().signum() < 0 || end.signum() < 0 ||
            end.compareTo(BigDecimal.valueOf(MAX_EVENT_TIME_MS / 1000)) > 0)
        {
            return -1;
        }
        return end.movePointRight(3).setScale(0, RoundingMode.FLOOR).longValue();
    }
}
