package dev.flowtracker.bench.capture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.Lifecycle;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * K copies of the sample capture (real kernel traffic, IPv4 and IPv6 connections, ARP and neighbour discovery),
 * checked with our own analysis: K times the connections, each copy's records those of the input but for
 * addresses and times, checksums that our decoder verifies, disjoint address blocks, the same bytes every time.
 */
class CaptureMultiplierTest
{
    private static final int COPIES = 4;

    @TempDir
    static Path dir;
    private static Path output;
    private static CaptureMultiplier.Result result;

    @BeforeAll
    static void multiply() throws IOException
    {
        output = dir.resolve("sample-x4.pcap");
        result = CaptureMultiplier.read(Records.sample()).write(output, COPIES, -1, false);
    }

    @Test
    void shouldWriteEveryFrameOfEveryCopy()
    {
        assertEquals(254, result.inputFrames());
        assertEquals(COPIES * result.inputFrames(), result.outputFrames());
        assertEquals(COPIES * 2L, result.unchangedFrames(), "the sample's 2 ARP frames stay as they are");
    }

    @Test
    void shouldGiveEachCopyTheInputsConnectionsWithTsharksLifecycle() throws IOException
    {
        final List<String> input = withoutAddressesAndTimes(Records.analyse(Records.sample(), Lifecycle.TSHARK));
        final List<String> copies = withoutAddressesAndTimes(Records.analyse(output, Lifecycle.TSHARK));
        assertTrue(input.size() >= 5, "the sample has connections: " + input.size());
        final List<String> expected = new ArrayList<>();
        for (int k = 0; k < COPIES; k++)
        {
            expected.addAll(input);
        }
        Collections.sort(expected);
        assertEquals(expected, copies);
    }

    @Test
    void shouldMultiplyConnectionsByCopiesWithZeeksLifecycle() throws IOException
    {
        final int input = Records.analyse(Records.sample(), Lifecycle.ZEEK).size();
        assertEquals(COPIES * input, Records.analyse(output, Lifecycle.ZEEK).size());
    }

    @Test
    void shouldWriteChecksumsOurDecoderVerifies() throws IOException
    {
        final long[] checked = new long[3];
        Records.forEachPacket(output, (event, p) ->
        {
            if (event == DecodeEvent.TCP_SEGMENT)
            {
                assertEquals(DecodedPacket.CHECKSUM_GOOD, p.tcpChecksum, "TCP checksum of frame at " +
                    p.timestampNanos);
                checked[0]++;
                if (p.ipVersion == 4)
                {
                    assertEquals(DecodedPacket.CHECKSUM_GOOD, p.ipChecksum, "IPv4 checksum");
                    checked[1]++;
                }
                else
                {
                    checked[2]++;
                }
            }
        });
        assertEquals(COPIES * 250L, checked[0], "every TCP segment checked");
        assertTrue(checked[1] > 0 && checked[2] > 0, "IPv4 and IPv6 both checked: " + checked[1] + ", " + checked[2]);
    }

    @Test
    void shouldPutEachCopyInItsOwnAddressBlock() throws IOException
    {
        final List<ObjectNode> input = Records.analyse(Records.sample(), Lifecycle.TSHARK);
        final Map<String, Integer> connectionsPerBlock = new HashMap<>();
        for (final ObjectNode record : Records.analyse(output, Lifecycle.TSHARK))
        {
            final String orig = Records.text(record, "id.orig_h");
            final String resp = Records.text(record, "id.resp_h");
            assertEquals(block(orig), block(resp), "both ends of a connection are in one copy's block");
            connectionsPerBlock.merge(block(orig), 1, Integer::sum);
        }
        final long ipv4 = input.stream().filter(r -> !Records.text(r, "id.orig_h").contains(":")).count();
        final long ipv6 = input.size() - ipv4;
        for (int k = 0; k < COPIES; k++)
        {
            // 2 IPv4 addresses: blocks of 256 from 10.0.0.0; IPv6: fd62:656e:6368:k::/64.
            assertEquals((int)ipv4, connectionsPerBlock.get("10.0." + k), "IPv4 block of copy " + k);
            assertEquals((int)ipv6, connectionsPerBlock.get("fd62:656e:6368:" + (k == 0 ? "" : k + ":")),
                "IPv6 block of copy " + k + " in " + connectionsPerBlock);
        }
        assertEquals(2 * COPIES, connectionsPerBlock.size(), "no other blocks: " + connectionsPerBlock);
    }

    @Test
    void shouldInterleaveCopiesByTimeEachOneStepLater() throws IOException
    {
        final long[] previous = {Long.MIN_VALUE};
        final long[] frame = {0};
        final long[] firstFrame = new long[COPIES];
        final long[] lastFrame = new long[COPIES];
        final long[] firstTime = new long[COPIES];
        Arrays.fill(firstFrame, -1);
        Records.forEachPacket(output, (event, p) ->
        {
            assertTrue(p.timestampNanos >= previous[0], "time never goes back (the sample is in order)");
            previous[0] = p.timestampNanos;
            if (event == DecodeEvent.TCP_SEGMENT && p.ipVersion == 4)
            {
                final int copy = (int)((p.srcLow - 0x0A00_0000L) >>> 8); // blocks of 256 from 10.0.0.0
                if (firstFrame[copy] < 0)
                {
                    firstFrame[copy] = frame[0];
                    firstTime[copy] = p.timestampNanos;
                }
                lastFrame[copy] = frame[0];
            }
            frame[0]++;
        });
        assertTrue(result.stepNanos() > 0);
        for (int k = 1; k < COPIES; k++)
        {
            assertEquals(k * result.stepNanos(), firstTime[k] - firstTime[0], "copy " + k + " starts k steps later");
        }
        assertTrue(firstFrame[COPIES - 1] < lastFrame[0], "the last copy starts before the first one ends");
    }

    @Test
    void shouldWriteTheSameBytesEveryTime() throws IOException
    {
        final Path again = dir.resolve("again.pcap");
        CaptureMultiplier.read(Records.sample()).write(again, COPIES, -1, false);
        assertEquals(-1L, Files.mismatch(output, again));
    }

    /** A record without what differs between copies: addresses (and their community_id), uid, start time. */
    private static List<String> withoutAddressesAndTimes(final List<ObjectNode> records)
    {
        final List<String> stripped = new ArrayList<>();
        for (final ObjectNode record : records)
        {
            record.remove(List.of("ts", "uid", "id.orig_h", "id.resp_h", "community_id"));
            stripped.add(record.toString());
        }
        Collections.sort(stripped);
        return stripped;
    }

    /** 10.0.k for IPv4 (blocks of 256 addresses), the first four groups for IPv6. */
    private static String block(final String address)
    {
        if (address.contains(":"))
        {
            return address.substring(0, address.indexOf("::") + 1);
        }
        return address.substring(0, address.lastIndexOf('.'));
    }
}
