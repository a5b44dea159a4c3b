package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.output.kafka.Brokers;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.test.KafkaClusterTestKit;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tracker run} with a Kafka sink against a real broker (KRaft, in this JVM; the trackers are child
 * processes): the daemon's scrape shows the Kafka sink's metrics and the client's own, and a tracker killed with
 * SIGKILL mid-replay and restarted from its last checkpoint leaves every connection of an uninterrupted run on the
 * topic (at least once: before a checkpoint commits, every record handed to Kafka is acknowledged).
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class RunKafkaTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final Pattern SERVING = Pattern.compile("serving HTTP on http://([0-9.]+:[0-9]+)");
    private static KafkaClusterTestKit broker;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() throws Exception
    {
        broker = Brokers.inProcess(Map.of());
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
    void shouldServeTheKafkaSinksMetricsAndDeliverEveryRecord() throws Exception
    {
        final Path err = dir.resolve("run.err");
        final Process tracker = RunCrashRestartTest.tracker(err, "run", "--pcap", SAMPLE.toString(), "-C",
            "--http-listen", "127.0.0.1:0", "--kafka-bootstrap", broker.bootstrapServers(), "--kafka-topic",
            "run.sample", "--tap-name", "tap-run");
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.readString(err).contains("still serving HTTP") && System.nanoTime() < deadline)
            {
                assertTrue(tracker.isAlive(), Files.readString(err));
                Thread.sleep(100);
            }
            final Matcher address = SERVING.matcher(Files.readString(err));
            assertTrue(address.find(), Files.readString(err));
            final long records = sampleRecords();
            final List<ConsumerRecord<byte[], byte[]>> messages =
                Brokers.readAll(broker.bootstrapServers(), "run.sample", (int)records, Duration.ofSeconds(20));
            assertEquals(records, messages.size());

            final String scrape = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://" + address.group(1) + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(scrape.contains("tracker_records_written_total{sink=\"kafka\"} " + records + ".0"), scrape);
            assertTrue(scrape.contains("tracker_records_lost_total{reason=\"buffer_full\",sink=\"kafka\"} 0.0"),
                scrape);
            assertTrue(scrape.contains("tracker_kafka_buffered_records 0.0"), scrape);
            assertTrue(scrape.contains("tracker_kafka_reachable 1.0"), scrape);
            assertTrue(scrape.contains("tracker_kafka_delivery_latency_seconds_count " + records), scrape);
            assertTrue(scrape.contains("kafka_producer_record_send_total"), "the client's own metrics");
            assertTrue(!scrape.contains("sink=\"stdout\""), "with Kafka and no -o there is no stdout sink");
        }
        finally
        {
            tracker.destroy();
            tracker.waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldLeaveEveryConnectionOnTheTopicWhenKilledAndRestartedFromTheLastCheckpoint() throws Exception
    {
        final List<RunCrashRestartTest.Frame> frames = RunCrashRestartTest.traffic();
        final Path capture = RunCrashRestartTest.write(frames, dir.resolve("whole.pcap"));
        final Path stateDir = dir.resolve("state");
        final Process whole = RunCrashRestartTest.tracker(dir.resolve("whole.err"), "run", "--no-http", "--pcap",
            capture.toString(), "-C", "-o", dir.resolve("whole.jsonl").toString());
        assertTrue(whole.waitFor(60, TimeUnit.SECONDS) && whole.exitValue() == 0);
        final Set<String> expected = RunCrashRestartTest.uids(Files.readAllLines(dir.resolve("whole.jsonl")));
        assertEquals(40, expected.size());

        final Process crashing = RunCrashRestartTest.tracker(dir.resolve("first.err"), "run", "--no-http",
            "--pcap", capture.toString(), "-C", "--workers", "2", "--replay-speed", "2", "--state-dir",
            stateDir.toString(), "--checkpoint-interval", "300ms", "--kafka-bootstrap", broker.bootstrapServers(),
            "--kafka-topic", "run.crash");
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (RunCrashRestartTest.committedShards(stateDir) < 2 && System.nanoTime() < deadline &&
                crashing.isAlive())
            {
                Thread.sleep(100);
            }
            Thread.sleep(1_500);
            assertTrue(crashing.isAlive(), "still replaying: " + Files.readString(dir.resolve("first.err")));
            crashing.destroyForcibly();
            assertTrue(crashing.waitFor(30, TimeUnit.SECONDS));
        }
        finally
        {
            crashing.destroyForcibly();
        }
        long resumeAfter = Long.MAX_VALUE;
        try (CheckpointStore store = CheckpointStore.openForReading(stateDir))
        {
            for (final CheckpointInfo info : store.list())
            {
                resumeAfter = Math.min(resumeAfter, info.packetTimeNanos());
            }
        }
        final long cut = resumeAfter;
        final Path rest = RunCrashRestartTest.write(frames.stream().filter(f -> f.nanos() > cut).toList(),
            dir.resolve("rest.pcap"));
        final Process restarted = RunCrashRestartTest.tracker(dir.resolve("second.err"), "run", "--no-http",
            "--pcap", rest.toString(), "-C", "--workers", "3", "--state-dir", stateDir.toString(),
            "--kafka-bootstrap", broker.bootstrapServers(), "--kafka-topic", "run.crash");
        assertTrue(restarted.waitFor(60, TimeUnit.SECONDS) && restarted.exitValue() == 0,
            "restart: " + Files.readString(dir.resolve("second.err")));

        final List<String> values = Brokers.readAll(broker.bootstrapServers(), "run.crash", 1_000,
            Duration.ofSeconds(10)).stream().map(m -> new String(m.value(), StandardCharsets.UTF_8)).toList();
        final Set<String> delivered = RunCrashRestartTest.uids(values);
        final Set<String> missing = new HashSet<>(expected);
        missing.removeAll(delivered);
        assertTrue(missing.isEmpty(), "connections lost across the kill: " + missing + " (" + values.size() +
            " messages)\nfirst run:\n" + Files.readString(dir.resolve("first.err")) + "\nrestart:\n" +
            Files.readString(dir.resolve("second.err")));
    }

    /** The sample's record count, from analyze. */
    private static long sampleRecords()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(OutputStream.nullOutputStream()))
        {
            assertEquals(0, TrackerCli.run(new String[] {"analyze", "--no-progress", "-C", SAMPLE.toString()}, o, e));
        }
        return out.toString(StandardCharsets.UTF_8).lines().count();
    }
}
