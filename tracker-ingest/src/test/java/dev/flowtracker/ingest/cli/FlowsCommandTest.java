package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code tracker flows --state-dir}: the connections a run left in its checkpoints. */
class FlowsCommandTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");

    record Result(int exit, String out, String err)
    {
    }

    private static Result tracker(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit = TrackerCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Result(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static List<String> uids(final String jsonLines) throws IOException
    {
        final ObjectMapper json = new ObjectMapper();
        final List<String> uids = new ArrayList<>();
        for (final String line : jsonLines.split("\n"))
        {
            if (!line.isBlank())
            {
                uids.add(json.readTree(line).path("uid").asText());
            }
        }
        uids.sort(null);
        return uids;
    }

    @Test
    void shouldListTheConnectionsCheckpointedAtTheEndOfInput(@TempDir final Path dir) throws IOException
    {
        final Path state = dir.resolve("state");
        final Result analyze = tracker("analyze", SAMPLE.toString());
        assertEquals(0, analyze.exit(), analyze.err());

        // Zeek keeps closed connections for its close delay: at the end of the sample all nine are still held.
        final Result run = tracker("run", "--no-http", "--pcap", SAMPLE.toString(), "--workers", "2", "--state-dir",
            state.toString(), "--checkpoint-at-end", "-o", dir.resolve("records.jsonl").toString());
        assertEquals(0, run.exit(), run.err());
        assertEquals("", Files.readString(dir.resolve("records.jsonl")), "kept open in the checkpoint, not written");

        final Result flows = tracker("flows", "--state-dir", state.toString());
        assertEquals(0, flows.exit(), flows.err());
        assertEquals(uids(analyze.out()), uids(flows.out()), "the same connections, from the checkpoint");
        assertTrue(flows.err().contains("9 connections from 2 shard checkpoint(s)"), flows.err());

        final Result limited = tracker("flows", "--state-dir", state.toString(), "--limit", "4", "-q");
        assertEquals(4, uids(limited.out()).size());
        assertEquals("", limited.err());
    }

    @Test
    void shouldNameAMissingStateDirectory(@TempDir final Path dir)
    {
        final Result flows = tracker("flows", "--state-dir", dir.resolve("nowhere").toString());
        assertEquals(ExitCodes.INPUT_ERROR, flows.exit());
        assertTrue(flows.err().startsWith("tracker flows: error: ") && flows.err().contains("nowhere"), flows.err());
        assertEquals("", flows.out());
    }

    @Test
    void shouldRejectBadUsage()
    {
        assertEquals(ExitCodes.USAGE, tracker("flows").exit());
        assertEquals(ExitCodes.USAGE, tracker("flows", "--state-dir", "x", "--limit", "0").exit());
        assertEquals(ExitCodes.USAGE, tracker("run", "--no-http", "--pcap", "x", "--checkpoint-at-end").exit());
        assertEquals(ExitCodes.USAGE, tracker("run", "--no-http", "--pcap", "x", "--rotate-size", "64M").exit());
        assertEquals(ExitCodes.USAGE,
            tracker("run", "--no-http", "--pcap", "x", "-o", "y", "--rotate-size", "lots").exit());
    }
}
