package dev.flowtracker.ingest.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The records' Zeek fields {@code ip_proto}, {@code local_orig} and {@code local_resp}: 6; null without
 * {@code --local-nets}; with it, whether each side's address lies in one of the networks, in JSON and in Zeek's TSV.
 */
class LocalNetsOptionTest
{
    private static final String SAMPLE = "../samples/sample.pcap";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldSayWhichSidesAreLocal() throws Exception
    {
        for (final JsonNode record : records("analyze", "-q", SAMPLE))
        {
            assertEquals(6, record.get("ip_proto").asInt());
            assertTrue(record.get("local_orig").isNull() && record.get("local_resp").isNull(), record.toString());
        }
        // The sample's clients are 10.99.0.2 and fd99::2, its servers 10.99.0.1 and fd99::1.
        int seen = 0;
        for (final JsonNode record : records("analyze", "-q", "--local-nets", "10.99.0.2/32,fd99::1/128", SAMPLE))
        {
            final boolean v6 = record.get("id.orig_h").asText().contains(":");
            assertEquals(!v6, record.get("local_orig").asBoolean(), record.toString());
            assertEquals(v6, record.get("local_resp").asBoolean(), record.toString());
            assertTrue(record.get("local_orig").isBoolean() && record.get("local_resp").isBoolean());
            seen++;
        }
        assertEquals(9, seen);
        final String zeek = run("analyze", "-q", "--format", "zeek", "--fields", "id.orig_h,local_orig,local_resp",
            "--local-nets", "10.0.0.0/8", SAMPLE);
        assertTrue(zeek.contains("#types\taddr\tbool\tbool\n"), zeek);
        assertTrue(zeek.contains("10.99.0.2\tT\tT\n") && zeek.contains("fd99::2\tF\tF\n"), zeek);
    }

    @Test
    void shouldRefuseABadNetworkInOneLine()
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit = TrackerCli.run(new String[] {"analyze", "--local-nets", "10.0.0.0/40", SAMPLE},
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(ExitCodes.USAGE, exit);
        assertEquals(1, err.toString(StandardCharsets.UTF_8).lines().count(), err.toString());
        assertTrue(err.toString(StandardCharsets.UTF_8).contains("--local-nets"), err.toString());
    }

    private static List<JsonNode> records(final String... args) throws Exception
    {
        final List<JsonNode> records = new ArrayList<>();
        for (final String line : run(args).split("\n"))
        {
            records.add(JSON.readTree(line));
        }
        return records;
    }

    private static String run(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit = TrackerCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, exit, err.toString(StandardCharsets.UTF_8));
        return out.toString(StandardCharsets.UTF_8);
    }
}
