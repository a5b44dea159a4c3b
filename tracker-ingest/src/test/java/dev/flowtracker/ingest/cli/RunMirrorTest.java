package dev.flowtracker.ingest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.source.mirror.MirrorProtocol;
import dev.flowtracker.ingest.source.mirror.MirrorReplay;
import dev.flowtracker.ingest.source.mirror.MirrorSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tracker run --vxlan-listen} end to end in its own JVM: the sample capture sent as VXLAN over loopback gives
 * the connections {@code analyze} finds in the file (same endpoints, conn_state and history, in the VNI it came
 * in), and SIGTERM writes those still open.
 */
class RunMirrorTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final Pattern RECEIVING = Pattern.compile("receiving vxlan on 127\\.0\\.0\\.1:(\\d+)");

    @Test
    void shouldTrackMirroredTrafficLikeTheCaptureItCameFrom(@TempDir final Path dir) throws Exception
    {
        Assumptions.assumeTrue(MirrorSource.isAvailable(), "needs native epoll");
        final Path records = dir.resolve("records.jsonl");
        final Path stderr = dir.resolve("stderr.txt");
        final Process tracker = new ProcessBuilder(
            ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
            TrackerCli.class.getName(), "run", "--vxlan-listen", "127.0.0.1:0", "--workers", "2",
            "--http-listen", "127.0.0.1:0", "-o", records.toString())
            .redirectError(stderr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try
        {
            final int port = awaitPort(stderr, tracker);
            try (MirrorReplay replay = new MirrorReplay(MirrorProtocol.VXLAN,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 42, 1))
            {
                final MirrorReplay.Result sent = replay.send(SAMPLE, 10_000, Duration.ofSeconds(30),
                    MirrorReplay.Pacing.rate(20_000));
                assertTrue(sent.complete(), "sent the whole sample: " + sent);
            }
            Thread.sleep(1_000); // let the receiver drain its socket
            tracker.destroy(); // SIGTERM: open connections are written with end_reason shutdown
            assertTrue(tracker.waitFor(30, TimeUnit.SECONDS), "did not stop within 30 s");
        }
        finally
        {
            tracker.destroyForcibly();
        }
        assertEquals(143, tracker.exitValue(), Files.readString(stderr));

        final ObjectMapper json = new ObjectMapper();
        final Set<String> live = new TreeSet<>();
        for (final String line : Files.readAllLines(records))
        {
            final JsonNode record = json.readTree(line);
            assertEquals(42, record.path("tcp").path("vni").asInt(), line);
            live.add(summary(record));
        }
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int exit = TrackerCli.run(new String[]{"analyze", "-q", SAMPLE.toString()},
            new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(0, exit);
        final Set<String> offline = new TreeSet<>();
        for (final String line : out.toString(StandardCharsets.UTF_8).lines().toList())
        {
            offline.add(summary(json.readTree(line)));
        }
        assertEquals(offline, live, "the same connections, states and histories as the capture");
        assertTrue(Files.readString(stderr).contains("tracker run: source vxlan"), Files.readString(stderr));
    }

    @Test
    void shouldRefuseASecondDaemonOnAMirrorPortAlreadyServedWithOneLine(@TempDir final Path dir) throws Exception
    {
        Assumptions.assumeTrue(MirrorSource.isAvailable(), "needs native epoll");
        final Path firstErr = dir.resolve("first.err");
        final Process first = new ProcessBuilder(
            ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED", "-cp",
            System.getProperty("java.class.path"),
            TrackerCli.class.getName(), "run", "--vxlan-listen", "127.0.0.1:0", "--mirror-threads", "2", "--workers",
            "1", "--no-http", "-o", dir.resolve("first.jsonl").toString())
            .redirectError(firstErr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try
        {
            final int port = awaitPort(firstErr, first);
            final Path secondErr = dir.resolve("second.err");
            final Process second = new ProcessBuilder(
                ProcessHandle.current().info().command().orElseThrow(), "--enable-native-access=ALL-UNNAMED", "-cp",
                System.getProperty("java.class.path"),
                TrackerCli.class.getName(), "run", "--vxlan-listen", "127.0.0.1:" + port, "--workers", "1",
                "--no-http", "-o", dir.resolve("second.jsonl").toString())
                .redirectError(secondErr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            try
            {
                assertTrue(second.waitFor(30, TimeUnit.SECONDS), "the second daemon should be refused, not serve");
            }
            finally
            {
                second.destroyForcibly();
            }
            final String refusal = Files.readString(secondErr);
            assertEquals(1, second.exitValue(), refusal);
            assertEquals(1, refusal.lines().count(), refusal);
            assertTrue(refusal.startsWith("tracker run: error: vxlan on 127.0.0.1:" + port + ": cannot listen: the " +
                "port is already served by 127.0.0.1:" + port + " (socket inode ") &&
                refusal.contains(", pid " + first.pid() + ")"), refusal);
            assertTrue(first.isAlive(), "the first daemon keeps serving: " + Files.readString(firstErr));
        }
        finally
        {
            first.destroy();
            first.waitFor(30, TimeUnit.SECONDS);
            first.destroyForcibly();
        }
    }

    /** The fields that do not depend on when frames arrived. */
    private static String summary(final JsonNode r)
    {
        return String.join(" ", r.path("id.orig_h").asText(), r.path("id.orig_p").asText(),
            r.path("id.resp_h").asText(),
            r.path("id.resp_p").asText(), r.path("conn_state").asText(), r.path("history").asText(),
            r.path("orig_bytes").asText(), r.path("resp_bytes").asText(), r.path("orig_pkts").asText(),
            r.path("resp_pkts").asText());
    }

    private static int awaitPort(final Path stderr, final Process tracker) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && tracker.isAlive())
        {
            final Matcher m = RECEIVING.matcher(Files.exists(stderr) ? Files.readString(stderr) : "");
            if (m.find())
            {
                return Integer.parseInt(m.group(1));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("the tracker did not say where it receives: " + Files.readString(stderr));
    }
}
