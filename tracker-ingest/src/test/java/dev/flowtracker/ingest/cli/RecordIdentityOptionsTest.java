package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The fields that identify a record across tools and taps: {@code community_id} (recomputed here from each record's
 * 5-tuple, plainly after the spec) with the seed chosen, and {@code tap} from {@code --tap-name} or the host name.
 */
class RecordIdentityOptionsTest
{
    private static final String SAMPLE = "../samples/sample.pcap";
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldWriteTheCommunityIdOfTheTupleAndTheHostAsTap() throws Exception
    {
        final List<JsonNode> records = analyze("analyze", "--no-progress", SAMPLE);
        assertTrue(records.size() > 1);
        for (final JsonNode record : records)
        {
            assertEquals(expectedId(record, 0), record.get("community_id").asText());
            assertEquals(TapNames.ofThisHost(), record.get("tap").asText());
        }
    }

    @Test
    void shouldUseTheSeedAndTapNameGiven() throws Exception
    {
        final List<JsonNode> seeded =
            analyze("analyze", "--no-progress", "--community-id-seed=1", "--tap-name", "dc1-tap.07", SAMPLE);
        final List<JsonNode> unseeded = analyze("analyze", "--no-progress", SAMPLE);
        assertEquals(unseeded.size(), seeded.size());
        for (int i = 0; i < seeded.size(); i++)
        {
            assertEquals(expectedId(seeded.get(i), 1), seeded.get(i).get("community_id").asText());
            assertNotEquals(unseeded.get(i).get("community_id"), seeded.get(i).get("community_id"));
            assertEquals("dc1-tap.07", seeded.get(i).get("tap").asText());
        }
    }

    @Test
    void shouldRefuseABadTapNameOrSeedInOneLine()
    {
        for (final String[] args : List.of(new String[] {"--tap-name", "tap one"},
            new String[] {"--tap-name", "tap\"x"}, new String[] {"--community-id-seed", "65536"},
            new String[] {"--community-id-seed", "-1"}))
        {
            final ByteArrayOutputStream err = new ByteArrayOutputStream();
            final List<String> command = new ArrayList<>(List.of("analyze", "--no-progress"));
            command.addAll(Arrays.asList(args));
            command.add(SAMPLE);
            final int exit;
            try (PrintStream o = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
                 PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
            {
                exit = TrackerCli.run(command.toArray(String[]::new), o, e);
            }
            final String message = err.toString(StandardCharsets.UTF_8);
            assertEquals(ExitCodes.USAGE, exit, message);
            assertTrue(message.contains(args[0]), message);
            assertEquals(1, message.lines().filter(line -> line.contains(args[0])).count(), message);
        }
    }

    private static List<JsonNode> analyze(final String... args) throws IOException
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8))
        {
            exit = TrackerCli.run(args, o, e);
        }
        assertEquals(ExitCodes.OK, exit);
        final List<JsonNode> records = new ArrayList<>();
        for (final String line : out.toString(StandardCharsets.UTF_8).split("\n"))
        {
            records.add(JSON.readTree(line));
        }
        return records;
    }

    /** The spec's algorithm, written out: seed, ordered addresses, 6, 0, ordered ports; SHA-1; base64. */
    private static String expectedId(final JsonNode record, final int seed)
        throws IOException, NoSuchAlgorithmException
    {
        final byte[] a = InetAddress.getByName(record.get("id.orig_h").asText()).getAddress();
        final byte[] b = InetAddress.getByName(record.get("id.resp_h").asText()).getAddress();
        final int aPort = record.get("id.orig_p").asInt();
        final int bPort = record.get("id.resp_p").asInt();
        final int order = Arrays.compareUnsigned(a, b);
        final boolean aFirst = order < 0 || order == 0 && aPort < bPort;
        final ByteBuffer input = ByteBuffer.allocate(2 + 2 * a.length + 2 + 4);
        input.putShort((short)seed).put(aFirst ? a : b).put(aFirst ? b : a).put((byte)6).put((byte)0)
            .putShort((short)(aFirst ? aPort : bPort)).putShort((short)(aFirst ? bPort : aPort));
        return "1:" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(input.array()));
    }
}
