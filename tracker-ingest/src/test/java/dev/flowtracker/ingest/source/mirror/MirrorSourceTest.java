package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.SourceException;
import dev.flowtracker.ingest.source.SourceFrames;
import dev.flowtracker.ingest.source.SourceFrames.Frame;
import dev.flowtracker.ingest.source.SourceFrames.PipelineRun;
import dev.flowtracker.ingest.source.SourceFrames.Recorder;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The mirror receiver on real loopback sockets: VNIs keep sessions apart, bad datagrams are counted, drops seen. */
class MirrorSourceTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final long TIMEOUT_MILLIS = 30_000;

    @BeforeEach
    void requireEpoll()
    {
        Assumptions.assumeTrue(MirrorSource.isAvailable(),
            () -> "skipped: no epoll here: " + MirrorSource.unavailabilityCause());
    }

    private static MirrorSource loopbackSource(final MirrorProtocol protocol, final int threads)
    {
        return new MirrorSource(new MirrorOptions(protocol, new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
            .withThreads(threads));
    }

    @Test
    void shouldKeepEqualFourTuplesInDifferentVnisApart() throws Exception
    {
        final int frames = SourceFrames.read(SAMPLE).size();
        final List<String> alone = SourceFrames.analyse(SAMPLE, Lifecycle.ZEEK);
        final MirrorSource source = loopbackSource(MirrorProtocol.VXLAN, 2);
        final PipelineRun pipeline = new PipelineRun(source, Lifecycle.ZEEK);
        final Recorder recorder = new Recorder(false, i -> new FrameSink[] {pipeline.sink(i)});
        try
        {
            source.start(recorder);
            for (final int vni : new int[] {1, 2})
            {
                try (MirrorReplay replay = new MirrorReplay(MirrorProtocol.VXLAN, source.localAddress(), vni, 4))
                {
                    replay.send(SAMPLE, Long.MAX_VALUE, Duration.ofSeconds(20),
                        MirrorReplay.Pacing.window(256, () -> source.counter(MirrorCounter.DATAGRAMS)));
                }
            }
            assertTrue(SourceFrames.await(() -> source.frames() >= 2L * frames, TIMEOUT_MILLIS), "frames arrived");
        }
        finally
        {
            source.close();
        }
        final List<String> records = pipeline.finish();
        final List<String> inVni1 = new ArrayList<>();
        final List<String> inVni2 = new ArrayList<>();
        for (final String record : records)
        {
            if (record.endsWith(",\"vni\":1}}"))
            {
                inVni1.add(record);
            }
            else if (record.endsWith(",\"vni\":2}}"))
            {
                inVni2.add(record);
            }
        }
        assertEquals(2 * alone.size(), records.size(), "every connection once per VNI");
        assertEquals(alone.size(), inVni1.size(), "connections in VNI 1");
        assertEquals(alone.size(), inVni2.size(), "connections in VNI 2");
        assertEquals(VxlanCorpusTest.timeFree(inVni1), VxlanCorpusTest.timeFree(inVni2),
            "the same connections, apart from time and VNI");
    }

    /**
     * One datagram to send, and what the receiver should count for it. An empty datagram counts nothing: Netty's
     * epoll transport reads it and passes nothing on.
     */
    private record Probe(byte[] bytes, MirrorCounter expected)
    {
        static Probe of(final byte[] bytes, final MirrorCounter expected)
        {
            return new Probe(bytes, bytes.length == 0 ? null : expected);
        }
    }

    private static byte[] vxlan(final int flags, final int vni, final int frameLength)
    {
        final byte[] bytes = new byte[VxlanHeader.LENGTH + frameLength];
        final MemorySegment d = MemorySegment.ofArray(bytes);
        VxlanHeader.write(d, 0, vni);
        d.set(ValueLayout.JAVA_BYTE, 0, (byte)flags);
        for (int i = 0; i < frameLength; i++)
        {
            bytes[VxlanHeader.LENGTH + i] = (byte)(i * 7);
        }
        return bytes;
    }

    private static byte[] geneve(final int firstByte, final int flags, final int protocolType, final int frameLength,
        final int optionWords)
    {
        final int header = GeneveHeader.BASE_LENGTH + optionWords * 4;
        final byte[] bytes = new byte[header + frameLength];
        final MemorySegment d = MemorySegment.ofArray(bytes);
        GeneveHeader.write(d, 0, 5, optionWords);
        d.set(ValueLayout.JAVA_BYTE, 0, (byte)firstByte);
        d.set(ValueLayout.JAVA_BYTE, 1, (byte)flags);
        d.set(ValueLayout.JAVA_BYTE, 2, (byte)(protocolType >>> 8));
        d.set(ValueLayout.JAVA_BYTE, 3, (byte)protocolType);
        return bytes;
    }

    @Test
    void shouldCountAndSkipMalformedVxlanDatagramsAndKeepReceiving() throws Exception
    {
        final List<Probe> probes = new ArrayList<>();
        probes.add(Probe.of(new byte[0], null));
        probes.add(Probe.of(new byte[7], MirrorCounter.TOO_SHORT));
        probes.add(Probe.of(vxlan(0x00, 9, 60), MirrorCounter.VXLAN_NO_VNI));
        probes.add(Probe.of(vxlan(0xF7, 9, 60), MirrorCounter.VXLAN_NO_VNI));
        probes.add(Probe.of(vxlan(0x08, 9, 0), MirrorCounter.INNER_FRAME_TOO_SHORT));
        probes.add(Probe.of(vxlan(0x08, 9, 13), MirrorCounter.INNER_FRAME_TOO_SHORT));
        // Longer than the receive buffer: cut, counted, delivered as far as it was read.
        probes.add(Probe.of(vxlan(0x08, 9, MirrorSource.MAX_DATAGRAM + 100), MirrorCounter.FRAMES));
        final Random random = new Random(5);
        final Decapsulator oracle = new Decapsulator(MirrorProtocol.VXLAN);
        for (int i = 0; i < 500; i++)
        {
            final byte[] garbage = new byte[random.nextInt(80)];
            random.nextBytes(garbage);
            probes.add(Probe.of(garbage, oracle.decode(MemorySegment.ofArray(garbage), 0, garbage.length)));
        }
        probes.add(Probe.of(vxlan(0x08, 9, 60), MirrorCounter.FRAMES));
        final Map<MirrorCounter, Long> counted = sendProbes(MirrorProtocol.VXLAN, probes);
        assertEquals(1, counted.get(MirrorCounter.TRUNCATED), "truncated");
    }

    @Test
    void shouldCountAndSkipMalformedGeneveDatagramsAndKeepReceiving() throws Exception
    {
        final List<Probe> probes = new ArrayList<>();
        probes.add(Probe.of(new byte[3], MirrorCounter.TOO_SHORT));
        probes.add(Probe.of(geneve(0x40, 0, 0x6558, 60, 0), MirrorCounter.GENEVE_BAD_VERSION));
        probes.add(Probe.of(geneve(0xC0, 0, 0x6558, 60, 0), MirrorCounter.GENEVE_BAD_VERSION));
        probes.add(Probe.of(geneve(0x3F, 0, 0x6558, 100, 0), MirrorCounter.GENEVE_OPTIONS_TRUNCATED));
        probes.add(Probe.of(geneve(0x02, 0, 0x6558, 0, 2), MirrorCounter.INNER_FRAME_TOO_SHORT));
        probes.add(Probe.of(geneve(0x00, GeneveHeader.CONTROL_FLAG, 0x6558, 60, 0), MirrorCounter.GENEVE_CONTROL));
        probes.add(Probe.of(geneve(0x00, 0, 0x0800, 60, 0), MirrorCounter.GENEVE_NOT_ETHERNET));
        probes.add(Probe.of(geneve(0x00, 0, 0x86DD, 60, 0), MirrorCounter.GENEVE_NOT_ETHERNET));
        probes.add(Probe.of(geneve(0x01, GeneveHeader.CRITICAL_FLAG, 0x6558, 60, 1), MirrorCounter.FRAMES));
        final Random random = new Random(6);
        final Decapsulator oracle = new Decapsulator(MirrorProtocol.GENEVE);
        for (int i = 0; i < 500; i++)
        {
            final byte[] garbage = new byte[random.nextInt(300)];
            random.nextBytes(garbage);
            probes.add(Probe.of(garbage, oracle.decode(MemorySegment.ofArray(garbage), 0, garbage.length)));
        }
        probes.add(Probe.of(geneve(0x00, 0, 0x6558, 60, 0), MirrorCounter.FRAMES));
        sendProbes(MirrorProtocol.GENEVE, probes);
    }

    /**
     * Sends the probes one by one to a fresh receiver and checks each counter moved as expected; the frames
     * delivered must be the probes' inner frames. Returns the counters.
     */
    private static Map<MirrorCounter, Long> sendProbes(final MirrorProtocol protocol, final List<Probe> probes)
        throws Exception
    {
        final Map<MirrorCounter, Long> expected = new EnumMap<>(MirrorCounter.class);
        long counting = 0;
        for (final Probe probe : probes)
        {
            if (probe.expected() != null)
            {
                expected.merge(probe.expected(), 1L, Long::sum);
                counting++;
            }
        }
        final MirrorSource source = loopbackSource(protocol, 1);
        final Recorder recorder = new Recorder();
        final Map<MirrorCounter, Long> counted = new EnumMap<>(MirrorCounter.class);
        try
        {
            source.start(recorder);
            try (DatagramChannel channel = DatagramChannel.open())
            {
                channel.connect(source.localAddress());
                long sent = 0;
                for (final Probe probe : probes)
                {
                    channel.write(ByteBuffer.wrap(probe.bytes()));
                    if (probe.expected() == null)
                    {
                        continue;
                    }
                    final long read = ++sent;
                    // One at a time: nothing can be lost, and the counters are exact.
                    assertTrue(SourceFrames.await(() -> source.counter(MirrorCounter.DATAGRAMS) >= read,
                        TIMEOUT_MILLIS), "datagram " + read + " not read");
                }
            }
            for (final MirrorCounter counter : MirrorCounter.values())
            {
                counted.put(counter, source.counter(counter));
            }
        }
        finally
        {
            source.close();
        }
        assertEquals(counting, counted.get(MirrorCounter.DATAGRAMS), "datagrams");
        long outcomes = 0;
        for (final MirrorCounter counter : MirrorCounter.values())
        {
            if (counter.kind() == MirrorCounter.Kind.MALFORMED || counter.kind() == MirrorCounter.Kind.SKIPPED)
            {
                assertEquals(expected.getOrDefault(counter, 0L), counted.get(counter), counter.label());
                outcomes += counted.get(counter);
            }
        }
        assertEquals(expected.getOrDefault(MirrorCounter.FRAMES, 0L), counted.get(MirrorCounter.FRAMES), "frames");
        assertEquals(counting, outcomes + counted.get(MirrorCounter.FRAMES), "one outcome per datagram");
        assertEquals(0, counted.get(MirrorCounter.READ_ERRORS) + counted.get(MirrorCounter.SINK_ERRORS), "errors");
        // The last probe is a good frame: still received after all the bad ones, intact.
        final List<Frame> delivered = recorder.frames().get(0);
        final byte[] last = probes.get(probes.size() - 1).bytes();
        final int header = protocol == MirrorProtocol.VXLAN ? VxlanHeader.LENGTH : GeneveHeader.BASE_LENGTH;
        final byte[] inner = new byte[last.length - header];
        System.arraycopy(last, header, inner, 0, inner.length);
        assertArrayEquals(inner, delivered.get(delivered.size() - 1).data());
        return counted;
    }

    @Test
    void shouldCountKernelDropsWhenTheReceiveBufferOverflows() throws Exception
    {
        final MirrorSource source = new MirrorSource(new MirrorOptions(MirrorProtocol.VXLAN,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1, MirrorOptions.MIN_RECEIVE_BUFFER_BYTES));
        final CountDownLatch release = new CountDownLatch(1);
        final CountDownLatch holding = new CountDownLatch(1);
        final int sent = 2000;
        try
        {
            // The first frame holds the delivery thread, so the socket's buffer fills and the kernel drops.
            source.start(i -> frame ->
            {
                holding.countDown();
                try
                {
                    release.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                }
            });
            try (DatagramChannel channel = DatagramChannel.open())
            {
                channel.connect(source.localAddress());
                final byte[] datagram = vxlan(0x08, 1, 1400);
                channel.write(ByteBuffer.wrap(datagram));
                assertTrue(holding.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS), "first frame not delivered");
                for (int i = 1; i < sent; i++)
                {
                    channel.write(ByteBuffer.wrap(datagram));
                    if (i % 100 == 0)
                    {
                        Thread.sleep(1); // the loopback device's backlog must not overflow first
                    }
                }
            }
            assertTrue(SourceFrames.await(() -> source.drops() > 0, TIMEOUT_MILLIS), "no drops counted");
            release.countDown();
            assertTrue(SourceFrames.await(() -> source.frames() + source.drops() >= sent, TIMEOUT_MILLIS),
                source.frames() + " delivered + " + source.drops() + " dropped of " + sent);
        }
        finally
        {
            release.countDown();
            source.close();
        }
        System.out.println("MirrorSourceTest: with a " + (MirrorOptions.MIN_RECEIVE_BUFFER_BYTES >> 10) +
            " KiB receive buffer and a stalled thread, " + source.drops() + " of " + sent + " datagrams dropped, " +
            source.frames() + " delivered");
        assertEquals(sent, source.frames() + source.drops(), "each datagram delivered or counted as dropped");
    }

    @Test
    void shouldRefuseAnAddressInUseWithAOneLineMessage() throws Exception
    {
        try (DatagramChannel squatter = DatagramChannel.open())
        {
            squatter.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            final InetSocketAddress taken = (InetSocketAddress)squatter.getLocalAddress();
            final MirrorSource source = new MirrorSource(new MirrorOptions(MirrorProtocol.GENEVE, taken));
            final SourceException e = assertThrows(SourceException.class, () -> source.start(i -> null));
            assertTrue(e.getMessage().startsWith("geneve on 127.0.0.1:" + taken.getPort() + ": cannot listen: the " +
                "port is already served by 127.0.0.1:" + taken.getPort() + " (socket inode "), e.getMessage());
            assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            source.close();
        }
    }

    @Test
    void shouldRefuseASecondListenerOnAServedPortButBindItsOwnSockets() throws Exception
    {
        final MirrorSource first = loopbackSource(MirrorProtocol.VXLAN, 3); // three SO_REUSEPORT sockets of its own
        try
        {
            first.start(i -> frame -> { });
            final InetSocketAddress served = first.localAddress();
            for (final MirrorProtocol protocol : MirrorProtocol.values())
            {
                final MirrorSource second = new MirrorSource(new MirrorOptions(protocol, served));
                final SourceException e = assertThrows(SourceException.class, () -> second.start(i -> null));
                assertTrue(e.getMessage().startsWith(protocol.label() + " on 127.0.0.1:" + served.getPort() +
                    ": cannot listen: the port is already served by 127.0.0.1:" + served.getPort() +
                    " (socket inode "), e.getMessage());
                assertTrue(e.getMessage().contains(", pid " + ProcessHandle.current().pid() + ")"), e.getMessage());
                assertEquals(1, e.getMessage().lines().count(), e.getMessage());
                second.close();
            }
            final MirrorSource wildcard = new MirrorSource(new MirrorOptions(MirrorProtocol.VXLAN,
                new InetSocketAddress(served.getPort())));
            assertThrows(SourceException.class, () -> wildcard.start(i -> null), "0.0.0.0 overlaps 127.0.0.1");
            wildcard.close();
        }
        finally
        {
            first.close();
        }
    }

    @Test
    void shouldTellCompetingAddressesFromTheKernelsSocketTable() throws Exception
    {
        final InetSocketAddress loopback = UdpPortOwners.parseLocal("0100007F:12B5");
        assertEquals(new InetSocketAddress(InetAddress.getLoopbackAddress(), 4789), loopback);
        final InetSocketAddress any6 = UdpPortOwners.parseLocal("00000000000000000000000000000000:12B5");
        assertEquals(new InetSocketAddress(InetAddress.getByName("::"), 4789), any6);
        final InetSocketAddress mapped = UdpPortOwners.parseLocal("0000000000000000FFFF00000100007F:12B5");
        assertTrue(UdpPortOwners.competes(loopback, mapped), "IPv4-mapped IPv6 is the IPv4 address");
        assertTrue(UdpPortOwners.competes(loopback, any6), "a wildcard takes every address");
        assertFalse(UdpPortOwners.competes(loopback, UdpPortOwners.parseLocal("0200007F:12B5")), "127.0.0.2");
        assertFalse(UdpPortOwners.competes(loopback, UdpPortOwners.parseLocal("0100007F:12B6")), "another port");
        assertEquals(null, UdpPortOwners.parseLocal("garbage"));
    }

    @Test
    void shouldSayWhereItListensAndWhatItGranted() throws Exception
    {
        final MirrorSource source = loopbackSource(MirrorProtocol.VXLAN, 2);
        try
        {
            source.start(i -> frame -> { });
            assertEquals("vxlan", source.kind());
            assertTrue(source.live());
            assertEquals(2, source.deliveryThreads());
            assertEquals("vxlan on 127.0.0.1:" + source.localAddress().getPort() + " (2 sockets)",
                source.description());
            assertTrue(source.localAddress().getPort() > 0);
            assertTrue(source.receiveBufferBytes() > 0, "granted receive buffer");
            System.out.println("MirrorSourceTest: asked for " + MirrorOptions.DEFAULT_RECEIVE_BUFFER_BYTES +
                " bytes of receive buffer, the kernel reports " + source.receiveBufferBytes());
        }
        finally
        {
            source.close();
        }
    }

    @Test
    void shouldRefuseToBeClosedFromItsOwnDeliveryThreadAndStillCloseFromOutside() throws Exception
    {
        final MirrorSource source = loopbackSource(MirrorProtocol.VXLAN, 1);
        final MirrorSource[] self = {source};
        try
        {
            source.start(i -> frame -> self[0].close());
            try (DatagramChannel channel = DatagramChannel.open())
            {
                channel.connect(source.localAddress());
                channel.write(ByteBuffer.wrap(vxlan(0x08, 1, 60)));
            }
            assertTrue(SourceFrames.await(() -> source.counter(MirrorCounter.SINK_ERRORS) == 1, TIMEOUT_MILLIS),
                "close() from the delivery thread should have thrown into the sink error counter");
            assertTrue(source.lastError().contains("delivery thread"), source.lastError());
        }
        finally
        {
            source.close();
        }
        assertEquals(1, source.frames());
    }
}
