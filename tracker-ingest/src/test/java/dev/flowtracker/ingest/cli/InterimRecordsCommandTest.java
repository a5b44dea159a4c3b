package dev.flowtracker.ingest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --update-interval}: interim records of long connections from {@code analyze} and {@code run}, marked, with
 * counts so far, while the final records stay byte for byte what a run without them writes.
 */
class InterimRecordsCommandTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Two FTP connections of 150 and 170 s, one of 2 ms. */
    private static final String LONG_CONNECTIONS = "pcaps/zeek/ftp__bigtransfer.pcap";

    @TempDir
    Path dir;

    @Test
    void shouldWriteInterimRecordsBesideUnchangedFinalOnesInAnalyze() throws IOException
    {
        final Path capture = corpusCapture();
        final Path with = dir.resolve("with.json");
        final Path without = dir.resolve("without.json");
        final String summary = tracker("analyze", "--no-progress", "--update-interval", "30s", "-o", with, capture);
        tracker("analyze", "--no-progress", "-o", without, capture);
        assertInterimRecords(with, without, 30);
        assertTrue(summary.contains("3 connections (and 7 interim records)"), summary);
    }

    @Test
    void shouldWriteInterimRecordsBesideUnchangedFinalOnesInRun() throws IOException
    {
        final Path capture = corpusCapture();
        final Path with = dir.resolve("with.json");
        final Path without = dir.resolve("without.json");
        tracker("run", "--no-http", "--quiet", "--pcap", capture, "--update-interval", "1m", "-o", with);
        tracker("run", "--no-http", "--quiet", "--pcap", capture, "-o", without);
        assertInterimRecords(with, without, 60);
    }

    @Test
    void shouldRefuseAnIntervalUnderOneSecond()
    {
        for (final String interval : List.of("500ms", "0s", "soon"))
        {
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            final int exit = run(err, "analyze", "--update-interval", interval, "../samples/sample.pcap");
            final String text = err.toString(StandardCharsets.UTF_8);
            assertEquals(ExitCodes.USAGE, exit, text);
            assertEquals(1, text.lines().count(), text);
            assertTrue(text.contains("--update-interval"), text);
        }
    }

    /**
     * The final records (those without {@code interim}) equal {@code without}'s lines; every interim record is an
     * open connection's (end_reason null) with a final record of the same uid and start, counts that only grow, and
     * at most one per interval of the connection's life; connections longer than two intervals have some.
     */
    private static void assertInterimRecords(final Path with, final Path without, final int intervalSeconds)
        throws IOException
    {
        final List<String> finals = new ArrayList<>();
        final List<JsonNode> interims = new ArrayList<>();
        for (final String line : Files.readAllLines(with))
        {
            final JsonNode record = JSON.readTree(line);
            if (record.has("interim"))
            {
                assertTrue(record.get("interim").asBoolean(), line);
                interims.add(record);
            }
            else
            {
                finals.add(line);
            }
        }
        assertEquals(Files.readAllLines(without), finals, "final records unchanged");
        final Map<String, JsonNode> finalByUid = new HashMap<>();
        for (final String line : finals)
        {
            final JsonNode record = JSON.readTree(line);
            finalByUid.put(record.get("uid").asText(), record);
        }
        final Map<String, Long> lastPackets = new HashMap<>();
        final Map<String, Integer> counts = new HashMap<>();
        for (final JsonNode interim : interims)
        {
            final String uid = interim.get("uid").asText();
            final JsonNode last = finalByUid.get(uid);
            assertTrue(last != null, "no final record for interim " + interim);
            assertTrue(interim.get("tcp").get("end_reason").isNull(), interim.toString());
            assertEquals(last.get("ts").asText(), interim.get("ts").asText());
            final long packets = interim.get("orig_pkts").asLong() + interim.get("resp_pkts").asLong();
            assertTrue(packets <= last.get("orig_pkts").asLong() + last.get("resp_pkts").asLong(), uid);
            assertTrue(packets >= lastPackets.getOrDefault(uid, 0L), "counts only grow: " + uid);
            lastPackets.put(uid, packets);
            counts.merge(uid, 1, Integer::sum);
        }
        for (final JsonNode last : finalByUid.values())
        {
            final String uid = last.get("uid").asText();
            final double duration = last.get("duration").asDouble();
            final int count = counts.getOrDefault(uid, 0);
            assertTrue(count <= duration / intervalSeconds + 1, uid + ": " + count + " interim records");
            if (duration > 2 * intervalSeconds)
            {
                assertTrue(count >= 1, uid + " lasted " + duration + " s without an interim record");
            }
            if (duration < intervalSeconds)
            {
                assertEquals(0, count, uid);
            }
        }
        assertFalse(interims.isEmpty());
    }

    private static Path corpusCapture()
    {
        final Path corpus = Path.of(System.getProperty("tracker.corpus", "../shared/corpus")).toAbsolutePath();
        final Path capture = corpus.resolve(LONG_CONNECTIONS);
        Assumptions.assumeTrue(Files.isRegularFile(capture),
            "skipped: the shared corpus is not at " + corpus + " (set -Dtracker.corpus=DIR to point at it)");
        return capture;
    }

    /** Runs the command line; asserts exit 0 and returns standard error. */
    private static String tracker(final Object... args)
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final String[] strings = new String[args.length];
        for (int i = 0; i < args.length; i++)
        {
            strings[i] = args[i].toString();
        }
        final int exit = run(err, strings);
        final String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(0, exit, text);
        return text;
    }

    private static int run(final ByteArrayOutputStream err, final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            return TrackerCli.run(args, o, e);
        }
    }
}
