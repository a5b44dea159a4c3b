package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tracker run} stopped and started again, over and over, under traffic (issue 19): a paced replay of one
 * capture, each restart on the WHOLE capture with the same {@code -o} and {@code --state-dir} (the replay skips the
 * frames the restored checkpoints hold). Three graceful stops (SIGTERM, SIGINT, SIGTERM) and a run to the end write
 * exactly the records of one uninterrupted run. Three SIGKILLs (checkpoints every 300 ms) and a run to the end lose
 * no connection, and repeat a record only where README says a kill may: a connection the killed run wrote after the
 * checkpoint the next run resumed from (a checkpoint that still held it, or one from before it began) is written
 * again by that next run, the same record both times.
 */
class RunRestartLoopTest
{
    /** The interrupted runs of the graceful loop: the signal that stops each. */
    private static final List<String> GRACEFUL_STOPS = List.of("TERM", "INT", "TERM");
    private static final int KILLS = 3;
    /** Each killed run is killed once both shards have checkpointed this much further into the capture. */
    private static final long KILL_EVERY_NANOS = TimeUnit.SECONDS.toNanos(8);
    /** Each gracefully stopped run is stopped once this many more connections (of 40) have been written. */
    private static final int RECORDS_PER_RUN = 8;
    private static final Pattern CHECKPOINTED = Pattern.compile("(\\d+) open connections checkpointed in ");

    @TempDir
    static Path shared;
    private static Path capture;
    private static List<String> expected;

    @BeforeAll
    static void runOnceUninterrupted() throws IOException, InterruptedException
    {
        capture = RunCrashRestartTest.write(RunCrashRestartTest.traffic(), shared.resolve("whole.pcap"));
        expected = RunShutdownTest.uninterrupted(shared, capture);
    }

    @Test
    void shouldWriteTheRecordsOfOneUninterruptedRunWhenStoppedBySigtermAndSigintThreeTimesUnderAPacedReplay(
        @TempDir final Path dir) throws IOException, InterruptedException
    {
        final Path records = dir.resolve("records.jsonl");
        final Path state = dir.resolve("state");
        long restoredNext = 0;
        for (int run = 0; run < GRACEFUL_STOPS.size(); run++)
        {
            final String signal = GRACEFUL_STOPS.get(run);
            final Path err = dir.resolve("run" + run + ".err");
            // 47 s of capture at 8x, a quarter or so per run; the first of each run's records may take seconds (JVM).
            final Process tracker = RunShutdownTest.startPaced(capture, state, records, err, "8",
                (run + 1) * RECORDS_PER_RUN);
            try
            {
                assertTrue(tracker.isAlive(), "the paced replay should still be running: " + Files.readString(err));
                assertEquals(0, new ProcessBuilder("kill", "-" + signal, Long.toString(tracker.pid())).inheritIO()
                    .start().waitFor());
                assertTrue(tracker.waitFor(30, TimeUnit.SECONDS), "did not stop within 30 s");
            }
            finally
            {
                tracker.destroyForcibly();
            }
            final String log = Files.readString(err);
            assertEquals("TERM".equals(signal) ? 143 : 130, tracker.exitValue(), log);
            assertFalse(log.contains("Exception"), "no stack trace: " + log);
            assertTrue(run == 0 || log.contains("restored " + restoredNext + " connections") &&
                log.contains("the replay skips the frames the checkpoints already hold"), log);
            final Matcher checkpointed = CHECKPOINTED.matcher(log);
            assertTrue(checkpointed.find(), log);
            restoredNext = Long.parseLong(checkpointed.group(1));
            assertTrue(restoredNext > 0, "stopped with connections open: " + log);
        }
        assertTrue(Files.readAllLines(records).size() < expected.size(), "every stop came before the end");

        final String log = finish(state, records, dir.resolve("last.err"));
        assertTrue(log.contains("restored " + restoredNext + " connections"), log);
        assertEquals(expected, RunShutdownTest.sorted(Files.readAllLines(records)),
            "the records of all four runs, in one file, equal one uninterrupted run's, none twice");
    }

    @Test
    void shouldLoseNoConnectionAndRepeatOnlyRecordsWrittenAfterTheCheckpointResumedFromWhenKilledThreeTimes(
        @TempDir final Path dir) throws IOException, InterruptedException
    {
        final Path records = dir.resolve("records.jsonl");
        final Path state = dir.resolve("state");
        // Per run: the index in the file of its first record, the uids of the open connections it restored, and the
        // packet time it resumed from (the earliest shard's checkpoint).
        final List<Integer> firstLines = new ArrayList<>();
        final List<Set<String>> restored = new ArrayList<>();
        final List<Long> resumedFrom = new ArrayList<>();
        for (int run = 0; run < KILLS; run++)
        {
            firstLines.add(wholeLines(records));
            restored.add(checkpointedUids(state));
            resumedFrom.add(earliestCheckpoint(state));
            final Path err = dir.resolve("run" + run + ".err");
            // 47 s of capture at 2x; killed once both shards have checkpointed 8 s of capture beyond where it resumed
            // (the first checkpoint of a fresh JVM comes later: Chronicle Map generates its classes).
            final Process tracker = RunShutdownTest.startPaced(capture, state, records, err, "2", 0,
                "--checkpoint-interval", "300ms");
            try
            {
                final long target = Math.max(0, resumedFrom.getLast()) + KILL_EVERY_NANOS;
                final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (earliestCheckpoint(state) < target && System.nanoTime() < deadline && tracker.isAlive())
                {
                    Thread.sleep(20);
                }
                // At another point of the 300 ms checkpoint cycle each time.
                Thread.sleep(100L * run);
                assertTrue(tracker.isAlive() && earliestCheckpoint(state) >= target,
                    "still replaying, both shards checkpointed at packet time " + target + ": " +
                    Files.readString(err));
                tracker.destroyForcibly(); // SIGKILL: no final checkpoint, whatever the periodic one was doing
                assertTrue(tracker.waitFor(30, TimeUnit.SECONDS));
            }
            finally
            {
                tracker.destroyForcibly();
            }
        }
        firstLines.add(wholeLines(records));
        restored.add(checkpointedUids(state));
        resumedFrom.add(earliestCheckpoint(state));
        assertTrue(firstLines.getLast() < expected.size(), "every kill came before the end: " + firstLines);
        assertTrue(restored.stream().filter(open -> !open.isEmpty()).count() == KILLS,
            "each restart continued open connections: " + restored);
        final String log = finish(state, records, dir.resolve("last.err"));
        assertTrue(log.contains("restored " + restored.getLast().size() + " connections"), log);
        final List<String> lines = Files.readAllLines(records);
        firstLines.add(lines.size());

        assertEquals(new HashSet<>(expected), new HashSet<>(lines),
            "every record of an uninterrupted run is there, and every record written is one of them");
        final ObjectMapper json = new ObjectMapper();
        final Map<String, Integer> writtenBy = new HashMap<>();
        final List<String> repeats = new ArrayList<>();
        for (int run = 0; run < firstLines.size() - 1; run++)
        {
            for (int i = firstLines.get(run); i < firstLines.get(run + 1); i++)
            {
                final JsonNode record = json.readTree(lines.get(i));
                final String uid = record.path("uid").asText();
                final Integer earlier = writtenBy.put(uid, run);
                if (earlier != null)
                {
                    // README: after kill -9 a connection written after the last checkpoint may be written again. The
                    // restart writes it again when that checkpoint still held it, or when it began after it.
                    final long firstPacket = Math.round(record.path("ts").asDouble() * 1e9);
                    repeats.add(uid + " (runs " + earlier + " and " + run + ")");
                    assertTrue(earlier < run && (restored.get(run).contains(uid) || firstPacket > resumedFrom.get(run)),
                        uid + " written by run " + earlier + " and again by run " + run + ", though neither held by " +
                        "the checkpoint it resumed from (" + resumedFrom.get(run) + " ns) nor begun after it");
                }
            }
        }
        assertEquals(lines.size(), expected.size() + repeats.size(), "repeats: " + repeats);
    }

    /** Replays the whole capture to its end, unpaced, restored from {@code state}; returns its stderr. */
    private static String finish(final Path state, final Path records, final Path err)
        throws IOException, InterruptedException
    {
        final Process last = RunCrashRestartTest.tracker(err, "run", "--no-http", "--pcap", capture.toString(), "-C",
            "--workers", "2", "--state-dir", state.toString(), "-o", records.toString());
        assertTrue(last.waitFor(60, TimeUnit.SECONDS) && last.exitValue() == 0, "last run: " + Files.readString(err));
        final String log = Files.readString(err);
        assertTrue(log.contains("the replay skips the frames the checkpoints already hold"), log);
        return log;
    }

    /** Lines ended by a newline: a torn last line a killed run left is cut off by the next run. */
    private static int wholeLines(final Path file) throws IOException
    {
        if (!Files.exists(file))
        {
            return 0;
        }
        int lines = 0;
        for (final byte b : Files.readAllBytes(file))
        {
            lines += b == '\n' ? 1 : 0;
        }
        return lines;
    }

    /** The uids of the connections in the committed checkpoints ({@code tracker flows}), none without any. */
    private static Set<String> checkpointedUids(final Path state) throws IOException
    {
        final Set<String> uids = new HashSet<>();
        if (!Files.isDirectory(state))
        {
            return uids;
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertEquals(ExitCodes.OK, new FlowsCommand(new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(OutputStream.nullOutputStream()))
            .run(new String[] {"--state-dir", state.toString(), "-q"}));
        final ObjectMapper json = new ObjectMapper();
        for (final String line : out.toString(StandardCharsets.UTF_8).split("\n"))
        {
            if (!line.isBlank())
            {
                uids.add(json.readTree(line).path("uid").asText());
            }
        }
        return uids;
    }

    /**
     * The packet time of the earliest of both shards' committed checkpoints (where a restart resumes); -1 without
     * both, or when a commit raced the read.
     */
    private static long earliestCheckpoint(final Path state)
    {
        if (!Files.isDirectory(state))
        {
            return -1;
        }
        try (CheckpointStore store = CheckpointStore.openForReading(state))
        {
            final List<CheckpointInfo> shards = store.list();
            return shards.size() < 2 ? -1 :
                shards.stream().mapToLong(CheckpointInfo::packetTimeNanos).min().orElseThrow();
        }
        catch (final IOException | RuntimeException e)
        {
            return -1; // a commit racing the read: ask again
        }
    }
}
