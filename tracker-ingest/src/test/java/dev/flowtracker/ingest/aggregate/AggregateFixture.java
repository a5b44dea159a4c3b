package dev.flowtracker.ingest.aggregate;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;

/**
 * A {@link TopologyTestDriver} over the aggregation's topology, and flow records shaped like the tracker's (the
 * schema's example record, with the fields a test sets). Used on the test's thread only.
 */
final class AggregateFixture implements AutoCloseable
{
    /** The example record of docs/flow-record.md. */
    static final String EXAMPLE = "{\"ts\":1795267294.933382,\"uid\":\"CU5QUFvvU9vXggqWvs\"," +
        "\"id.orig_h\":\"10.99.0.2\",\"id.orig_p\":56842,\"id.resp_h\":\"10.99.0.1\",\"id.resp_p\":8080," +
        "\"proto\":\"tcp\",\"community_id\":\"1:+IJM7MHoL11RHw3EVWP5Des8I18=\",\"duration\":0.000431," +
        "\"orig_bytes\":10,\"resp_bytes\":13,\"conn_state\":\"SF\",\"missed_bytes\":0,\"history\":\"ShADadFf\"," +
        "\"orig_pkts\":6,\"orig_ip_bytes\":330,\"resp_pkts\":4,\"resp_ip_bytes\":229,\"tcp\":{\"orig\":{" +
        "\"state\":\"TIME_WAIT\",\"syn\":1,\"fin\":1,\"rst\":0,\"security\":{\"outside_window\":0," +
        "\"rst_outside_window\":0,\"data_after_rst\":0},\"analysis\":{\"retransmission\":0," +
        "\"fast_retransmission\":0,\"duplicate_ack\":0,\"zero_window\":0}},\"resp\":{\"state\":\"CLOSED\"," +
        "\"syn\":1,\"fin\":1,\"rst\":0,\"security\":{\"outside_window\":0,\"rst_outside_window\":0," +
        "\"data_after_rst\":0},\"analysis\":{\"retransmission\":0,\"fast_retransmission\":0," +
        "\"duplicate_ack\":0,\"zero_window\":0}},\"initial_rtt\":0.000027,\"end_reason\":\"fin\"},\"tap\":\"tap-01\"}";
    /** Decimals kept as written (BigDecimal), so records keep their text and sums are exact. */
    static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();
    static final String INPUT = "tracker.conn";
    static final String ROLLUP = "tracker.conn.rollup";
    static final String DEDUP = "tracker.conn.dedup";
    static final Duration GRACE = Duration.ofSeconds(10);
    static final Duration DEDUP_WINDOW = Duration.ofMinutes(5);

    final AggregateCounters counters = new AggregateCounters(null);
    final TopologyTestDriver driver;
    final TestInputTopic<String, String> input;
    final TestOutputTopic<String, String> rollups;
    final TestOutputTopic<String, String> dedup;

    AggregateFixture(final Path stateDir)
    {
        final Properties config = new Properties();
        config.put(StreamsConfig.APPLICATION_ID_CONFIG, "aggregate-test");
        config.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        config.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        driver = new TopologyTestDriver(AggregateTopology.build(new AggregateTopology.Settings(INPUT, ROLLUP, DEDUP,
            GRACE, DEDUP_WINDOW), counters), config);
        input = driver.createInputTopic(INPUT, new StringSerializer(), new StringSerializer());
        rollups = driver.createOutputTopic(ROLLUP, new StringDeserializer(), new StringDeserializer());
        dedup = driver.createOutputTopic(DEDUP, new StringDeserializer(), new StringDeserializer());
    }

    /** A record of {@code tap} for server {@code server:port} ending at {@code endSeconds} (ts + duration). */
    static ObjectNode record(final String tap, final String server, final int port, final String endSeconds)
    {
        final ObjectNode record = parse(EXAMPLE);
        record.put("tap", tap);
        record.put("id.resp_h", server);
        record.put("id.resp_p", port);
        record.put("ts", new BigDecimal(endSeconds).subtract(new BigDecimal("0.000431")));
        return record;
    }

    /** Sets an analysis counter of one side. */
    static ObjectNode analysis(final ObjectNode record, final String side, final String counter, final long value)
    {
        ((ObjectNode)record.path("tcp").path(side).path("analysis")).put(counter, value);
        return record;
    }

    static ObjectNode parse(final String json)
    {
        try
        {
            return (ObjectNode)JSON.readTree(json);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode tree(final String json)
    {
        return parse(json);
    }

    /** Pipes records (their text as the tracker writes it), keyed by community_id. */
    void send(final JsonNode... records)
    {
        for (final JsonNode record : records)
        {
            input.pipeInput(record.path("community_id").asText(), record.toString());
        }
    }

    @Override
    public void close()
    {
        driver.close();
    }
}
