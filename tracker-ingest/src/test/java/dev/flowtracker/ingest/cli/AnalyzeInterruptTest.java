package dev.flowtracker.ingest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.source.file.PcapTestWriter;
import dev.flowtracker.ingest.source.file.TestFrames;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Ctrl-C (SIGINT) in {@code analyze}, in a real process reading a pipe that stays open (frames are read as they
 * come, not once a buffer's worth has piled up): it stops reading, writes every connection
 * still open with {@code end_reason} shutdown (those that had closed keep theirs), prints one "interrupted" line
 * and the summary, and exits 130 as a shell expects of a command Ctrl-C ended.
 */
class AnalyzeInterruptTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long WAIT_SECONDS = 60;

    @TempDir
    Path dir;

    @Test
    void shouldWriteOpenConnectionsAndTheSummaryOnSigint() throws Exception
    {
        final Path records = dir.resolve("records.json");
        final Path stderr = dir.resolve("stderr.txt");
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(CheckpointStore.jvmOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TrackerCli.class.getName(),
            "analyze", "-C", "-o", records.toString(), "-"));
        final Process analyze = new ProcessBuilder(command).redirectError(stderr.toFile()).start();
        try
        {
            final OutputStream stdin = analyze.getOutputStream();
            stdin.write(capture());
            stdin.flush(); // and kept open: the reader waits for more, as behind tcpdump -w -
            awaitBlockedOnInput(analyze);
            assertEquals(0, new ProcessBuilder("kill", "-INT", Long.toString(analyze.pid())).start().waitFor());
            final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (!Files.readString(stderr).contains("interrupted") && System.nanoTime() < deadline)
            {
                Thread.sleep(20); // the signal is handled on a thread of its own
            }
            stdin.close(); // what the shell's Ctrl-C does to tcpdump upstream: the pipe ends
            assertTrue(analyze.waitFor(WAIT_SECONDS, TimeUnit.SECONDS), "analyze did not end");
        }
        finally
        {
            analyze.destroyForcibly();
        }
        final String err = Files.readString(stderr, StandardCharsets.UTF_8);
        assertEquals(130, analyze.exitValue(), err);
        assertEquals(1, err.lines().filter(l -> l.contains("interrupted")).count(), err);
        assertTrue(err.contains("tracker analyze: 1 file(s), 11 packets (11 TCP)"), err);
        final Map<Integer, String> endReasons = new TreeMap<>();
        for (final String line : Files.readAllLines(records))
        {
            final JsonNode record = JSON.readTree(line);
            endReasons.put(record.get("id.orig_p").asInt(), record.get("tcp").get("end_reason").asText());
        }
        assertEquals(Map.of(40001, "shutdown", 40002, "shutdown", 40003, "fin"), endReasons);
    }

    /**
     * Waits until the process's main thread waits for more input (every frame written so far has been read; the
     * signal handlers were installed before reading began), as its thread dump shows.
     */
    private static void awaitBlockedOnInput(final Process process) throws IOException, InterruptedException
    {
        final Path jcmd = Path.of(ProcessHandle.current().info().command().orElseThrow()).resolveSibling("jcmd");
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        String dump = "";
        while (System.nanoTime() < deadline && process.isAlive())
        {
            final Process threads = new ProcessBuilder(jcmd.toString(), Long.toString(process.pid()), "Thread.print")
                .redirectErrorStream(true).start();
            dump = new String(threads.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            threads.waitFor(WAIT_SECONDS, TimeUnit.SECONDS);
            final int main = dump.indexOf("\"main\"");
            if (main >= 0 && dump.indexOf("StreamingCaptureInput.fill", main) > main &&
                dump.indexOf("StreamingCaptureInput.fill", main) < dump.indexOf("\n\n", main))
            {
                return;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("analyze never waited for input; last thread dump:\n" + dump);
    }

    /** Two connections left open after some data, one closed by a FIN each way. */
    private static byte[] capture()
    {
        final PcapTestWriter pcap = PcapTestWriter.ethernet();
        final int client = 0x0A000001;
        final int server = 0x0A000002;
        long second = 1_700_000_000L;
        for (int port = 40001; port <= 40003; port++)
        {
            pcap.record(second, 0, TestFrames.tcp(client, server, port, 80, 1000, 0, TestFrames.SYN, new byte[0]));
            pcap.record(second, 100, TestFrames.tcp(server, client, 80, port, 5000, 1001,
                TestFrames.SYN | TestFrames.ACK, new byte[0]));
            pcap.record(second, 200, TestFrames.tcp(client, server, port, 80, 1001, 5001, TestFrames.ACK,
                "GET".getBytes(StandardCharsets.US_ASCII)));
            second++;
        }
        pcap.record(second, 0, TestFrames.tcp(client, server, 40003, 80, 1004, 5001,
            TestFrames.FIN | TestFrames.ACK, new byte[0]));
        pcap.record(second, 100, TestFrames.tcp(server, client, 80, 40003, 5001, 1005,
            TestFrames.FIN | TestFrames.ACK, new byte[0]));
        return pcap.toByteArray();
    }
}
