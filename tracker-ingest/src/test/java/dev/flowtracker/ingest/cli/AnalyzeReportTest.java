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
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code analyze --report}: the report's figures equal what the records of the same run say (conn_state mix, totals,
 * the worst connections and their order), for one and three workers; {@code --report-file} writes it to a file and
 * refuses an input as that file.
 */
class AnalyzeReportTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** 127 connections: retransmissions (fast and spurious too), resets, a failed handshake, RTT samples. */
    private static final String CAPTURE = "pcaps/pcapplusplus/example2.pcap";

    @TempDir
    Path dir;

    @Test
    void shouldReportWhatTheRecordsSay() throws IOException
    {
        final Path capture = corpusCapture();
        for (final String workers : List.of("1", "3"))
        {
            final Path records = dir.resolve("records-" + workers + ".json");
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            assertEquals(0, run(err, "analyze", "--no-progress", "--workers", workers, "--report", "-o", records,
                capture));
            final String stderr = err.toString(StandardCharsets.UTF_8);
            final String report = stderr.substring(stderr.indexOf("report: "));
            assertEquals(expectedReport(records), report, "workers " + workers);
        }
    }

    @Test
    void shouldWriteTheReportToAFileButNeverOverAnInput() throws IOException
    {
        final Path sample = Path.of("../samples/sample.pcap");
        final Path file = dir.resolve("report.txt");
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        assertEquals(0, run(err, "analyze", "--no-progress", "--report-file", file, "-o", dir.resolve("r.json"),
            sample));
        assertTrue(Files.readString(file).startsWith("report: 9 connections, 250 packets"), Files.readString(file));
        assertTrue(!err.toString(StandardCharsets.UTF_8).contains("report:"), "not on stderr too");

        final Path copy = dir.resolve("copy.pcap");
        Files.copy(sample, copy);
        final ByteArrayOutputStream refused = new ByteArrayOutputStream();
        assertEquals(ExitCodes.USAGE, run(refused, "analyze", "--report-file", copy, copy));
        assertTrue(refused.toString(StandardCharsets.UTF_8).contains("refusing to overwrite"), refused.toString());
        assertEquals(Files.size(sample), Files.size(copy), "the input is intact");

        // A report that could not be written is known before anything is read: no records, one line.
        final Path records = dir.resolve("never.json");
        final ByteArrayOutputStream unwritable = new ByteArrayOutputStream();
        assertEquals(1, run(unwritable, "analyze", "--report-file", dir.resolve("no/such/dir/report.txt"), "-o",
            records, sample));
        assertEquals(List.of("tracker analyze: cannot write the report to " + dir.resolve("no/such/dir/report.txt") +
            ": no such directory (nothing was read)"), unwritable.toString(StandardCharsets.UTF_8).lines().toList());
        assertTrue(!Files.exists(records), "nothing written");
    }

    /** The report, computed here from the records, plainly. */
    private static String expectedReport(final Path records) throws IOException
    {
        final Map<String, Long> states = new TreeMap<>();
        long connections = 0;
        long packets = 0;
        long retransmissions = 0;
        long fast = 0;
        long spurious = 0;
        long zeroWindows = 0;
        long reset = 0;
        long failed = 0;
        final List<String[]> byRatio = new ArrayList<>();
        final List<String[]> byRtt = new ArrayList<>();
        for (final String line : Files.readAllLines(records))
        {
            final JsonNode r = JSON.readTree(line);
            final JsonNode orig = r.get("tcp").get("orig");
            final JsonNode resp = r.get("tcp").get("resp");
            final String state = r.get("conn_state").isNull() ? "none" : r.get("conn_state").asText();
            states.merge(state, 1L, Long::sum);
            connections++;
            final long p = r.get("orig_pkts").asLong() + r.get("resp_pkts").asLong();
            packets += p;
            final long retx = sum(orig, resp, "retransmission");
            retransmissions += retx;
            fast += sum(orig, resp, "fast_retransmission");
            spurious += sum(orig, resp, "spurious_retransmission");
            zeroWindows += sum(orig, resp, "zero_window");
            reset += orig.get("rst").asLong() + resp.get("rst").asLong() > 0 ? 1 : 0;
            failed += List.of("S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR").contains(state) ? 1 : 0;
            final String tuple = r.get("uid").asText() + " " + r.get("id.orig_h").asText() + ":" +
                r.get("id.orig_p").asText() + " -> " + r.get("id.resp_h").asText() + ":" + r.get("id.resp_p").asText() +
                " " + state;
            if (p >= 10 && retx > 0)
            {
                final double ratio = (double)retx / p;
                byRatio.add(new String[] {Double.toString(ratio), r.get("uid").asText(), String.format(Locale.ROOT,
                    "%5.1f%% %s (%,d of %,d packets retransmitted)", 100 * ratio, tuple, retx, p)});
            }
            final double origRtt = orig.get("rtt").get("max").isNull() ? -1 : orig.get("rtt").get("max").asDouble();
            final double respRtt = resp.get("rtt").get("max").isNull() ? -1 : resp.get("rtt").get("max").asDouble();
            final double rtt = Math.max(origRtt, respRtt);
            if (rtt > 0)
            {
                byRtt.add(new String[] {Double.toString(rtt), r.get("uid").asText(), String.format(Locale.ROOT,
                    "%9.3f ms %s (%s's data waited longest)", rtt * 1e3, tuple,
                    origRtt >= respRtt ? "originator" : "responder")});
            }
        }
        final StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "report: %,d connections, %,d packets%n", connections, packets));
        out.append("  conn_state:");
        final long total = connections;
        states.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()
            .thenComparing(Map.Entry.comparingByKey())).forEach(e -> out.append(String.format(Locale.ROOT,
                " %s %,d (%.1f%%)", e.getKey(), e.getValue(), 100.0 * e.getValue() / total)));
        out.append(String.format(Locale.ROOT, "%n  retransmitted segments %,d (%.2f%% of packets; fast %,d, " +
                "spurious %,d); zero windows %,d; connections reset %,d; handshakes failed %,d (S0, REJ, RSTOS0, " +
                "RSTRH, SH, SHR)%n", retransmissions, 100.0 * retransmissions / packets, fast, spurious, zeroWindows,
            reset, failed));
        worst(out, "worst by retransmission ratio (connections of 10 packets or more)", byRatio);
        worst(out, "worst by largest data-path RTT", byRtt);
        assertTrue(!byRatio.isEmpty() && !byRtt.isEmpty() && reset > 0, "the capture exercises the report");
        return out.toString();
    }

    private static void worst(final StringBuilder out, final String title, final List<String[]> entries)
    {
        entries.sort(Comparator.<String[]>comparingDouble(e -> -Double.parseDouble(e[0])).thenComparing(e -> e[1]));
        out.append("  ").append(title).append(entries.isEmpty() ? ": none" : ":").append(System.lineSeparator());
        entries.stream().limit(10).forEach(e -> out.append("    ").append(e[2]).append(System.lineSeparator()));
    }

    private static long sum(final JsonNode orig, final JsonNode resp, final String flag)
    {
        return orig.get("analysis").get(flag).asLong() + resp.get("analysis").get(flag).asLong();
    }

    private static Path corpusCapture()
    {
        final Path corpus = Path.of(System.getProperty("tracker.corpus", "../shared/corpus")).toAbsolutePath();
        final Path capture = corpus.resolve(CAPTURE);
        Assumptions.assumeTrue(Files.isRegularFile(capture),
            "skipped: the shared corpus is not at " + corpus + " (set -Dtracker.corpus=DIR to point at it)");
        return capture;
    }

    private static int run(final ByteArrayOutputStream err, final Object... args)
    {
        final String[] strings = new String[args.length];
        for (int i = 0; i < args.length; i++)
        {
            strings[i] = args[i].toString();
        }
        try (PrintStream o = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            return TrackerCli.run(strings, o, e);
        }
    }
}
