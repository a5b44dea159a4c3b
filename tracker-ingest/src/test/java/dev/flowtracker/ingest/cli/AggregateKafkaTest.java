package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowtracker.ingest.aggregate.AggregateApp;
import dev.flowtracker.ingest.aggregate.Rollup;
import dev.flowtracker.ingest.output.kafka.Brokers;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code tracker aggregate} end to end on a real single-node KRaft broker in this JVM: two trackers (taps a and b)
 * send the same capture to the record topic; the application's rollup rows equal the sums computed from the
 * records, and the de-duplicated topic holds each connection once, with both taps.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class AggregateKafkaTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final ObjectMapper JSON = JsonMapper.builder()
        .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
        .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN).build();
    private static final String INPUT = "conn.fleet";
    private static KafkaClusterTestKit broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() throws Exception
    {
        broker = Brokers.inProcess(Map.of());
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
            broker.bootstrapServers())))
        {
            // One input partition: one task, so the closing record below moves the stream time of every window.
            admin.createTopics(List.of(new NewTopic(INPUT, 1, (short)1), new NewTopic("fleet.rollup", 1, (short)1),
                new NewTopic("fleet.dedup", 1, (short)1))).all().get(60, TimeUnit.SECONDS);
        }
    }

    @AfterAll
    static void stopBroker() throws Exception
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    @Test
    void shouldRollUpAndDeduplicateTwoTapsRecords() throws Exception
    {
        final List<JsonNode> records = new ArrayList<>();
        for (final String tap : List.of("a", "b"))
        {
            final Path file = dir.resolve(tap + ".jsonl");
            final int exit = TrackerCli.run(new String[] {"analyze", "--no-progress", "--quiet", "--tap-name", tap,
                "-o", file.toString(), "--kafka-bootstrap", broker.bootstrapServers(), "--kafka-topic", INPUT,
                SAMPLE.toString()}, System.out, System.err);
            assertEquals(0, exit);
            for (final String line : Files.readAllLines(file))
            {
                records.add(JSON.readTree(line));
            }
        }
        closeWindows(records);
        final ByteArrayOutputStream log = new ByteArrayOutputStream();
        final AggregateCommand command = new AggregateCommand(System.out, new PrintStream(log, true,
            StandardCharsets.UTF_8));
        new CommandLine(command).parseArgs("--kafka-bootstrap", broker.bootstrapServers(), "--input-topic", INPUT,
            "--rollup-topic", "fleet.rollup", "--dedup-topic", "fleet.dedup", "--application-id", "fleet-test",
            "--state-dir", dir.resolve("state").toString(), "--metrics-listen", "127.0.0.1:0", "--rollup-grace", "1s",
            "--dedup-window", "1m", "--kafka-property", "commit.interval.ms=100");
        try (AggregateApp app = command.open())
        {
            app.start(command.metricsAddress());
            final Map<String, ObjectNode> expected = expectedRows(records);
            final Map<String, JsonNode> rows = new TreeMap<>();
            for (final ConsumerRecord<byte[], byte[]> row : Brokers.readAll(broker.bootstrapServers(),
                "fleet.rollup", expected.size(), Duration.ofSeconds(60)))
            {
                rows.put(new String(row.key(), StandardCharsets.UTF_8), JSON.readTree(row.value()));
            }
            assertEquals(expected.keySet(), rows.keySet());
            expected.forEach((key, sums) -> sums.properties().forEach(field -> assertEquals(field.getValue(),
                normalised(rows.get(key).get(field.getKey())), key + " " + field.getKey())));

            final List<ConsumerRecord<byte[], byte[]>> deduplicated = Brokers.readAll(broker.bootstrapServers(),
                "fleet.dedup", records.size() / 2, Duration.ofSeconds(60));
            assertEquals(records.size() / 2, deduplicated.size(), "each connection once");
            final Map<String, JsonNode> fromA = new TreeMap<>();
            records.stream().filter(r -> r.path("tap").asText().equals("a"))
                .forEach(r -> fromA.put(r.path("community_id").asText(), withoutTaps(r)));
            for (final ConsumerRecord<byte[], byte[]> message : deduplicated)
            {
                final JsonNode record = JSON.readTree(message.value());
                final String communityId = new String(message.key(), StandardCharsets.UTF_8);
                assertEquals(record.path("community_id").asText(), communityId);
                assertEquals("[\"a\",\"b\"]", record.path("taps").toString());
                assertEquals(fromA.get(communityId), withoutTaps(record));
            }
            assertMetrics(app, records.size());
        }
    }

    @Test
    void shouldCloseInOrderOnSigterm() throws Exception
    {
        final Path stderr = dir.resolve("stderr.txt");
        final Process aggregate = new ProcessBuilder(ProcessHandle.current().info().command().orElseThrow(), "-cp",
            System.getProperty("java.class.path"), TrackerCli.class.getName(), "aggregate", "--kafka-bootstrap",
            broker.bootstrapServers(), "--input-topic", INPUT, "--application-id", "fleet-sigterm", "--state-dir",
            dir.resolve("state").toString()).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(stderr).contains("tracker aggregate: fleet-sigterm reading"))
            {
                assertTrue(aggregate.isAlive() && System.nanoTime() < deadline, Files.readString(stderr));
                Thread.sleep(100);
            }
            Thread.sleep(2_000); // into the group
            aggregate.destroy(); // SIGTERM
            assertTrue(aggregate.waitFor(60, TimeUnit.SECONDS), "did not stop within 60 s");
        }
        finally
        {
            aggregate.destroyForcibly();
        }
        final String log = Files.readString(stderr);
        assertEquals(143, aggregate.exitValue(), log);
        assertTrue(log.contains("tracker aggregate: stopped: "), log);
    }

    /** A record far later than the capture (and a malformed message): every window of the capture closes. */
    private static void closeWindows(final List<JsonNode> records)
    {
        final ObjectNode later = records.getFirst().deepCopy();
        later.put("ts", later.path("ts").decimalValue().add(BigDecimal.valueOf(3600))).put("tap", "closer")
            .put("community_id", "1:closer");
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
            ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()), new StringSerializer(),
            new StringSerializer()))
        {
            producer.send(new ProducerRecord<>(INPUT, "x", "this is not a flow record"));
            producer.send(new ProducerRecord<>(INPUT, "1:closer", later.toString()));
            producer.flush();
        }
    }

    /** The sums the rows must hold, computed from the records, by key. */
    private static Map<String, ObjectNode> expectedRows(final List<JsonNode> records)
    {
        final Map<String, ObjectNode> rows = new TreeMap<>();
        for (final JsonNode record : records)
        {
            final long endMillis = record.path("ts").decimalValue().add(record.path("duration").decimalValue())
                .movePointRight(3).setScale(0, RoundingMode.FLOOR).longValue();
            final long minute = endMillis - Math.floorMod(endMillis, 60_000L);
            final String key = record.path("tap").asText() + '|' + record.path("id.resp_h").asText() + '|' +
                record.path("id.resp_p").asInt() + '|' + Rollup.minute(minute);
            final ObjectNode row = rows.computeIfAbsent(key, k -> JSON.createObjectNode());
            row.put("window_start", minute / 1000).put("window_end", minute / 1000 + 60);
            add(row, "connections", 1);
            for (final String total : List.of("orig_bytes", "resp_bytes", "orig_pkts", "resp_pkts", "orig_ip_bytes",
                "resp_ip_bytes", "missed_bytes"))
            {
                add(row, total, record.path(total).asLong());
            }
            add(row.withObject("conn_state"), record.path("conn_state").asText(), 1);
            add(row.withObject("end_reason"), record.path("tcp").path("end_reason").asText(), 1);
            for (final String side : List.of("orig", "resp"))
            {
                record.path("tcp").path(side).path("analysis").properties().forEach(counter ->
                    add(row.withObject("analysis").withObject(side), counter.getKey(), counter.getValue().asLong()));
            }
            final JsonNode rtt = record.path("tcp").path("initial_rtt");
            if (rtt.isNumber())
            {
                final ObjectNode sums = row.withObject("handshake_rtt");
                add(sums, "count", 1);
                sums.put("sum", sums.path("sum").decimalValue().add(rtt.decimalValue()).stripTrailingZeros());
                sums.put("max", sums.path("max").decimalValue().max(rtt.decimalValue()).stripTrailingZeros());
            }
        }
        return rows;
    }

    private static void add(final ObjectNode node, final String field, final long value)
    {
        node.put(field, node.path(field).asLong() + value);
    }

    /** A row's field in the form the expected sums take: counters as longs, decimals without trailing zeros. */
    private static JsonNode normalised(final JsonNode value)
    {
        if (value == null)
        {
            return null;
        }
        final JsonNode copy = value.deepCopy();
        if (copy.isObject())
        {
            final ObjectNode object = (ObjectNode)copy;
            object.properties().forEach(e -> object.set(e.getKey(), normalised(e.getValue())));
            return object;
        }
        if (copy.isIntegralNumber())
        {
            return JSON.getNodeFactory().numberNode(copy.asLong());
        }
        if (copy.isNumber())
        {
            return JSON.getNodeFactory().numberNode(copy.decimalValue().stripTrailingZeros());
        }
        return copy;
    }

    private static JsonNode withoutTaps(final JsonNode record)
    {
        final ObjectNode copy = record.deepCopy();
        copy.remove(List.of("taps", "tap"));
        return copy;
    }

    private static void assertMetrics(final AggregateApp app, final int records) throws IOException,
        InterruptedException
    {
        final HttpResponse<String> scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + app.metricsAddress().getPort() + "/metrics")).timeout(Duration.ofSeconds(30))
            .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, scrape.statusCode());
        final String body = scrape.body();
        assertTrue(body.contains("tracker_aggregate_records_read_total " + (records + 2) + ".0"), body);
        assertTrue(body.contains("tracker_aggregate_records_malformed_total{reason=\"not_json\"} 1.0"), body);
        assertTrue(body.contains("tracker_aggregate_duplicates_merged_total " + records / 2 + ".0"), body);
        assertTrue(body.contains("kafka_stream_"), "Kafka Streams' own metrics are bound");
    }
}
