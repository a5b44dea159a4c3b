package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.output.kafka.Brokers;
import dev.flowtracker.ingest.output.kafka.ForkedBroker;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.test.KafkaClusterTestKit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code analyze --kafka-bootstrap} against a real single-node KRaft broker started in this JVM: the topic holds
 * exactly the lines {@code -o} writes, keyed by community_id with the tap header; Debian's kcat (librdkafka) reads
 * the lz4 batches; a broker that is not there costs one warning, then every record is counted lost and the exit
 * status is 1.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AnalyzeKafkaTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final ObjectMapper JSON = new ObjectMapper();
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

    private record Run(int exit, String out, String err)
    {
    }

    private static Run run(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            exit = TrackerCli.run(args, o, e);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldPutExactlyTheFilesLinesOnTheTopicKeyedByCommunityId() throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        final Run both = run("analyze", "--no-progress", "--tap-name", "tap-a", "-o", file.toString(),
            "--kafka-bootstrap", broker.bootstrapServers(), "--kafka-topic", "conn.sample", SAMPLE.toString());
        assertEquals(0, both.exit(), both.err());
        assertEquals("", both.out(), "records go to the file and the topic, not to standard output");
        final List<String> lines = Files.readAllLines(file);
        assertTrue(lines.size() > 1);

        final List<ConsumerRecord<byte[], byte[]>> messages =
            Brokers.readAll(broker.bootstrapServers(), "conn.sample", lines.size(), Duration.ofSeconds(20));
        final List<String> values = new ArrayList<>();
        for (final ConsumerRecord<byte[], byte[]> message : messages)
        {
            final String value = new String(message.value(), StandardCharsets.UTF_8);
            values.add(value);
            assertEquals(JSON.readTree(value).get("community_id").asText(),
                new String(message.key(), StandardCharsets.US_ASCII), "keyed by community_id");
            assertNotNull(message.headers().lastHeader("tap"));
            assertEquals("tap-a", new String(message.headers().lastHeader("tap").value(), StandardCharsets.UTF_8));
        }
        assertEquals(lines.stream().sorted().toList(), values.stream().sorted().toList(),
            "the topic holds exactly the file's lines");
    }

    @Test
    void shouldDeliverEveryRecordOfCorpusCapturesWithoutStdout() throws IOException
    {
        final Path corpus = Path.of(System.getProperty("tracker.corpus", "../shared/corpus"), "pcaps", "zeek");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(corpus),
            "skipped: the shared corpus is not at " + corpus);
        final List<Path> captures;
        try (Stream<Path> files = Files.list(corpus))
        {
            captures = files.filter(f -> !f.getFileName().toString().startsWith("bench__")).sorted().limit(12)
                .toList();
        }
        final List<String> args = new ArrayList<>(List.of("analyze", "--no-progress", "--kafka-bootstrap",
            broker.bootstrapServers(), "--kafka-topic", "conn.corpus", "--kafka-key", "none"));
        captures.forEach(c -> args.add(c.toString()));
        final Run kafka = run(args.toArray(String[]::new));
        assertEquals(0, kafka.exit(), kafka.err());
        assertEquals("", kafka.out(), "with Kafka and no -o, standard output is left alone");
        final List<String> fileArgs = new ArrayList<>(List.of("analyze", "--no-progress"));
        captures.forEach(c -> fileArgs.add(c.toString()));
        final Run plain = run(fileArgs.toArray(String[]::new));
        final List<String> expected = plain.out().lines().sorted().toList();

        final List<String> values = Brokers.readAll(broker.bootstrapServers(), "conn.corpus", expected.size(),
            Duration.ofSeconds(20)).stream().map(m ->
            {
                assertEquals(null, m.key(), "--kafka-key none");
                return new String(m.value(), StandardCharsets.UTF_8);
            }).sorted().toList();
        assertEquals(expected, values);
    }

    @Test
    void shouldLetKcatReadTheLz4Batches() throws Exception
    {
        final Path kcat = Stream.of("/usr/bin/kcat", "/usr/bin/kafkacat").map(Path::of).filter(Files::isExecutable)
            .findFirst().orElse(null);
        org.junit.jupiter.api.Assumptions.assumeTrue(kcat != null, "skipped: kcat is not installed (apt kcat)");
        final Path file = dir.resolve("records.jsonl");
        final Run run = run("analyze", "--no-progress", "-o", file.toString(), "--kafka-bootstrap",
            broker.bootstrapServers(), "--kafka-topic", "conn.kcat", SAMPLE.toString());
        assertEquals(0, run.exit(), run.err());
        final Process consumer = new ProcessBuilder(kcat.toString(), "-C", "-b", broker.bootstrapServers(), "-t",
            "conn.kcat", "-e", "-q", "-f", "%k\\t%s\\n").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        final String consumed = new String(consumer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(consumer.waitFor(60, TimeUnit.SECONDS));
        final List<String> lines = Files.readAllLines(file);
        final List<String> read = consumed.lines().map(l -> l.substring(l.indexOf('\t') + 1)).sorted().toList();
        assertEquals(lines.stream().sorted().toList(), read, "kcat decompresses the lz4 batches to the same lines");
        for (final String line : consumed.lines().toList())
        {
            final String key = line.substring(0, line.indexOf('\t'));
            assertEquals(JSON.readTree(line.substring(line.indexOf('\t') + 1)).get("community_id").asText(), key);
        }
    }

    @Test
    void shouldWarnOnceAndCountEveryRecordLostWhenNoBrokerListens() throws IOException
    {
        final int closedPort = ForkedBroker.freePort();
        final long start = System.nanoTime();
        final Run run = run("analyze", "--no-progress", "--kafka-bootstrap", "127.0.0.1:" + closedPort,
            "--kafka-flush-timeout", "2s", SAMPLE.toString());
        final double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(ExitCodes.INPUT_ERROR, run.exit(), run.err());
        assertEquals(1, run.err().lines().filter(l -> l.contains("warning: cannot deliver")).count(), run.err());
        final String error = run.err().lines().filter(l -> l.contains("error writing flow records")).findFirst()
            .orElseThrow(() -> new AssertionError(run.err()));
        final Run plain = run("analyze", "--no-progress", SAMPLE.toString());
        final long records = plain.out().lines().count();
        assertTrue(error.contains("(" + records + " lost)"), error);
        assertTrue(seconds < 30, "the flush timeout bounds the wait: " + seconds + " s");
    }
}
