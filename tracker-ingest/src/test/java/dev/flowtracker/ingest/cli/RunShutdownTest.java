package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.source.file.PcapTestWriter;
import dev.flowtracker.ingest.source.file.TestFrames;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code tracker run} in its own JVM, stopped by SIGTERM or SIGINT in the middle of a paced replay: open connections
 * are written (or, with a state directory, checkpointed and continued by the next run), the output file is continued
 * by the next run rather than truncated, and the exit status is 128 + the signal.
 */
class RunShutdownTest
{
    private static final int CLIENT = 0x0A00_0001;
    private static final int SERVER = 0x0A00_0002;

    /** One connection that opens at once, sends a little each second for a minute, and never closes. */
    private static Path longConnection(final Path dir) throws IOException
    {
        final PcapTestWriter pcap = PcapTestWriter.ethernet();
        pcap.record(0, 0, TestFrames.tcp(CLIENT, SERVER, 40000, 80, 100, 0, TestFrames.SYN, new byte[0]));
        pcap.record(0, 1000, TestFrames.tcp(SERVER, CLIENT, 80, 40000, 500, 101, TestFrames.SYN | TestFrames.ACK,
            new byte[0]));
        pcap.record(0, 2000, TestFrames.tcp(CLIENT, SERVER, 40000, 80, 101, 501, TestFrames.ACK, new byte[0]));
        for (int second = 1; second <= 60; second++)
        {
            pcap.record(second, 0, TestFrames.tcp(CLIENT, SERVER, 40000, 80, 101 + 10L * (second - 1), 501,
                TestFrames.ACK | TestFrames.PSH, new byte[10]));
        }
        return pcap.writeTo(dir.resolve("long.pcap"));
    }

    @ParameterizedTest(name = "SIG{0}")
    @ValueSource(strings = {"TERM", "INT"})
    void shouldCheckpointOpenConnectionsWhenStoppedAndContinueThemInTheSameOutputAfterARestart(
        final String signal, @TempDir final Path dir) throws IOException, InterruptedException
    {
        final List<RunCrashRestartTest.Frame> frames = RunCrashRestartTest.traffic();
        final Path capture = RunCrashRestartTest.write(frames, dir.resolve("whole.pcap"));
        final List<String> expected = uninterrupted(dir, capture);
        final Path records = dir.resolve("records.jsonl");
        final Path stateDir = dir.resolve("state");
        final Path firstErr = dir.resolve("first.err");
        final Process first = startPacedUntilRecordsWritten(capture, stateDir, records, firstErr);
        final int exit;
        try
        {
            assertTrue(first.isAlive(), "the paced replay should still be running: " + Files.readString(firstErr));
            assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(first.pid())).inheritIO().start()
                .waitFor());
            assertTrue(first.waitFor(30, TimeUnit.SECONDS), "did not stop within 30 s");
            exit = first.exitValue();
        }
        finally
        {
            first.destroyForcibly();
        }
        final String firstLog = Files.readString(firstErr);
        assertEquals("TERM".equals(signal) ? 143 : 130, exit, firstLog);
        assertFalse(firstLog.contains("Exception"), "no stack trace: " + firstLog);
        final int writtenBeforeStop = Files.readAllLines(records).size();
        assertTrue(writtenBeforeStop > 0 && writtenBeforeStop < 40, "stopped part-way: " + writtenBeforeStop);

        // The final checkpoint holds every open connection, and says so; the reader stopped after the frame with
        // the newest packet time any shard saw, so the rest of the capture starts after it.
        long resumeAfter = 0;
        long checkpointed = 0;
        try (CheckpointStore store = CheckpointStore.openForReading(stateDir))
        {
            for (final CheckpointInfo info : store.list())
            {
                resumeAfter = Math.max(resumeAfter, info.packetTimeNanos());
                checkpointed += info.entries();
            }
        }
        assertTrue(checkpointed > 0, "open connections were checkpointed: " + firstLog);
        assertTrue(firstLog.contains(checkpointed + " open connections checkpointed in " + stateDir), firstLog);
        final long cut = resumeAfter;
        final Path rest = RunCrashRestartTest.write(frames.stream().filter(f -> f.nanos() > cut).toList(),
            dir.resolve("rest.pcap"));

        final Path secondErr = dir.resolve("second.err");
        final Process second = RunCrashRestartTest.tracker(secondErr, "run", "--no-http", "--pcap", rest.toString(),
            "-C", "--workers", "2", "--state-dir", stateDir.toString(), "-o", records.toString());
        assertTrue(second.waitFor(60, TimeUnit.SECONDS) && second.exitValue() == 0,
            "restart: " + Files.readString(secondErr));
        assertTrue(Files.readString(secondErr).contains("restored " + checkpointed + " connections"),
            Files.readString(secondErr));
        assertEquals(expected, sorted(Files.readAllLines(records)),
            "the records of both runs, in one file, equal one uninterrupted run's");
    }

    @Test
    void shouldGiveTheRecordsOfOneUninterruptedRunWhenRestartedOnTheWholeCaptureAfterACheckpoint(
        @TempDir final Path dir) throws IOException, InterruptedException
    {
        final List<RunCrashRestartTest.Frame> frames = RunCrashRestartTest.traffic();
        final Path capture = RunCrashRestartTest.write(frames, dir.resolve("whole.pcap"));
        final List<String> expected = uninterrupted(dir, capture);
        // SIGTERM part-way through a paced replay with two workers, as above.
        final Path records = dir.resolve("records.jsonl");
        final Path stateDir = dir.resolve("state");
        final Path firstErr = dir.resolve("first.err");
        final Process first = startPacedUntilRecordsWritten(capture, stateDir, records, firstErr);
        try
        {
            assertTrue(first.isAlive(), "the paced replay should still be running: " + Files.readString(firstErr));
            first.destroy(); // SIGTERM
            assertTrue(first.waitFor(30, TimeUnit.SECONDS), "did not stop within 30 s");
        }
        finally
        {
            first.destroyForcibly();
        }
        assertEquals(143, first.exitValue(), Files.readString(firstErr));
        long resumeAfter = 0;
        try (CheckpointStore store = CheckpointStore.openForReading(stateDir))
        {
            for (final CheckpointInfo info : store.list())
            {
                resumeAfter = Math.max(resumeAfter, info.packetTimeNanos());
            }
        }
        final long cut = resumeAfter;
        final long alreadyRead = frames.stream().filter(f -> f.nanos() <= cut).count();
        assertTrue(alreadyRead > 0 && alreadyRead < frames.size(), "stopped part-way: " + alreadyRead);

        // The WHOLE capture again, three workers this time: the frames the checkpoint holds are left out by itself.
        final Path secondErr = dir.resolve("second.err");
        final Process second = RunCrashRestartTest.tracker(secondErr, "run", "--no-http", "--pcap", capture.toString(),
            "-C", "--workers", "3", "--state-dir", stateDir.toString(), "-o", records.toString());
        assertTrue(second.waitFor(60, TimeUnit.SECONDS) && second.exitValue() == 0,
            "restart: " + Files.readString(secondErr));
        final String log = Files.readString(secondErr);
        assertTrue(log.contains("the replay skips the frames the checkpoints already hold: up to packet time "),
            log);
        assertTrue(log.contains(String.format(java.util.Locale.ROOT, "%,d frames, ", frames.size() - alreadyRead)) &&
            log.contains(String.format(java.util.Locale.ROOT, ", %,d skipped (already in the checkpoints restored)",
                alreadyRead)), log);
        final List<String> union = sorted(Files.readAllLines(records));
        assertEquals(union.size(), union.stream().distinct().count(), "no record written twice");
        assertEquals(expected, union, "the records of both runs, in one file, equal one uninterrupted run's");
    }

    /** The records of one uninterrupted run over {@code capture}, sorted; checks there are the 40 connections. */
    static List<String> uninterrupted(final Path dir, final Path capture)
        throws IOException, InterruptedException
    {
        final Process whole = RunCrashRestartTest.tracker(dir.resolve("whole.err"), "run", "--no-http", "--pcap",
            capture.toString(), "-C", "-o", dir.resolve("whole.jsonl").toString());
        assertTrue(whole.waitFor(60, TimeUnit.SECONDS) && whole.exitValue() == 0,
            "uninterrupted run: " + Files.readString(dir.resolve("whole.err")));
        final List<String> expected = sorted(Files.readAllLines(dir.resolve("whole.jsonl")));
        assertEquals(40, expected.size());
        return expected;
    }

    /**
     * Starts a paced replay (47 s of capture at 2x) on two workers with a state directory, and returns once the
     * first connections have ended and been written: some ended, several open.
     */
    private static Process startPacedUntilRecordsWritten(
        final Path capture, final Path stateDir, final Path records, final Path stderr)
        throws IOException, InterruptedException
    {
        return startPaced(capture, stateDir, records, stderr, "2", 2);
    }

    /**
     * Starts {@code tracker run} replaying {@code capture} at {@code speed} on two workers with {@code stateDir} and
     * {@code -o records} (and {@code extra} options), and returns once {@code records} holds {@code untilLines}
     * lines (those of earlier runs included), the process has exited, or 30 s have passed.
     */
    static Process startPaced(
        final Path capture, final Path stateDir, final Path records, final Path stderr, final String speed,
        final int untilLines, final String... extra) throws IOException, InterruptedException
    {
        final List<String> args = new ArrayList<>(List.of("run", "--no-http", "--pcap", capture.toString(), "-C",
            "--workers", "2", "--replay-speed", speed, "--state-dir", stateDir.toString(), "-o", records.toString()));
        args.addAll(List.of(extra));
        final Process tracker = RunCrashRestartTest.tracker(stderr, args.toArray(String[]::new));
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && tracker.isAlive() &&
            (Files.exists(records) ? Files.readAllLines(records).size() : 0) < untilLines)
        {
            Thread.sleep(50);
        }
        return tracker;
    }

    static List<String> sorted(final List<String> lines)
    {
        final List<String> copy = new ArrayList<>(lines);
        copy.sort(null);
        return copy;
    }

    @Test
    void shouldWriteEveryOpenConnectionWhenStoppedBySigterm(@TempDir final Path dir)
        throws IOException, InterruptedException
    {
        final Path records = dir.resolve("records.jsonl");
        final Path stderr = dir.resolve("stderr.txt");
        final List<String> command = new ArrayList<>(List.of(
            ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
            TrackerCli.class.getName(), "run", "--no-http", "--pcap", longConnection(dir).toString(),
            "--workers", "2", "-C",
            // A minute of capture in real time: the replay is still going when the signal comes after 3 s.
            "--replay-speed", "1", "-o", records.toString()));
        final Process tracker = new ProcessBuilder(command).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try
        {
            Thread.sleep(3_000);
            assertTrue(tracker.isAlive(), "the paced replay should still be running: " + Files.readString(stderr));
            tracker.destroy(); // SIGTERM
            assertTrue(tracker.waitFor(30, TimeUnit.SECONDS), "did not stop within 30 s");
        }
        finally
        {
            tracker.destroyForcibly();
        }

        assertEquals(143, tracker.exitValue(), "exit status after SIGTERM");
        final ObjectMapper json = new ObjectMapper();
        final List<JsonNode> written = new ArrayList<>();
        for (final String line : Files.readAllLines(records))
        {
            written.add(json.readTree(line)); // every line is a whole record
        }
        assertEquals(1, written.size(), "the one connection, written once");
        final JsonNode record = written.getFirst();
        assertEquals("shutdown", record.path("tcp").path("end_reason").asText(), record.toString());
        final long packets = record.path("orig_pkts").asLong() + record.path("resp_pkts").asLong();
        assertTrue(packets >= 3 && packets < 63, "stopped part-way through the replay: " + packets + " packets");
        assertTrue(Files.readString(stderr).contains("stopped by a shutdown signal"), Files.readString(stderr));
    }
}
