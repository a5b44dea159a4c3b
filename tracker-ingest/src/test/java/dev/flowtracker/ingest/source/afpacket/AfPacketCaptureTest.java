package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * AF_PACKET capture of real TCP between two network namespaces (kernel stack on both ends, a veth pair between),
 * checked against the flow records themselves and against tcpdump's capture of the same traffic run through the
 * offline analysis. Needs root, iproute2 and tcpdump; skipped otherwise.
 */
class AfPacketCaptureTest
{
    /** Two sockets' timestamps of one frame: each is taken as the frame is copied into that socket's ring. */
    private static final long MAX_TIMESTAMP_SKEW_NANOS = 10_000_000;
    /** How long captured frames may take to come out of the ring (block timeout 10 ms; generous for a busy CI). */
    private static final long SETTLE_MILLIS = 10_000;

    @TempDir
    Path temp;
    private NetnsPair net;

    @BeforeEach
    void createNamespaces() throws Exception
    {
        NetnsPair.assumeUsable();
        Tcpdump.assumeInstalled();
        net = NetnsPair.create();
    }

    @AfterEach
    void deleteNamespaces()
    {
        if (net != null)
        {
            net.close();
        }
    }

    @Test
    void shouldWriteTheSameRecordsAsTcpdumpForCompleteAndRefusedConnections() throws Exception
    {
        final Path pcap = temp.resolve("reference.pcap");
        final int[] requests = {100, 5_000, 200_000};
        final int response = 3_000;
        final List<String> live;
        final LiveCapture.Offline reference;
        try (LiveCapture capture = LiveCapture.start(net.server, AfPacketOptions.of(NetnsPair.SERVER_INTERFACE));
             Tcpdump tcpdump = Tcpdump.start(net.server, NetnsPair.SERVER_INTERFACE, pcap);
             TcpPeers.Server server4 = TcpPeers.Server.start(net, NetnsPair.SERVER_V4, response);
             TcpPeers.Server server6 = TcpPeers.Server.start(net, NetnsPair.SERVER_V6, response))
        {
            for (final int request : requests)
            {
                assertEquals(response, TcpPeers.exchange(net, NetnsPair.SERVER_V4, request));
            }
            assertEquals(response, TcpPeers.exchange(net, NetnsPair.SERVER_V6, 1_000));
            assertTrue(TcpPeers.refused(net, NetnsPair.SERVER_V4), "the closed port refused the connection");
            assertEquals(requests.length, server4.served());
            assertEquals(1, server6.served());
            Thread.sleep(200); // the last ACKs
            tcpdump.stop();
            reference = LiveCapture.analyze(pcap);
            final long segments = reference.stats().tcpSegments();
            assertEquals(segments, LiveCapture.awaitCount(capture.source::frames, segments, SETTLE_MILLIS),
                "frames captured (the filter passes TCP only) = TCP segments tcpdump saw");
            live = capture.finish();
            assertEquals(0, capture.source.drops(), "kernel drops");
            assertEquals(0, capture.pipeline.ringFullDrops(), "pipeline ring drops");
            assertEquals(segments, capture.source.kernelStats().packets(), "kernel packet count (TCP only)");
        }
        assertEquals(5, live.size(), String.join("\n", live));
        assertEquals(Map.of("SF", 4, "REJ", 1), Records.connStates(live));
        final List<Long> origBytes = new ArrayList<>();
        for (final String line : live)
        {
            final JsonNode record = Records.parse(line);
            if (record.get("conn_state").asText().equals("SF"))
            {
                assertEquals(response, record.get("resp_bytes").asLong(), line);
                origBytes.add(record.get("orig_bytes").asLong());
            }
        }
        assertEquals(List.of(100L, 1_000L, 5_000L, 200_000L), origBytes.stream().sorted().toList());
        Records.assertSameExceptTiming(reference.records(), live, MAX_TIMESTAMP_SKEW_NANOS);
    }
}
