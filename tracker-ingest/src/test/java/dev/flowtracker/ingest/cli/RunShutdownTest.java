package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.capture.PcapTestWriter;
import dev.flowtracker.ingest.capture.TestFrames;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tracker run} in its own JVM, stopped by SIGTERM in the middle of a paced replay. */
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

    @Test
    void shouldWriteEveryOpenConnectionWhenStoppedBySigterm(@TempDir final Path dir)
        throws IOException, InterruptedException
    {
        final Path records = dir.resolve("records.jsonl");
        final Path stderr = dir.resolve("stderr.txt");
        final List<String> command = new ArrayList<>(List.of(
            ProcessHandle.current().info().command().orElseThrow(), "-cp", System.getProperty("java.class.path"),
            TrackerCli.class.getName(), "run", "--no-http", "--pcap", longConnection(dir).toString(), "--workers", "2", "-C",
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
