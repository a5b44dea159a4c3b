package dev.flowtracker.ingest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.ingest.source.file.PcapTestWriter;
import dev.flowtracker.ingest.source.file.TestFrames;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tracker analyze} end to end through {@link TrackerCli#run}: records, summary, exit codes, failures. */
class AnalyzeCommandTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** docs/flow-record.md's fields, in the order of its example (the order is fixed). */
    private static final List<String> TOP_LEVEL_FIELDS = List.of("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h",
        "id.resp_p", "proto", "ip_proto", "community_id", "duration", "orig_bytes", "resp_bytes", "conn_state",
        "local_orig", "local_resp", "missed_bytes", "history", "orig_pkts", "orig_ip_bytes", "resp_pkts",
        "resp_ip_bytes", "tcp", "tap");
    private static final List<String> TCP_FIELDS = List.of("orig", "resp", "initial_rtt", "end_reason");
    private static final List<String> ENDPOINT_FIELDS =
        List.of("state", "isn", "syn", "fin", "rst", "payload_bytes", "sequence_bytes", "max_bytes_in_flight", "mss",
            "window_scale", "sack_permitted", "timestamps", "rtt", "security", "analysis");
    private static final Set<String> STATES = Set.of("CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
        "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING", "LAST_ACK", "TIME_WAIT");
    private static final Set<String> CONN_STATES =
        Set.of("S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0", "RSTRH", "SH", "SHR", "OTH");
    private static final List<String> ANALYSIS_COUNTERS = List.of("retransmission", "fast_retransmission",
        "spurious_retransmission", "out_of_order", "lost_segment", "ack_lost_segment", "duplicate_ack", "zero_window",
        "zero_window_probe", "zero_window_probe_ack", "window_full", "window_update", "keep_alive", "keep_alive_ack",
        "reused_ports");
    private static final Set<String> END_REASONS =
        Set.of("fin", "rst", "reused", "timeout", "evicted", "end_of_input", "shutdown");

    @TempDir
    Path dir;

    /** One run of the command line: exit code, standard output and standard error. */
    private record Run(int exit, byte[] out, String err)
    {
        String outText()
        {
            return new String(out, StandardCharsets.UTF_8);
        }

        /** Standard output's lines; each must end with a newline. */
        List<String> lines()
        {
            final String text = outText();
            assertTrue(text.isEmpty() || text.endsWith("\n"), "output ends with a newline");
            return text.isEmpty() ? List.of() : List.of(text.split("\n"));
        }

        List<String> errLines()
        {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
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
        return new Run(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    private static String[] analyze(final Object... args)
    {
        final List<String> all = new ArrayList<>();
        all.add("analyze");
        all.add("--no-progress");
        for (final Object arg : args)
        {
            all.add(arg.toString());
        }
        return all.toArray(String[]::new);
    }

    private static List<JsonNode> records(final Run run)
    {
        final List<JsonNode> records = new ArrayList<>();
        for (final String line : run.lines())
        {
            try
            {
                records.add(JSON.readTree(line));
            }
            catch (final IOException e)
            {
                throw new AssertionError("not a JSON line: " + line, e);
            }
        }
        return records;
    }

    private static List<String> fieldNames(final JsonNode object)
    {
        final List<String> names = new ArrayList<>();
        object.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static void assertRecordShape(final JsonNode record)
    {
        assertEquals(TOP_LEVEL_FIELDS, fieldNames(record), "fields and their order");
        final List<String> tcpFields = fieldNames(record.get("tcp"));
        tcpFields.remove("vni");
        assertEquals(TCP_FIELDS, tcpFields, "tcp fields");
        assertTrue(record.get("conn_state").isNull() || record.get("conn_state").isTextual(), "conn_state");
        assertTrue(record.get("history").isNull() || record.get("history").isTextual(), "history");
        assertTrue(record.get("ts").isNumber(), "ts");
        assertTrue(record.get("uid").asText().matches("C[0-9A-Za-z]{17}"), () -> "uid " + record.get("uid"));
        for (final String host : List.of("id.orig_h", "id.resp_h"))
        {
            final String address = record.get(host).asText();
            assertTrue(address.matches("\\d{1,3}(\\.\\d{1,3}){3}") || address.matches("[0-9a-f:]*:[0-9a-f:]*"),
                () -> host + " " + address);
        }
        for (final String port : List.of("id.orig_p", "id.resp_p"))
        {
            assertTrue(record.get(port).canConvertToInt() && record.get(port).asInt() >= 0 &&
                record.get(port).asInt() <= 65_535, port);
        }
        assertEquals("tcp", record.get("proto").asText());
        assertTrue(record.get("duration").isNumber() && record.get("duration").asDouble() >= 0, "duration");
        for (final String count : List.of("orig_pkts", "resp_pkts", "orig_ip_bytes", "resp_ip_bytes", "orig_bytes",
            "resp_bytes", "missed_bytes"))
        {
            assertTrue(record.get(count).isIntegralNumber() && record.get(count).asLong() >= 0, count);
        }
        final JsonNode tcp = record.get("tcp");
        for (final String side : List.of("orig", "resp"))
        {
            final JsonNode endpoint = tcp.get(side);
            assertTrue(endpoint != null && endpoint.isObject(), "tcp." + side);
            assertEquals(ENDPOINT_FIELDS, fieldNames(endpoint), "tcp." + side + " fields");
            assertTrue(STATES.contains(endpoint.get("state").asText()), () -> "state " + endpoint);
            final JsonNode isn = endpoint.get("isn");
            assertTrue(isn.isNull() || isn.isIntegralNumber() && isn.asLong() >= 0 && isn.asLong() <= 0xFFFF_FFFFL,
                () -> "isn " + endpoint);
            for (final String count : List.of("syn", "fin", "rst", "payload_bytes"))
            {
                assertTrue(endpoint.get(count).isIntegralNumber() && endpoint.get(count).asLong() >= 0, count);
            }
            final JsonNode analysis = endpoint.get("analysis");
            assertEquals(ANALYSIS_COUNTERS, fieldNames(analysis), "tcp." + side + ".analysis counters");
            analysis.forEach(counter -> assertTrue(counter.isIntegralNumber() && counter.asLong() >= 0));
        }
        assertTrue(tcp.get("initial_rtt").isNull() || tcp.get("initial_rtt").isNumber(), "tcp.initial_rtt");
        assertTrue(END_REASONS.contains(tcp.get("end_reason").asText()), () -> "tcp.end_reason " + tcp);
        assertTrue(CONN_STATES.contains(record.get("conn_state").asText()), () -> "conn_state " + record);
        assertTrue(record.get("history").asText().matches("\\^?[A-Za-z^]+"), () -> "history " + record);
    }

    @Test
    void sampleGivesNineConnectionRecordsAndASummary()
    {
        final Run run = run(analyze(SAMPLE));

        assertEquals(0, run.exit(), run.err());
        final List<JsonNode> records = records(run);
        assertEquals(9, records.size());
        final Set<String> uids = new HashSet<>();
        long packets = 0;
        for (final JsonNode record : records)
        {
            assertRecordShape(record);
            uids.add(record.get("uid").asText());
            packets += record.get("orig_pkts").asLong() + record.get("resp_pkts").asLong();
            final JsonNode tcp = record.get("tcp");
            assertEquals(record.get("orig_bytes").asLong(), tcp.get("orig").get("payload_bytes").asLong());
            assertEquals(record.get("resp_bytes").asLong(), tcp.get("resp").get("payload_bytes").asLong());
        }
        assertEquals(9, uids.size(), "unique uids");
        // Seven clean closes, the refused port 9 (RST answers the SYN) and the aborted one (client sends RST).
        final Map<String, Long> states = records.stream()
            .collect(Collectors.groupingBy(r -> r.get("conn_state").asText(), TreeMap::new, Collectors.counting()));
        assertEquals(Map.of("SF", 7L, "REJ", 1L, "RSTO", 1L), states);
        assertEquals(250, packets, "TCP packets over all connections");
        assertTrue(run.err().startsWith("tracker analyze: 1 file(s), 254 packets (250 TCP), "), run.err());
        assertTrue(run.err().contains(" 9 connections in "), run.err());
    }

    @Test
    void progressBarDoesNotTouchTheRecords()
    {
        final Run plain = run(analyze(SAMPLE));
        final Run withProgress = run("analyze", "--progress", SAMPLE.toString());
        assertEquals(0, withProgress.exit());
        assertArrayEquals(plain.out(), withProgress.out());
    }

    @Test
    void quietPrintsNoSummary()
    {
        final Run run = run(analyze("-q", SAMPLE));
        assertEquals(0, run.exit());
        assertEquals("", run.err());
        assertEquals(9, run.lines().size());
    }

    @Test
    void outputIsDeterministic()
    {
        final Run first = run(analyze(SAMPLE));
        final Run second = run(analyze(SAMPLE));
        assertEquals(0, first.exit());
        assertArrayEquals(first.out(), second.out());
    }

    /** Obsolete --working-set still parses (old configurations work), says so, changes nothing; bad values fail. */
    @Test
    void obsoleteWorkingSetIsAcceptedWithAWarningAndChangesNothing()
    {
        final Run expected = run(analyze(SAMPLE, SAMPLE));
        assertEquals(0, expected.exit(), expected.err());
        for (final String[] option : List.of(new String[] {"--working-set", "1"}, new String[] {"--working-set=2"}))
        {
            final List<Object> args = new ArrayList<>(List.of((Object[])option));
            args.add(SAMPLE);
            args.add(SAMPLE);
            final Run run = run(analyze(args.toArray()));
            assertEquals(0, run.exit(), run.err());
            assertArrayEquals(expected.out(), run.out(), String.join(" ", option));
            assertTrue(run.errLines().get(0).contains("--working-set is obsolete and has no effect"), run.err());
        }
        for (final String bad : List.of("0", "-1", "many"))
        {
            final Run run = run(analyze("--working-set", bad, SAMPLE));
            assertEquals(2, run.exit(), bad);
            assertEquals(1, run.errLines().size(), run.err());
            assertTrue(run.err().contains("--working-set"), run.err());
        }
    }

    @Test
    void compressedInputGivesTheSameRecords() throws IOException
    {
        final Path gz = dir.resolve("sample.pcap.gz");
        try (GZIPOutputStream out = new GZIPOutputStream(Files.newOutputStream(gz)))
        {
            out.write(Files.readAllBytes(SAMPLE));
        }
        final Run plain = run(analyze(SAMPLE));
        final Run compressed = run(analyze(gz));
        assertEquals(0, compressed.exit(), compressed.err());
        assertArrayEquals(plain.out(), compressed.out());
    }

    @Test
    void sameFileTwiceDoesNotCrash()
    {
        final Run run = run(analyze(SAMPLE, SAMPLE));
        assertEquals(0, run.exit(), run.err());
        assertFalse(run.lines().isEmpty());
        records(run).forEach(AnalyzeCommandTest::assertRecordShape);
        assertTrue(run.err().startsWith("tracker analyze: 2 file(s), 508 packets (500 TCP), "), run.err());
    }

    @Test
    void outputOptionWritesTheFileAndNothingToStdout() throws IOException
    {
        final Run expected = run(analyze(SAMPLE));
        int n = 0;
        for (final String[] form : List.of(new String[] {"--output", "%s"}, new String[] {"-o", "%s"},
            new String[] {"--output=%s"}))
        {
            final Path output = dir.resolve("records-" + n++ + ".json");
            final List<String> args = new ArrayList<>();
            for (final String part : form)
            {
                args.add(part.formatted(output));
            }
            args.add(SAMPLE.toString());
            final Run run = run(analyze(args.toArray()));
            assertEquals(0, run.exit(), run.err());
            assertEquals(0, run.out().length, "nothing on stdout");
            assertArrayEquals(expected.out(), Files.readAllBytes(output), String.join(" ", form));
            assertTrue(run.err().contains(" 9 connections in "), run.err());
        }
    }

    @Test
    void unwritableOutputFile()
    {
        final Path output = dir.resolve("no-such-dir").resolve("records.json");
        final Run run = run(analyze("--output", output, SAMPLE));
        assertEquals(1, run.exit());
        assertEquals(1, run.errLines().size(), run.err());
        assertTrue(run.err().contains("cannot write output file " + output), run.err());
    }

    @Test
    void help()
    {
        for (final String flag : List.of("--help", "-h"))
        {
            final Run run = run("analyze", flag);
            assertEquals(0, run.exit());
            assertTrue(run.outText().startsWith("usage: tracker analyze [options] FILE..."), run.outText());
            assertEquals("", run.err());
        }
        final Run top = run("help");
        assertEquals(0, top.exit());
        assertTrue(top.outText().startsWith("usage: tracker <command>"), top.outText());
    }

    @Test
    void usageErrorsExitTwoWithOneLine()
    {
        final Run noFiles = run("analyze");
        assertEquals(2, noFiles.exit());
        assertEquals(List.of("tracker analyze: no capture file given (try 'tracker analyze --help')"),
            noFiles.errLines());
        assertEquals(0, noFiles.out().length);

        final Run unknown = run(analyze("--frobnicate", SAMPLE));
        assertEquals(2, unknown.exit());
        assertEquals(1, unknown.errLines().size(), unknown.err());
        assertTrue(unknown.err().contains("unknown option '--frobnicate'"), unknown.err());
        assertEquals(0, unknown.out().length);

        final Run missingArgument = run(analyze(SAMPLE, "--output"));
        assertEquals(2, missingArgument.exit());
        assertEquals(1, missingArgument.errLines().size(), missingArgument.err());

        assertEquals(2, run().exit());
        assertEquals(2, run("no-such-command").exit());
    }

    @Test
    void missingFileExitsOneNamingIt()
    {
        final Path missing = dir.resolve("missing.pcap");
        final Run run = run(analyze(missing));
        assertEquals(1, run.exit());
        assertTrue(run.errLines().contains("tracker analyze: error: " + missing + ": no such file (nothing was read)"),
            run.err());
        assertEquals(0, run.out().length);
    }

    @Test
    void missingSecondFileIsReportedBeforeTheFirstIsRead()
    {
        final Path missing = dir.resolve("missing.pcap");
        final Run run = run(analyze(SAMPLE, missing));
        assertEquals(1, run.exit());
        assertEquals(List.of("tracker analyze: error: " + missing + ": no such file (nothing was read)"),
            run.errLines());
        assertEquals(0, run.out().length, "nothing analysed");
    }

    @Test
    void outputThatIsAnInputIsRefusedAndTheCaptureKept() throws IOException
    {
        final Path capture = Files.copy(SAMPLE, dir.resolve("capture.pcap"));
        final byte[] before = Files.readAllBytes(capture);
        final Run run = run(analyze("-o", dir.resolve(".").resolve("capture.pcap"), SAMPLE, capture));
        assertEquals(2, run.exit());
        assertEquals(1, run.errLines().size(), run.err());
        assertTrue(run.err().contains("refusing to overwrite it"), run.err());
        assertArrayEquals(before, Files.readAllBytes(capture), "the capture is untouched");
    }

    @Test
    void corruptFileAfterAGoodOneStillWritesTheGoodConnections() throws IOException
    {
        final PcapTestWriter writer = PcapTestWriter.ethernet().record(1, 0, TestFrames.numbered(1));
        final int bad = writer.length();
        final Path corrupt = writer.recordHeader(2, 0, 300_000, 300_000).raw(new byte[100])
            .writeTo(dir.resolve("corrupt.pcap"));
        final Run good = run(analyze(SAMPLE));

        // The file after the corrupt one is not read.
        final Run run = run(analyze(SAMPLE, corrupt, SAMPLE));

        assertEquals(1, run.exit());
        final String error = "tracker analyze: error: " + corrupt + ": corrupt record: captured length 300000 " +
            "exceeds the maximum of 262144 at byte offset " + bad;
        assertTrue(run.errLines().contains(error), run.err());
        assertTrue(run.err().contains("3 file(s), 255 packets (251 TCP)"), run.err());
        final List<JsonNode> records = records(run);
        assertEquals(10, records.size(), "the sample's 9 connections and the corrupt file's one");
        assertTrue(run.lines().containsAll(good.lines()), "every connection of the good file is written");
        assertEquals(1, records.stream().filter(r -> r.get("id.orig_h").asText().equals("10.0.0.1")).count());
    }

    @Test
    void truncatedSampleWritesTheConnectionsSeenBeforeTheCut() throws IOException
    {
        final byte[] sample = Files.readAllBytes(SAMPLE);
        // Walk 100 records to find where record 101 starts.
        int position = PcapTestWriter.FILE_HEADER_LENGTH;
        for (int i = 0; i < 100; i++)
        {
            final int capturedLength = (sample[position + 8] & 0xFF) | (sample[position + 9] & 0xFF) << 8 |
                (sample[position + 10] & 0xFF) << 16 | (sample[position + 11] & 0xFF) << 24;
            position += PcapTestWriter.RECORD_HEADER_LENGTH + capturedLength;
        }
        final Path prefix = Files.write(dir.resolve("prefix.pcap"), Arrays.copyOf(sample, position));
        final Path cut = Files.write(dir.resolve("cut.pcap"), Arrays.copyOf(sample, position + 30));

        final Run expected = run(analyze(prefix));
        final Run run = run(analyze(cut));

        assertEquals(0, expected.exit());
        assertFalse(expected.lines().isEmpty());
        assertEquals(1, run.exit());
        assertTrue(run.errLines().contains("tracker analyze: error: " + cut +
            ": file cut short in the middle of a packet at byte offset " + position), run.err());
        assertArrayEquals(expected.out(), run.out(), "the connections seen before the cut");
        records(run).forEach(AnalyzeCommandTest::assertRecordShape);
        assertTrue(run.err().contains(" 100 packets "), run.err());
    }

    @Test
    void truncatedGzipWritesTheConnectionsSeenBeforeTheCut() throws IOException
    {
        final byte[] sample = Files.readAllBytes(SAMPLE);
        final ByteArrayOutputStream compressed = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(compressed))
        {
            out.write(sample);
        }
        final byte[] cutGzip = Arrays.copyOf(compressed.toByteArray(), compressed.size() / 2);
        // What can be decompressed from the cut file, and the records complete within it.
        final ByteArrayOutputStream available = new ByteArrayOutputStream();
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(cutGzip)))
        {
            final byte[] buffer = new byte[512];
            int n;
            while ((n = in.read(buffer)) > 0)
            {
                available.write(buffer, 0, n);
            }
        }
        catch (final IOException e)
        {
            // the end of what can be had
        }
        int position = PcapTestWriter.FILE_HEADER_LENGTH;
        while (true)
        {
            final int next = position + PcapTestWriter.RECORD_HEADER_LENGTH + ((sample[position + 8] & 0xFF) |
                (sample[position + 9] & 0xFF) << 8 | (sample[position + 10] & 0xFF) << 16 |
                (sample[position + 11] & 0xFF) << 24);
            if (next > available.size())
            {
                break;
            }
            position = next;
        }
        final Path prefix = Files.write(dir.resolve("prefix.pcap"), Arrays.copyOf(sample, position));
        final Path cut = Files.write(dir.resolve("cut.pcap.gz"), cutGzip);

        final Run expected = run(analyze(prefix));
        final Run run = run(analyze(cut));

        assertEquals(1, run.exit());
        assertTrue(run.err().contains("tracker analyze: error: " + cut + ": "), run.err());
        assertFalse(expected.lines().isEmpty());
        assertArrayEquals(expected.out(), run.out(), "the connections seen before the cut");
    }

    @Test
    void writeErrorWhileAnalysingExitsOne() throws IOException
    {
        final Path full = Path.of("/dev/full");
        Assumptions.assumeTrue(Files.isWritable(full), "needs /dev/full");
        final PcapTestWriter writer = PcapTestWriter.ethernet();
        for (int i = 0; i < 300; i++)
        {
            final long isn = 1_000_000L * (i + 1);
            writer.record(1_000 + i, 0, TestFrames.tcp(0x0A000001, 0x0A000002, 40_000, 80, isn, 0, TestFrames.SYN,
                new byte[0]));
            writer.record(1_000 + i, 10, TestFrames.tcp(0x0A000002, 0x0A000001, 80, 40_000, 7 * isn, isn + 1,
                TestFrames.SYN | TestFrames.ACK, new byte[0]));
        }
        final Path reused = writer.writeTo(dir.resolve("reused.pcap"));
        final Run run;
        try
        {
            run = run(analyze("--output", full, reused));
        }
        catch (final UncheckedIOException e)
        {
            throw new AssertionError("TrackerCli.run threw instead of returning exit code 1", e);
        }
        assertEquals(1, run.exit());
        assertTrue(run.err().contains("tracker analyze: error writing flow records ("), run.err());
    }

    // ================================================================ run (the streaming pipeline)

    private static List<String> sortedLines(final byte[] out)
    {
        final List<String> lines = new ArrayList<>(Arrays.asList(new String(out, StandardCharsets.UTF_8).split("\n")));
        lines.removeIf(String::isEmpty);
        lines.sort(null);
        return lines;
    }

    @Test
    void runReplaysThroughThePipelineWithTheSameRecordsAsAnalyze()
    {
        final Run analyzed = run(analyze(SAMPLE));
        final Run piped = run("run", "--no-http", "--pcap", SAMPLE.toString(), "--workers", "3", "--ring-size", "64");
        assertEquals(0, piped.exit(), piped.err());
        assertEquals(sortedLines(analyzed.out()), sortedLines(piped.out()));
        assertTrue(piped.err().startsWith("tracker run: 254 packets (250 TCP), 9 connections, 3 workers"),
            piped.err());
        assertTrue(piped.err().contains("ring_full drops 0"), piped.err());
    }

    @Test
    void runRefusesAFlowTableBoundTheJvmCannotHoldBeforeReadingAnything()
    {
        final long limit = FlowLimits.jvmDirectMemoryLimit();
        // A bound well past this JVM's direct-memory limit (each flow takes more than 1 KB off-heap).
        final long flows = Math.min(Integer.MAX_VALUE / 4, limit / 1024 + 1_000_000);
        final Run refused = run("run", "--no-http", "--pcap", SAMPLE.toString(), "--workers", "2", "--max-flows",
            Long.toString(flows));
        assertEquals(2, refused.exit(), refused.err());
        assertEquals(0, refused.out().length, "nothing tracked");
        assertTrue(refused.err().startsWith("tracker run: --max-flows ") &&
            refused.err().contains("GiB of off-heap memory for the flow tables, and this JVM allows") &&
            refused.err().contains("-XX:MaxDirectMemorySize"), refused.err());
        assertEquals(1, refused.err().lines().count(), refused.err());
    }

    @Test
    void analyzeGivesTheSameRecordsWithOneOrThreeWorkers()
    {
        final Run one = run("analyze", "--workers", "1", SAMPLE.toString());
        final Run three = run("analyze", "--workers", "3", SAMPLE.toString());
        assertEquals(0, three.exit(), three.err());
        assertEquals(9, sortedLines(three.out()).size());
        assertEquals(sortedLines(one.out()), sortedLines(three.out()));
        assertTrue(three.err().contains("with 3 worker(s)"), three.err());
        assertEquals(ExitCodes.USAGE, run("analyze", "--workers", "0", SAMPLE.toString()).exit());
    }

    @Test
    void runRejectsBadOptionsWithOneLineAndExitTwo()
    {
        for (final String[] args : List.of(
            new String[]{"run", "--no-http", "--pcap", SAMPLE.toString(), "--workers", "0"},
            new String[]{"run", "--no-http", "--pcap", SAMPLE.toString(), "--ring-size", "1000"},
            new String[]{"run", "--no-http", "--pcap", SAMPLE.toString(), "--lifecycle", "suricata"},
            new String[]{"run"}))
        {
            final Run r = run(args);
            assertEquals(2, r.exit(), () -> String.join(" ", args) + ": " + r.err());
            assertEquals(1, r.err().lines().count(), r.err());
            assertTrue(r.err().startsWith("tracker run: "), r.err());
        }
    }

    @Test
    void runReportsAMissingFileAndExitsOne()
    {
        final Run r = run("run", "--no-http", "-q", "--pcap", "no-such-file.pcap");
        assertEquals(1, r.exit());
        assertEquals("tracker run: error: no-such-file.pcap: no such file", r.err().strip());
    }
}
