package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.source.file.PcapTestWriter;
import dev.flowtracker.ingest.source.file.TestFrames;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code tracker run --state-dir} killed with SIGKILL in the middle of a paced replay, restarted on the rest of
 * the capture: the last committed checkpoint is readable, its connections continue, and no connection of an
 * uninterrupted run is missing. (Connections updated after that checkpoint may be written twice: once before the
 * kill, once after the restart; that is the documented cost of kill -9.)
 */
class RunCrashRestartTest
{
    private static final int SERVER = 0x0A00_0002;
    private static final long SECOND = 1_000_000_000L;

    /** A frame with its capture time, in nanoseconds. */
    record Frame(long nanos, byte[] bytes)
    {
    }

    /** One connection starting each second for 40 s; each sends 10 bytes a second for 6 s, then closes. */
    static List<Frame> traffic()
    {
        final List<Frame> frames = new ArrayList<>();
        for (int c = 0; c < 40; c++)
        {
            final int client = 0x0A01_0000 + c;
            final int port = 40000 + c;
            // 10 µs apart within the second: no two frames share a timestamp, so "after the checkpoint's packet
            // time" cuts the capture unambiguously.
            final long start = c * SECOND + c * 10_000L;
            final long isn = 1000L * c;
            frames.add(new Frame(start, TestFrames.tcp(client, SERVER, port, 80, isn, 0, TestFrames.SYN, new byte[0])));
            frames.add(new Frame(start + 1_000_000, TestFrames.tcp(SERVER, client, 80, port, 9000, isn + 1,
                TestFrames.SYN | TestFrames.ACK, new byte[0])));
            frames.add(new Frame(start + 2_000_000, TestFrames.tcp(client, SERVER, port, 80, isn + 1, 9001,
                TestFrames.ACK, new byte[0])));
            for (int s = 1; s <= 6; s++)
            {
                frames.add(new Frame(start + s * SECOND, TestFrames.tcp(client, SERVER, port, 80,
                    isn + 1 + 10L * (s - 1), 9001, TestFrames.ACK | TestFrames.PSH, new byte[10])));
            }
            final long fin = isn + 61;
            frames.add(new Frame(start + 7 * SECOND, TestFrames.tcp(client, SERVER, port, 80, fin, 9001,
                TestFrames.FIN | TestFrames.ACK, new byte[0])));
            frames.add(new Frame(start + 7 * SECOND + 1_000_000, TestFrames.tcp(SERVER, client, 80, port, 9001, fin + 1,
                TestFrames.FIN | TestFrames.ACK, new byte[0])));
            frames.add(new Frame(start + 7 * SECOND + 2_000_000, TestFrames.tcp(client, SERVER, port, 80, fin + 1, 9002,
                TestFrames.ACK, new byte[0])));
        }
        frames.sort((x, y) -> Long.compare(x.nanos(), y.nanos()));
        return frames;
    }

    static Path write(final List<Frame> frames, final Path file) throws IOException
    {
        final PcapTestWriter pcap = PcapTestWriter.ethernet();
        for (final Frame frame : frames)
        {
            pcap.record(frame.nanos() / SECOND, frame.nanos() % SECOND / 1000, frame.bytes());
        }
        return pcap.writeTo(file);
    }

    static Process tracker(final Path stderr, final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of(
            ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(CheckpointStore.jvmOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TrackerCli.class.getName()));
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    static long committedShards(final Path stateDir) throws IOException
    {
        if (!Files.isDirectory(stateDir))
        {
            return 0;
        }
        try (var files = Files.list(stateDir))
        {
            return files.filter(f -> f.getFileName().toString().endsWith(".checkpoint")).count();
        }
    }

    private static Set<String> uids(final Path records) throws IOException
    {
        return uids(Files.readAllLines(records));
    }

    /** The uids of JSON record lines (a killed run's torn last line is skipped). */
    static Set<String> uids(final List<String> lines)
    {
        final ObjectMapper json = new ObjectMapper();
        final Set<String> uids = new HashSet<>();
        for (final String line : lines)
        {
            try
            {
                uids.add(json.readTree(line).path("uid").asText());
            }
            catch (final IOException e)
            {
                // the last line of a killed run may be torn
            }
        }
        return uids;
    }

    @Test
    void shouldLoseNoConnectionWhenKilledAndRestartedFromTheLastCheckpoint(@TempDir final Path dir)
        throws IOException, InterruptedException
    {
        final List<Frame> frames = traffic();
        final Path capture = write(frames, dir.resolve("whole.pcap"));
        final Path stateDir = dir.resolve("state");

        final Process whole = tracker(dir.resolve("whole.err"), "run", "--no-http", "--pcap", capture.toString(), "-C",
            "-o", dir.resolve("whole.jsonl").toString());
        assertTrue(whole.waitFor(60, TimeUnit.SECONDS) && whole.exitValue() == 0,
            "uninterrupted run: " + Files.readString(dir.resolve("whole.err")));
        final Set<String> expected = uids(dir.resolve("whole.jsonl"));
        assertEquals(40, expected.size());

        // 47 s of capture at 2x: about 23 s. Checkpoints every 300 ms (the first one in a fresh JVM takes seconds:
        // Chronicle Map generates its classes); SIGKILL once both shards have committed and a little more has run.
        final Process crashing = tracker(dir.resolve("first.err"),
            "run", "--no-http", "--pcap", capture.toString(), "-C",
            "--workers", "2", "--replay-speed", "2", "--state-dir", stateDir.toString(), "--checkpoint-interval",
            "300ms", "-o", dir.resolve("first.jsonl").toString());
        try
        {
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (committedShards(stateDir) < 2 && System.nanoTime() < deadline && crashing.isAlive())
            {
                Thread.sleep(100);
            }
            Thread.sleep(1_500);
            assertTrue(crashing.isAlive(), "still replaying: " + Files.readString(dir.resolve("first.err")));
            crashing.destroyForcibly(); // SIGKILL: no hook, no final checkpoint
            assertTrue(crashing.waitFor(30, TimeUnit.SECONDS));
        }
        finally
        {
            crashing.destroyForcibly();
        }

        // The last committed checkpoint says how far the killed run had got; replay the rest from there.
        long resumeAfter = Long.MAX_VALUE;
        long checkpointed = 0;
        try (CheckpointStore store = CheckpointStore.openForReading(stateDir))
        {
            final List<CheckpointInfo> shards = store.list();
            assertEquals(2, shards.size(), "both shards have committed checkpoints: " + shards + "; " +
                Files.readString(dir.resolve("first.err")));
            for (final CheckpointInfo info : shards)
            {
                resumeAfter = Math.min(resumeAfter, info.packetTimeNanos());
                checkpointed += info.entries();
            }
        }
        assertTrue(checkpointed > 0, "the killed run had open connections in its checkpoint");
        final long cut = resumeAfter;
        final Path rest = write(frames.stream().filter(f -> f.nanos() > cut).toList(), dir.resolve("rest.pcap"));

        final Process restarted = tracker(dir.resolve("second.err"),
            "run", "--no-http", "--pcap", rest.toString(), "-C",
            "--workers", "3", "--state-dir", stateDir.toString(), "-o", dir.resolve("second.jsonl").toString());
        assertTrue(restarted.waitFor(60, TimeUnit.SECONDS) && restarted.exitValue() == 0,
            "restart: " + Files.readString(dir.resolve("second.err")));
        assertTrue(Files.readString(dir.resolve("second.err")).contains("restored " + checkpointed + " connections"),
            Files.readString(dir.resolve("second.err")));

        final Set<String> merged = new HashSet<>(uids(dir.resolve("first.jsonl")));
        merged.addAll(uids(dir.resolve("second.jsonl")));
        final Set<String> missing = new HashSet<>(expected);
        missing.removeAll(merged);
        assertTrue(missing.isEmpty(), "connections lost across the kill: " + missing);
    }
}
