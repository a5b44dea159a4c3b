package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowtracker.core.flow.FlowStateCodec;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Restarts of the daemon while it captures live traffic (AF_PACKET in a namespace the test makes, real kernel TCP),
 * on the same state directory. After {@code kill -9}, a connection that was open at the kill continues from the last
 * checkpoint (its record starts with the handshake the first process saw, and counts the bytes that passed while no
 * tracker ran as missed), and a connection that ended before that checkpoint is written once, by the first process.
 * After SIGTERM, twice, with the same {@code -o}: connections held open across both restarts, and one opened between
 * them, are each written once, continued, with what passed between the processes as missed bytes. Root only
 * (namespaces); skipped with a message elsewhere.
 */
class LiveCrashRestartTest
{
    private static final int PORT = 8090;
    private static final long WAIT_MILLIS = 30_000;
    /** Shards, each with a checkpoint of its own. */
    private static final int WORKERS = 2;

    @TempDir
    Path dir;
    private NetnsPair net;
    private ServerSocket listener;

    @BeforeEach
    void createNamespaces() throws Exception
    {
        NetnsPair.assumeUsable();
        net = NetnsPair.create();
        listener = NetnsPair.call(net.server, 10, () ->
        {
            final ServerSocket socket = new ServerSocket();
            socket.setReuseAddress(true);
            socket.bind(new InetSocketAddress(InetAddress.getByName(NetnsPair.SERVER_V4), PORT), 16);
            return socket;
        });
        final Thread echo = new Thread(this::serveEcho, "test-echo-server");
        echo.setDaemon(true);
        echo.start();
    }

    @AfterEach
    void deleteNamespaces() throws IOException
    {
        if (listener != null)
        {
            listener.close();
        }
        if (net != null)
        {
            net.close();
        }
    }

    @Test
    void shouldContinueAnOpenConnectionAfterKillNineAndWriteAnEndedOneOnce() throws Exception
    {
        final Path state = dir.resolve("state");
        final Path firstRecords = dir.resolve("first.jsonl");
        final Process first = tracker(dir.resolve("first.err"), state, firstRecords);
        final Socket open;
        try
        {
            awaitLog(dir.resolve("first.err"), "receiving ", first);
            open = connect();
            exchange(open, 100);
            final Socket shortLived = connect();
            exchange(shortLived, 10);
            close(shortLived);
            // Its record is written (closed linger 1 s), then the committed checkpoints hold only the open
            // connection. Counting entries is not enough: shards commit one at a time on one writer thread, and a
            // shard whose write is still going skips the next snapshot, so for a while one shard's checkpoint can
            // still hold the ended connection while the other's predates the open one (one entry in all).
            await(() -> lines(firstRecords).size() == 1, "the ended connection's record", dir.resolve("first.err"));
            final List<Integer> openOnly = List.of(open.getLocalPort());
            await(() -> openOnly.equals(checkpointedClientPorts(state)), "a checkpoint with only the open " +
                "connection (client port " + open.getLocalPort() + ")", dir.resolve("first.err"));
            first.destroyForcibly(); // SIGKILL: no hook, no final checkpoint, no flush
            assertTrue(first.waitFor(30, TimeUnit.SECONDS));
        }
        finally
        {
            first.destroyForcibly();
        }

        exchange(open, 50); // while no tracker runs: missed by both

        final Path secondRecords = dir.resolve("second.jsonl");
        final Process second = tracker(dir.resolve("second.err"), state, secondRecords);
        try
        {
            awaitLog(dir.resolve("second.err"), "receiving ", second);
            assertTrue(Files.readString(dir.resolve("second.err")).contains("restored 1 connections"),
                Files.readString(dir.resolve("second.err")));
            exchange(open, 30);
            close(open);
            await(() -> lines(secondRecords).size() == 1, "the continued connection's record",
                dir.resolve("second.err"));
            second.destroy();
            assertTrue(second.waitFor(30, TimeUnit.SECONDS));
            assertEquals(143, second.exitValue(), Files.readString(dir.resolve("second.err")));
        }
        finally
        {
            second.destroyForcibly();
        }

        final JsonNode ended = Records.parse(lines(firstRecords).getFirst());
        assertEquals("SF", ended.path("conn_state").asText(), ended.toString());
        assertEquals(10, ended.path("orig_bytes").asLong(), ended.toString());
        final JsonNode continued = Records.parse(lines(secondRecords).getFirst());
        assertTrue(!continued.path("uid").asText().equals(ended.path("uid").asText()), "the ended one is not repeated");
        assertEquals("SF", continued.path("conn_state").asText(), continued.toString());
        assertTrue(continued.path("history").asText().startsWith("ShA"),
            "restored, not picked up mid-stream: " + continued);
        assertEquals(180, continued.path("orig_bytes").asLong(), continued.toString());
        assertEquals(180, continued.path("resp_bytes").asLong(), continued.toString());
        assertEquals(100, continued.path("missed_bytes").asLong(), "50 bytes each way passed unseen: " + continued);
    }

    @Test
    void shouldContinueOpenConnectionsAcrossTwoSigtermRestartsWithTheSameOutputCountingUnseenBytesAsMissed()
        throws Exception
    {
        final Path state = dir.resolve("state");
        final Path records = dir.resolve("records.jsonl");
        final List<Socket> open = new ArrayList<>();
        final int shortLivedPort;
        final Process first = tracker(dir.resolve("first.err"), state, records);
        try
        {
            awaitLog(dir.resolve("first.err"), "receiving ", first);
            for (int i = 0; i < 2; i++)
            {
                open.add(connect());
                exchange(open.getLast(), 100);
            }
            final Socket shortLived = connect();
            shortLivedPort = shortLived.getLocalPort();
            exchange(shortLived, 10);
            close(shortLived);
            await(() -> lines(records).size() == 1, "the ended connection's record", dir.resolve("first.err"));
            stop(first, dir.resolve("first.err"), 2);
        }
        finally
        {
            first.destroyForcibly();
        }
        for (final Socket socket : open)
        {
            exchange(socket, 50); // while no tracker runs: missed
        }

        final Process second = tracker(dir.resolve("second.err"), state, records);
        try
        {
            awaitRestored(dir.resolve("second.err"), second, 2);
            for (final Socket socket : open)
            {
                exchange(socket, 30);
            }
            open.add(connect()); // opened under the second process
            exchange(open.getLast(), 20);
            stop(second, dir.resolve("second.err"), 3);
        }
        finally
        {
            second.destroyForcibly();
        }
        for (final Socket socket : open)
        {
            exchange(socket, 50);
        }

        final Process third = tracker(dir.resolve("third.err"), state, records);
        try
        {
            awaitRestored(dir.resolve("third.err"), third, 3);
            for (final Socket socket : open)
            {
                exchange(socket, 30);
                close(socket);
            }
            await(() -> lines(records).size() == 4, "the continued connections' records", dir.resolve("third.err"));
            stop(third, dir.resolve("third.err"), 0);
        }
        finally
        {
            third.destroyForcibly();
        }

        // One record per connection in the one file, each continued from its handshake across every restart. Bytes
        // each way (seen and unseen) and the unseen ones, by client port: 100+50+30+50+30 with 50+50 unseen for the
        // two opened under the first process, 20+50+30 with 50 unseen for the one opened under the second.
        final Map<Integer, List<Long>> expected = new HashMap<>();
        expected.put(shortLivedPort, List.of(10L, 0L));
        expected.put(open.get(0).getLocalPort(), List.of(260L, 100L));
        expected.put(open.get(1).getLocalPort(), List.of(260L, 100L));
        expected.put(open.get(2).getLocalPort(), List.of(100L, 50L));
        final Map<Integer, List<Long>> actual = new HashMap<>();
        for (final String line : lines(records))
        {
            final JsonNode record = Records.parse(line);
            assertEquals("SF", record.path("conn_state").asText(), record.toString());
            assertTrue(record.path("history").asText().startsWith("ShA"), "continued, not picked up: " + record);
            assertEquals(record.path("orig_bytes").asLong(), record.path("resp_bytes").asLong(), record.toString());
            assertEquals(0, record.path("missed_bytes").asLong() % 2, "as many unseen each way: " + record);
            assertTrue(actual.put(record.path("id.orig_p").asInt(), List.of(record.path("orig_bytes").asLong(),
                record.path("missed_bytes").asLong() / 2)) == null, "one record per connection: " + line);
        }
        assertEquals(expected, actual, "bytes and unseen bytes each way, by client port: " + lines(records));
    }

    /** SIGTERM; the tracker checkpoints {@code open} connections and exits 143. */
    private static void stop(final Process tracker, final Path stderr, final long open) throws Exception
    {
        tracker.destroy();
        assertTrue(tracker.waitFor(30, TimeUnit.SECONDS), "stopped within 30 s: " + Files.readString(stderr));
        assertEquals(143, tracker.exitValue(), Files.readString(stderr));
        assertTrue(Files.readString(stderr).contains(open + " open connections checkpointed"),
            Files.readString(stderr));
    }

    private static void awaitRestored(final Path stderr, final Process tracker, final long open) throws Exception
    {
        awaitLog(stderr, "receiving ", tracker);
        assertTrue(Files.readString(stderr).contains("restored " + open + " connections"), Files.readString(stderr));
    }

    /** Half-closes, waits for the echo server to close after it, closes. */
    private static void close(final Socket socket) throws IOException
    {
        socket.shutdownOutput();
        assertEquals(-1, socket.getInputStream().read(), "the server closes after the client");
        socket.close();
    }

    /** The tracker in the server namespace, capturing on its interface, checkpointing every 300 ms. */
    private Process tracker(final Path stderr, final Path state, final Path records) throws IOException
    {
        final List<String> command = new ArrayList<>(List.of(NetnsPair.find("ip"), "netns", "exec", net.server,
            ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(CheckpointStore.jvmOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"),
            "dev.flowtracker.ingest.cli.TrackerCli", "run", "--interface", NetnsPair.SERVER_INTERFACE, "-C",
            "--no-http", "--workers", String.valueOf(WORKERS), "--state-dir", state.toString(),
            "--checkpoint-interval", "300ms", "--closed-timeout", "1s", "-o", records.toString()));
        return new ProcessBuilder(command).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    }

    private Socket connect() throws Exception
    {
        return NetnsPair.call(net.client, 10, () ->
        {
            final Socket socket = new Socket();
            socket.connect(new InetSocketAddress(InetAddress.getByName(NetnsPair.SERVER_V4), PORT), 5_000);
            socket.setSoTimeout(5_000);
            return socket;
        });
    }

    /** Sends {@code bytes} and reads the echo back. */
    private static void exchange(final Socket socket, final int bytes) throws IOException
    {
        socket.getOutputStream().write(new byte[bytes]);
        socket.getOutputStream().flush();
        final InputStream in = socket.getInputStream();
        int received = 0;
        final byte[] buffer = new byte[bytes];
        while (received < bytes)
        {
            final int n = in.read(buffer, 0, bytes - received);
            assertTrue(n > 0, "echo ended early");
            received += n;
        }
    }

    /** Echoes each connection (on a thread of its own) until the client half-closes, then closes. */
    private void serveEcho()
    {
        while (!listener.isClosed())
        {
            try
            {
                final Socket connection = listener.accept();
                final Thread thread = new Thread(() ->
                {
                    try (connection)
                    {
                        final InputStream in = connection.getInputStream();
                        final OutputStream out = connection.getOutputStream();
                        final byte[] buffer = new byte[4096];
                        for (int n; (n = in.read(buffer)) >= 0; )
                        {
                            out.write(buffer, 0, n);
                            out.flush();
                        }
                    }
                    catch (final IOException e)
                    {
                        // the test sees a missing echo
                    }
                }, "test-echo");
                thread.setDaemon(true);
                thread.start();
            }
            catch (final IOException e)
            {
                return; // closed
            }
        }
    }

    /**
     * The client ports of the connections in the committed checkpoints, every shard's, in shard order; null while
     * a shard has none yet or when a commit raced the read. A shard's later commits come from later snapshots (it
     * skips a snapshot while its previous write is going), so once this holds only the open connection, any
     * checkpoint committed before the kill does too.
     */
    private static List<Integer> checkpointedClientPorts(final Path state)
    {
        if (!Files.isDirectory(state))
        {
            return null;
        }
        try (CheckpointStore store = CheckpointStore.openForReading(state))
        {
            final List<CheckpointInfo> shards = store.list();
            if (shards.size() < WORKERS || shards.stream().mapToLong(CheckpointInfo::entries).sum() != 1)
            {
                return null; // cheap first: only the manifests
            }
            final TcpConnection probe = new TcpConnection();
            final List<Integer> ports = new ArrayList<>();
            for (final CheckpointInfo info : shards)
            {
                store.read(info.shard(), (key, flow) ->
                {
                    FlowStateCodec.decode(flow.duplicate(), probe);
                    ports.add(probe.originatorPort());
                });
            }
            return ports;
        }
        catch (final IOException | RuntimeException e)
        {
            return null; // a commit racing the read: try again
        }
    }

    private static List<String> lines(final Path file)
    {
        try
        {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        }
        catch (final IOException e)
        {
            return List.of();
        }
    }

    private static void awaitLog(final Path stderr, final String text, final Process process) throws Exception
    {
        await(() -> lines(stderr).stream().anyMatch(l -> l.contains(text)) || !process.isAlive(), "'" + text + "'",
            stderr);
        assertTrue(process.isAlive(), "the tracker exited: " + Files.readString(stderr));
    }

    private static void await(final BooleanSupplier condition, final String what, final Path stderr) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WAIT_MILLIS);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() > deadline)
            {
                throw new AssertionError("no " + what + " within " + WAIT_MILLIS + " ms:\n" + Files.readString(stderr));
            }
            Thread.sleep(100);
        }
    }
}
