package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.ingest.source.file.PcapTestWriter;
import dev.flowtracker.ingest.source.file.TestFrames;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tracker run} writing its records onto a really full disk: a small tmpfs this test mounts (root only;
 * skipped with a message elsewhere) and fills with a filler file before the daemon starts. The daemon keeps
 * tracking, holds the records in memory and retries; freed space lets every record out, none cut or repeated; a
 * disk that never frees up ends with every record counted as lost by reason and exit status 1. A state directory
 * on a disk that fills up: checkpoints fail, counted, the daemon goes on, and checkpoints again once there is space.
 */
class RunFullDiskTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final Pattern SERVING = Pattern.compile("serving HTTP on http://(\\S+?):(\\d+)");
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;
    private Path disk;
    private boolean mounted;

    @BeforeEach
    void mountSmallDisk() throws IOException, InterruptedException
    {
        disk = Files.createDirectories(dir.resolve("disk"));
        final Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs",
            disk.toString()).redirectErrorStream(true).start();
        final String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        mounted = mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        Assumptions.assumeTrue(mounted, "skipped: cannot mount a small tmpfs to fill up (needs root): " + output);
    }

    @AfterEach
    void unmount() throws IOException, InterruptedException
    {
        if (mounted)
        {
            new ProcessBuilder("umount", "-l", disk.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldBufferRecordsWhileTheDiskIsFullAndWriteThemAllOnceThereIsSpace() throws Exception
    {
        final Path filler = fillDisk();
        final Path records = disk.resolve("records.jsonl");
        final Path stderr = dir.resolve("stderr.txt");
        final Process tracker = start(stderr, "-o", records.toString(), "--http-listen", "127.0.0.1:0");
        try
        {
            final String metrics = awaitHttp(tracker, stderr);
            // The whole capture is tracked and every record waits in memory for the disk.
            final String failing = awaitMetrics(metrics, text ->
                value(text, "tracker_records_sink_failing") == 1 && value(text, "tracker_records_backlog") > 0 &&
                Files.readString(stderr).contains("input finished"), stderr);
            final long buffered = (long)value(failing, "tracker_records_backlog");
            assertEquals(0, Files.size(records), "nothing fits on the full disk");

            Files.delete(filler);
            final String recovered = awaitMetrics(metrics, text ->
                value(text, "tracker_records_sink_failing") == 0 && value(text, "tracker_records_backlog") == 0,
                stderr);
            assertEquals(buffered, (long)value(recovered, "tracker_records_written_total{sink=\"file\"}"),
                "every buffered record written once the disk has space");
            assertEquals(0, value(recovered, "tracker_records_lost_total{reason=\"buffer_full\",sink=\"file\"}"));
            assertTrue(value(recovered, "tracker_records_sink_failures_total") >= 1);
            tracker.destroy();
            assertTrue(tracker.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "stops on SIGTERM");
        }
        finally
        {
            tracker.destroyForcibly();
        }
        final String log = Files.readString(stderr);
        assertEquals(143, tracker.exitValue(), log);
        assertTrue(log.contains("failed") && log.contains("No space left on device") && log.contains("no record lost"),
            log);
        assertEquals(sorted(analyze()), sorted(Files.readAllLines(records)),
            "the same records as analyze, each whole and once");
    }

    @Test
    void shouldCountEveryRecordAsLostWhenTheDiskNeverFreesUp() throws Exception
    {
        fillDisk();
        final Path stderr = dir.resolve("stderr.txt");
        // A 2 KiB buffer holds a few records: the rest are dropped as they come, what it holds is lost at exit.
        final Process tracker = start(stderr, "-o", disk.resolve("records.jsonl").toString(), "--no-http",
            "--record-buffer", "2k");
        try
        {
            assertTrue(tracker.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "exits at the end of input");
        }
        finally
        {
            tracker.destroyForcibly();
        }
        final String log = Files.readString(stderr);
        assertEquals(1, tracker.exitValue(), log);
        final int connections = analyze().size();
        final Matcher lost = Pattern.compile(
            "No space left on device; ([\\d,]+) lost \\(([\\d,]+) for a full buffer, ([\\d,]+) still unwritable at " +
            "exit\\), 0 written").matcher(log);
        assertTrue(lost.find(), log);
        assertEquals(connections, number(lost.group(1)), "every record counted: " + log);
        assertTrue(number(lost.group(2)) > 0 && number(lost.group(3)) > 0, log);
        assertTrue(log.contains("tracker run: 254 packets"), "the daemon kept tracking every packet: " + log);
    }

    @Test
    void shouldLeaveOnlyWholeRecordsWhenTheDiskFillsUpInTheMiddleOfARecord() throws Exception
    {
        // One free page: the kernel takes two records and part of the third, then the disk stays full.
        final Path spare = disk.resolve("spare");
        Files.write(spare, new byte[4096]);
        fillDisk();
        Files.delete(spare);
        final Path records = disk.resolve("records.jsonl");
        final Path stderr = dir.resolve("stderr.txt");
        final Process tracker = start(stderr, "-o", records.toString(), "--no-http");
        try
        {
            assertTrue(tracker.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "exits at the end of input");
        }
        finally
        {
            tracker.destroyForcibly();
        }
        final String log = Files.readString(stderr);
        assertEquals(1, tracker.exitValue(), log);
        final Matcher lost = Pattern.compile("([\\d,]+) lost \\(.*\\), ([\\d,]+) written").matcher(log);
        assertTrue(lost.find(), log);
        final byte[] bytes = Files.readAllBytes(records);
        assertTrue(bytes.length > 0 && bytes[bytes.length - 1] == '\n', "the file ends at a record boundary");
        final List<String> lines = Files.readAllLines(records);
        assertEquals(number(lost.group(2)), lines.size(), "every line a written record: " + log);
        assertTrue(lines.size() >= 1, log);
        final List<String> all = analyze();
        for (final String line : lines)
        {
            assertTrue(all.contains(line), "a whole record: " + line);
        }
        assertEquals(all.size(), lines.size() + number(lost.group(1)), "every record written or counted lost");
    }

    @Test
    void shouldCountCheckpointsThatFailOnAFullDiskKeepTrackingAndCheckpointAgainOnceThereIsSpace() throws Exception
    {
        final Path stderr = dir.resolve("stderr.txt");
        final Path capture = slowConnection(dir.resolve("slow.pcap"));
        final Process tracker = start(capture, stderr, "--replay-speed", "1", "--state-dir",
            disk.resolve("state").toString(), "--checkpoint-interval", "200ms", "-o", dir.resolve("records.jsonl")
                .toString(), "--http-listen", "127.0.0.1:0", "-C");
        try
        {
            final String metrics = awaitHttp(tracker, stderr);
            awaitMetrics(metrics, text -> value(text, "tracker_checkpoint_attempts_total{result=\"written\"}") >= 1,
                stderr);
            final Path filler = fillDisk();
            final String failing = awaitMetrics(metrics,
                text -> value(text, "tracker_checkpoint_attempts_total{result=\"failed\"}") >= 1, stderr);
            final double writtenWhileFull = value(failing, "tracker_checkpoint_attempts_total{result=\"written\"}");
            assertTrue(tracker.isAlive(), "a failed checkpoint does not stop the daemon");
            Files.delete(filler);
            awaitMetrics(metrics, text ->
                value(text, "tracker_checkpoint_attempts_total{result=\"written\"}") > writtenWhileFull, stderr);
            tracker.destroy();
            assertTrue(tracker.waitFor(WAIT.toSeconds(), TimeUnit.SECONDS), "stops on SIGTERM");
        }
        finally
        {
            tracker.destroyForcibly();
        }
        final String log = Files.readString(stderr);
        assertEquals(143, tracker.exitValue(), log);
        assertTrue(log.contains("checkpoint(s) failed, latest: checkpoint of shard"), log);
    }

    /** One connection that sends a little every 100 ms for a minute: packets keep the replay's checkpoints going. */
    private static Path slowConnection(final Path file) throws IOException
    {
        final int client = 0x0A00_0001;
        final int server = 0x0A00_0002;
        final PcapTestWriter pcap = PcapTestWriter.ethernet();
        pcap.record(0, 0, TestFrames.tcp(client, server, 40000, 80, 100, 0, TestFrames.SYN, new byte[0]));
        pcap.record(0, 1000, TestFrames.tcp(server, client, 80, 40000, 500, 101, TestFrames.SYN | TestFrames.ACK,
            new byte[0]));
        pcap.record(0, 2000, TestFrames.tcp(client, server, 40000, 80, 101, 501, TestFrames.ACK, new byte[0]));
        for (int tenth = 1; tenth <= 600; tenth++)
        {
            pcap.record(tenth / 10, (tenth % 10) * 100_000L, TestFrames.tcp(client, server, 40000, 80,
                101 + 10L * (tenth - 1), 501, TestFrames.ACK | TestFrames.PSH, new byte[10]));
        }
        return pcap.writeTo(file);
    }

    /** Fills the tmpfs with one file until the kernel says it is full. */
    private Path fillDisk() throws IOException
    {
        final Path filler = disk.resolve("filler");
        try (OutputStream out = Files.newOutputStream(filler))
        {
            final byte[] block = new byte[4096];
            for (int i = 0; i < 1_000; i++)
            {
                out.write(block);
                out.flush();
            }
        }
        catch (final IOException e)
        {
            assertTrue(String.valueOf(e.getMessage()).contains("No space left on device"), e.toString());
            return filler;
        }
        throw new AssertionError("4 MB fit on a 64 KiB tmpfs");
    }

    private Process start(final Path stderr, final String... options) throws IOException
    {
        return start(SAMPLE, stderr, options);
    }

    private Process start(final Path capture, final Path stderr, final String... options) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of(
            ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(CheckpointStore.jvmOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
            TrackerCli.class.getName(), "run", "--pcap", capture.toString(), "--workers", "2"));
        command.addAll(Arrays.asList(options));
        return new ProcessBuilder(command).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private static String awaitHttp(final Process tracker, final Path stderr) throws Exception
    {
        final long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline && tracker.isAlive())
        {
            final Matcher serving = SERVING.matcher(Files.readString(stderr));
            if (serving.find())
            {
                return "http://" + serving.group(1) + ":" + serving.group(2) + "/metrics";
            }
            Thread.sleep(100);
        }
        throw new AssertionError("no HTTP server: " + Files.readString(stderr));
    }

    @FunctionalInterface
    private interface Condition
    {
        boolean holds(String metrics) throws IOException;
    }

    private static String awaitMetrics(final String url, final Condition condition, final Path stderr)
        throws Exception
    {
        final HttpClient client = HttpClient.newHttpClient();
        final long deadline = System.nanoTime() + WAIT.toNanos();
        String last = "";
        while (System.nanoTime() < deadline)
        {
            last = client.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            if (condition.holds(last))
            {
                return last;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("condition not met within " + WAIT + "; metrics:\n" + records(last) + "\nstderr:\n" +
            Files.readString(stderr));
    }

    private static String records(final String metrics)
    {
        return String.join("\n", metrics.lines().filter(l -> l.startsWith("tracker_records")).toList());
    }

    /** The value of the sample named exactly {@code series} (name plus labels as exposed), or -1 when absent. */
    private static double value(final String metrics, final String series)
    {
        for (final String line : metrics.split("\n"))
        {
            if (line.startsWith(series + " "))
            {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return -1;
    }

    private static long number(final String digits)
    {
        return Long.parseLong(digits.replace(",", ""));
    }

    private static List<String> analyze()
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit = TrackerCli.run(new String[] {"analyze", SAMPLE.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8).lines().toList();
    }

    private static List<String> sorted(final List<String> lines)
    {
        return lines.stream().sorted().toList();
    }
}
