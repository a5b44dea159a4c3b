package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.decode.CaptureStats;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.time.Duration;
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
    private static final int UDP_DATAGRAMS = 20;
    private static final int PINGS = 3;

    private static final Path SAMPLE = Path.of("../samples/sample.pcap");

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

    /**
     * Checksums verified, as {@code run} does by default. Both namespaces send over the veth with checksum offload,
     * so every captured segment comes with its checksums not filled in ({@code TP_STATUS_CSUMNOTREADY}), as on any
     * host that captures its own traffic. Those are not verified. The records equal tcpdump's capture analysed
     * with checksums ignored; the same file analysed with them verified calls the segments bad (Zeek's C letter),
     * which is what the live capture would do without the kernel's flag.
     */
    @Test
    void shouldNotVerifyChecksumsTheSendingHostLeftToTheNic() throws Exception
    {
        final Path pcap = temp.resolve("reference.pcap");
        final ZeekOptions verifying = ZeekOptions.builder().ignoreChecksums(false).build();
        final List<String> live;
        final long pending;
        final LiveCapture.Offline reference;
        try (LiveCapture capture = LiveCapture.start(net.server, AfPacketOptions.of(NetnsPair.SERVER_INTERFACE),
                verifying);
             Tcpdump tcpdump = Tcpdump.start(net.server, NetnsPair.SERVER_INTERFACE, pcap);
             TcpPeers.Server server = TcpPeers.Server.start(net, NetnsPair.SERVER_V4, 2_000))
        {
            for (int i = 0; i < 3; i++)
            {
                assertEquals(2_000, TcpPeers.exchange(net, NetnsPair.SERVER_V4, 10_000));
            }
            assertEquals(3, server.served());
            Thread.sleep(200); // the last ACKs
            tcpdump.stop();
            reference = LiveCapture.analyze(pcap);
            final long segments = reference.stats().tcpSegments();
            assertEquals(segments, LiveCapture.awaitCount(capture.source::frames, segments, SETTLE_MILLIS),
                "frames captured");
            pending = capture.source.framesWithChecksumsPending();
            live = capture.finish();
        }
        final List<String> verifiedFromFile = LiveCapture.analyze(pcap, verifying).records();
        boolean badChecksums = false;
        for (final String line : verifiedFromFile)
        {
            badChecksums |= Records.parse(line).get("history").asText().contains("C");
        }
        assertTrue(badChecksums,
            "tcpdump's copy, verified, has bad checksums (so this test can tell): " + verifiedFromFile);
        assertEquals(3, live.size(), String.join("\n", live));
        assertEquals(Map.of("SF", 3), Records.connStates(live));
        Records.assertSameExceptTiming(reference.records(), live, MAX_TIMESTAMP_SKEW_NANOS);
        assertTrue(pending > 0, "the kernel flagged frames whose checksums the NIC was to fill in");
    }

    /**
     * {@code --fanout 2}: two sockets in one kernel-assigned PACKET_FANOUT hash group, each on its own event loop
     * feeding its own pipeline producer. The kernel spreads the 40 connections over both sockets, and together they
     * deliver every frame: the records equal tcpdump's.
     */
    @Test
    void shouldSplitFlowsBetweenFanoutSocketsAndLoseNone() throws Exception
    {
        final Path pcap = temp.resolve("reference.pcap");
        final int connections = 40;
        final List<String> live;
        final LiveCapture.Offline reference;
        final AfPacketOptions options = AfPacketOptions.builder().addInterface(NetnsPair.SERVER_INTERFACE).fanout(2)
            .build();
        try (LiveCapture capture = LiveCapture.start(net.server, options);
             Tcpdump tcpdump = Tcpdump.start(net.server, NetnsPair.SERVER_INTERFACE, pcap);
             TcpPeers.Server server = TcpPeers.Server.start(net, NetnsPair.SERVER_V4, 1_500))
        {
            assertEquals(2, capture.source.deliveryThreads());
            assertEquals(2, capture.pipeline.producers());
            for (int i = 0; i < connections; i++)
            {
                assertEquals(1_500, TcpPeers.exchange(net, NetnsPair.SERVER_V4, 2_000 + i));
            }
            assertEquals(connections, server.served());
            Thread.sleep(200);
            tcpdump.stop();
            reference = LiveCapture.analyze(pcap);
            final long segments = reference.stats().tcpSegments();
            assertEquals(segments, LiveCapture.awaitCount(capture.source::frames, segments, SETTLE_MILLIS));
            // 0 is an id the kernel hands out too (its counter wraps after 65535); -1 would be no group.
            assertTrue(capture.source.fanoutGroup() >= 0, "kernel-assigned fanout group " +
                capture.source.fanoutGroup());
            assertEquals(2, capture.source.sockets());
            final long first = capture.source.frames(0);
            final long second = capture.source.frames(1);
            assertTrue(first > 0 && second > 0, "both sockets captured: " + first + " and " + second);
            assertEquals(segments, first + second);
            assertEquals(capture.source.kernelStats(0).plus(capture.source.kernelStats(1)),
                capture.source.kernelStats(NetnsPair.SERVER_INTERFACE));
            live = capture.finish();
            assertEquals(0, capture.source.drops());
            assertEquals(0, capture.pipeline.ringFullDrops());
        }
        assertEquals(Map.of("SF", connections), Records.connStates(live));
        Records.assertSameExceptTiming(reference.records(), live, MAX_TIMESTAMP_SKEW_NANOS);
    }

    /**
     * The TCP-only filter runs in the kernel: UDP datagrams, the ICMP errors they draw, ICMP echo and IPv6 neighbour
     * discovery never reach the ring (the kernel's packet count is the TCP frames alone) and the decoder sees no
     * frame that is not TCP.
     */
    @Test
    void shouldLetOnlyTcpThroughTheKernelFilter() throws Exception
    {
        final Path pcap = temp.resolve("reference.pcap");
        try (LiveCapture capture = LiveCapture.start(net.server, AfPacketOptions.of(NetnsPair.SERVER_INTERFACE));
             Tcpdump tcpdump = Tcpdump.start(net.server, NetnsPair.SERVER_INTERFACE, pcap);
             TcpPeers.Server server = TcpPeers.Server.start(net, NetnsPair.SERVER_V4, 500))
        {
            mixedTraffic();
            assertEquals(2, server.served());
            tcpdump.stop();
            final LiveCapture.Offline reference = LiveCapture.analyze(pcap);
            final long segments = reference.stats().tcpSegments();
            assertTrue(reference.stats().decodeEvents(DecodeEvent.NON_TCP) >= UDP_DATAGRAMS + PINGS,
                "tcpdump saw the UDP and ICMP: " + reference.stats().decodeEvents(DecodeEvent.NON_TCP));
            assertEquals(segments, LiveCapture.awaitCount(capture.source::frames, segments, SETTLE_MILLIS));
            Thread.sleep(100); // anything else would have arrived by now
            assertEquals(segments, capture.source.frames(), "frames delivered: the TCP ones only");
            assertEquals(segments, capture.source.kernelStats().packets(), "the kernel's count after the filter");
            capture.finish();
            final CaptureStats decoded = capture.pipeline.stats();
            assertEquals(segments, decoded.tcpSegments());
            assertEquals(0, decoded.decodeEvents(DecodeEvent.NON_TCP));
            assertEquals(0, decoded.decodeEvents(DecodeEvent.NON_IP));
        }
    }

    /** {@code --no-filter}: the same mixed traffic all reaches the decoder, which skips what is not TCP. */
    @Test
    void shouldDeliverEveryFrameWithoutTheFilter() throws Exception
    {
        final Path pcap = temp.resolve("reference.pcap");
        final AfPacketOptions options = AfPacketOptions.builder().addInterface(NetnsPair.SERVER_INTERFACE)
            .tcpOnlyFilter(false).build();
        try (LiveCapture capture = LiveCapture.start(net.server, options);
             Tcpdump tcpdump = Tcpdump.start(net.server, NetnsPair.SERVER_INTERFACE, pcap);
             TcpPeers.Server server = TcpPeers.Server.start(net, NetnsPair.SERVER_V4, 500))
        {
            mixedTraffic();
            assertEquals(2, server.served());
            tcpdump.stop();
            final LiveCapture.Offline reference = LiveCapture.analyze(pcap);
            final long frames = reference.stats().frames();
            // Our capture starts before tcpdump and stops after it: it may see a little more background traffic.
            assertTrue(LiveCapture.awaitCount(capture.source::frames, frames, SETTLE_MILLIS) >= frames);
            // Every packet the kernel has counted so far is delivered (with no filter, background frames such as
            // IPv6 neighbour discovery may still arrive, and one may sit in an unfinished block at close).
            final long kernelPackets = capture.source.kernelStats().packets();
            assertTrue(LiveCapture.awaitCount(capture.source::frames, kernelPackets, SETTLE_MILLIS) >= kernelPackets,
                "frames delivered " + capture.source.frames() + " of the kernel's " + kernelPackets);
            final List<String> live = capture.finish();
            final CaptureStats decoded = capture.pipeline.stats();
            assertEquals(reference.stats().tcpSegments(), decoded.tcpSegments());
            assertTrue(decoded.decodeEvents(DecodeEvent.NON_TCP) >= UDP_DATAGRAMS + PINGS,
                "non-TCP frames decoded and skipped: " + decoded.decodeEvents(DecodeEvent.NON_TCP));
            Records.assertSameExceptTiming(reference.records(), live, MAX_TIMESTAMP_SKEW_NANOS);
        }
    }

    /** Two TCP connections, UDP datagrams to a closed port (ICMP errors come back) and ICMP echo. */
    private void mixedTraffic() throws Exception
    {
        assertEquals(500, TcpPeers.exchange(net, NetnsPair.SERVER_V4, 300));
        TcpPeers.udp(net, NetnsPair.SERVER_V4, UDP_DATAGRAMS);
        assertEquals(PINGS, TcpPeers.ping(net, NetnsPair.SERVER_V4, PINGS), "echo replies");
        assertEquals(500, TcpPeers.exchange(net, NetnsPair.SERVER_V4, 300));
        Thread.sleep(200);
    }

    /**
     * VLAN-tagged TCP (the sample capture's frames, each given an 802.1Q tag, sent onto the veth from the client
     * side): the kernel takes the tag off every received frame before packet sockets see it (it is then in
     * {@code tp_vlan_tci}); the ring reader puts it back, so the decoder gets the tagged frame, as in tcpdump's
     * capture (libpcap puts it back too). The records are the sample's own, timing aside.
     */
    @Test
    void shouldPutBackTheVlanTagTheKernelTookOff() throws Exception
    {
        captureInjectedSample(new int[] {0x8100, 100});
    }

    /**
     * QinQ: the kernel takes off only the outer (802.1ad) tag; the inner one stays in the frame, which the TCP-only
     * filter must still pass. The outer tag is put back in front of it.
     */
    @Test
    void shouldPutBackTheOuterTagOfQinQFrames() throws Exception
    {
        captureInjectedSample(new int[] {0x88A8, 100, 0x8100, 200});
    }

    private void captureInjectedSample(final int[] tags) throws Exception
    {
        if (tags.length > 2)
        {
            // Two tags make a full-size frame 4 bytes longer than the veth takes by default.
            NetnsPair.ip("-n", net.client, "link", "set", NetnsPair.CLIENT_INTERFACE, "mtu", "1600");
            NetnsPair.ip("-n", net.server, "link", "set", NetnsPair.SERVER_INTERFACE, "mtu", "1600");
        }
        final List<byte[]> frames = new ArrayList<>();
        for (final byte[] frame : FrameInjector.read(SAMPLE))
        {
            frames.add(FrameInjector.withTags(frame, tags));
        }
        final LiveCapture.Offline sample = LiveCapture.analyze(SAMPLE);
        final Path pcap = temp.resolve("reference.pcap");
        final List<String> live;
        final LiveCapture.Offline reference;
        try (LiveCapture capture = LiveCapture.start(net.server, AfPacketOptions.of(NetnsPair.SERVER_INTERFACE));
             Tcpdump tcpdump = Tcpdump.start(net.server, NetnsPair.SERVER_INTERFACE, pcap))
        {
            FrameInjector.send(net.client, NetnsPair.CLIENT_INTERFACE, frames);
            tcpdump.stop();
            reference = LiveCapture.analyze(pcap);
            final long segments = sample.stats().tcpSegments();
            assertEquals(segments, reference.stats().tcpSegments(), "tcpdump saw every TCP frame sent");
            assertEquals(segments, LiveCapture.awaitCount(capture.source::frames, segments, SETTLE_MILLIS));
            assertEquals(segments, capture.source.vlanTagsRestored(), "every frame had its outer tag put back");
            live = capture.finish();
            assertEquals(segments, capture.pipeline.stats().tcpSegments(), "every frame decoded as TCP");
        }
        assertEquals(sample.records().size(), live.size());
        Records.assertSameExceptTiming(reference.records(), live, MAX_TIMESTAMP_SKEW_NANOS);
        assertEquals(Records.withoutTiming(sample.records()), Records.withoutTiming(live),
            "the sample's records, timing aside");
    }

    /** Deleting the interface under a running capture ends it with a one-line failure; what came before is kept. */
    @Test
    void shouldEndWithAClearFailureWhenTheInterfaceIsRemoved() throws Exception
    {
        try (LiveCapture capture = LiveCapture.start(net.server, AfPacketOptions.of(NetnsPair.SERVER_INTERFACE));
             TcpPeers.Server server = TcpPeers.Server.start(net, NetnsPair.SERVER_V4, 100))
        {
            assertEquals(100, TcpPeers.exchange(net, NetnsPair.SERVER_V4, 100));
            assertEquals(1, server.served());
            Thread.sleep(200);
            NetnsPair.ip("-n", net.server, "link", "del", NetnsPair.SERVER_INTERFACE);
            assertTimeoutPreemptively(Duration.ofSeconds(10), () -> capture.source.awaitEnd());
            assertEquals("AF_PACKET capture on " + NetnsPair.SERVER_INTERFACE + ": the interface was removed",
                capture.source.failure().getMessage());
            final List<String> live = capture.finish();
            assertEquals(Map.of("SF", 1), Records.connStates(live));
        }
    }

    /** An idle capture costs nothing: its event loop sleeps in epoll_wait until the kernel hands over a block. */
    @Test
    void shouldUseNoCpuWhileIdle() throws Exception
    {
        try (LiveCapture capture = LiveCapture.start(net.server, AfPacketOptions.of(NetnsPair.SERVER_INTERFACE)))
        {
            final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            final long loop = threadId("tracker-afpacket-" + NetnsPair.SERVER_INTERFACE);
            Thread.sleep(200); // past start-up
            final long before = threads.getThreadCpuTime(loop);
            Thread.sleep(1_000);
            final long used = threads.getThreadCpuTime(loop) - before;
            assertTrue(used < 20_000_000, "event loop used " + used / 1000 + " us of CPU in an idle second");
            assertEquals(0, capture.source.frames());
        }
    }

    private static long threadId(final String name)
    {
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            if (thread.getName().equals(name))
            {
                return thread.threadId();
            }
        }
        throw new AssertionError("no thread named " + name);
    }
}
