package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.SourceException;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * What AF_PACKET adds to the shared contract ({@link AfPacketSourceContractTest}): its one-line errors (unknown
 * interface, missing CAP_NET_RAW), the availability probe, that a sink cannot close its own source (it would wait for
 * itself), and that closing releases its own resources (the packet sockets in the namespace, event loop threads,
 * descriptors) while the final kernel statistics stay readable.
 */
class AfPacketSourceTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");

    @Test
    void shouldReportAnUnknownInterfaceWithoutLeavingAnythingOpen() throws Exception
    {
        assumeTrue(System.getProperty("os.name", "").startsWith("Linux"), "Linux only");
        final long descriptors = settledDescriptors();
        final AfPacketSource source = new AfPacketSource(AfPacketOptions.of("ftnosuch0"));
        final SourceException e = assertThrows(SourceException.class, () -> source.start(thread -> noSink()));
        assertEquals("AF_PACKET capture on ftnosuch0: no such network interface (if_nametoindex: No such device " +
            "(errno 19))", e.getMessage());
        assertTimeoutPreemptively(Duration.ofSeconds(5), source::awaitEnd);
        source.close();
        // Nothing of ours left open; another test's event loops may still be closing theirs in the background.
        assertTrue(openDescriptors() <= descriptors, "no descriptor left open");
    }

    @Test
    void shouldSayWhetherCaptureIsAvailableAndWhyNot()
    {
        assertEquals(AfPacket.isAvailable(), AfPacket.unavailabilityCause() == null);
        if (NetnsPair.isRoot() && System.getProperty("os.name", "").startsWith("Linux"))
        {
            assertTrue(AfPacket.isAvailable(), () -> "root on Linux: " + AfPacket.unavailabilityCause().getMessage());
        }
        else if (!AfPacket.isAvailable())
        {
            assertTrue(AfPacket.unavailabilityCause().getMessage().startsWith("AF_PACKET capture "),
                AfPacket.unavailabilityCause().getMessage());
        }
    }

    /** Capabilities belong to a thread on Linux: this one gives up CAP_NET_RAW and then tries to capture. */
    @Test
    void shouldSayThatCaptureNeedsCapNetRaw() throws Exception
    {
        NetnsPair.assumeUsable();
        assumeTrue(AfPacket.isAvailable(), "AF_PACKET unavailable");
        final AtomicReference<Throwable> thrown = new AtomicReference<>();
        final Thread thread = new Thread(() ->
        {
            final AfPacketSource source = new AfPacketSource(AfPacketOptions.of("lo"));
            try
            {
                TestLibc.effectiveCapability(TestLibc.CAP_NET_RAW, false);
                source.start(i -> noSink());
            }
            catch (final Exception e)
            {
                thrown.set(e);
            }
            finally
            {
                source.close();
            }
        }, "without-cap-net-raw");
        thread.start();
        thread.join(10_000);
        final Throwable e = thrown.get();
        assertTrue(e instanceof SourceException, String.valueOf(e));
        assertEquals("AF_PACKET capture on lo needs CAP_NET_RAW (run as root, or grant it: setcap " +
            "cap_net_raw,cap_net_admin+ep on the java binary) (socket: Operation not permitted (errno 1))",
            e.getMessage());
    }

    /**
     * Frames in a block the kernel is still filling when close is called (a large block, a long timeout: nothing
     * would hand it over for half a second) are read before the ring goes, not lost with it.
     */
    @Test
    void shouldReadTheBlockTheKernelIsFillingWhenClosed() throws Exception
    {
        NetnsPair.assumeUsable();
        final List<byte[]> frames = FrameInjector.read(SAMPLE);
        final long tcpFrames = LiveCapture.analyze(SAMPLE).stats().tcpSegments();
        try (NetnsPair net = NetnsPair.create())
        {
            final AfPacketOptions options = AfPacketOptions.builder().addInterface(NetnsPair.SERVER_INTERFACE)
                .blockSize(1 << 22).blockCount(4).blockTimeout(Duration.ofMillis(500)).build();
            final AfPacketSource source = new AfPacketSource(options);
            final AtomicLong delivered = new AtomicLong();
            NetnsPair.call(net.server, 30, () ->
            {
                source.start(thread -> frame -> delivered.incrementAndGet());
                return null;
            });
            try
            {
                FrameInjector.send(net.client, NetnsPair.CLIENT_INTERFACE, frames);
                // The block's timer started with the ring: a very slow machine may already have seen it fire.
                Assumptions.assumeTrue(delivered.get() == 0,
                    "the kernel handed the block over before close was called");
            }
            finally
            {
                source.close(); // also when skipped: an open source would outlive the test
            }
            assertEquals(tcpFrames, delivered.get(), "every frame captured before close");
            assertEquals(tcpFrames, source.kernelStats().packets());
        }
    }

    /**
     * The life cycle on a real interface: frames reach the sink of the right delivery thread; close is idempotent,
     * returns only once no event loop calls a sink again (frames sent after it are not delivered), stops the event
     * loops and releases every descriptor; awaitEnd returns once closed; a source starts once.
     */
    @Test
    void shouldDeliverUntilClosedThenReleaseEverything() throws Exception
    {
        NetnsPair.assumeUsable();
        final List<byte[]> frames = FrameInjector.read(SAMPLE);
        final long tcpFrames = LiveCapture.analyze(SAMPLE).stats().tcpSegments();
        try (NetnsPair net = NetnsPair.create())
        {
            final long descriptors = settledDescriptors();
            final AfPacketOptions options = AfPacketOptions.builder().addInterface(NetnsPair.SERVER_INTERFACE)
                .fanout(2).blockSize(1 << 16).blockCount(8).build();
            final AfPacketSource source = new AfPacketSource(options);
            final AtomicLong delivered = new AtomicLong();
            final AtomicLong wrongThread = new AtomicLong();
            final AtomicReference<Throwable> closeFromLoop = new AtomicReference<>();
            final List<Integer> sinksBuilt = Collections.synchronizedList(new ArrayList<>());
            final Set<ByteBuffer> distinct = ConcurrentHashMap.newKeySet();
            NetnsPair.call(net.server, 30, () ->
            {
                source.start(thread ->
                {
                    sinksBuilt.add(thread);
                    final String expectedThread = "tracker-afpacket-" + NetnsPair.SERVER_INTERFACE + "-" + thread;
                    return frame ->
                    {
                        if (!Thread.currentThread().getName().equals(expectedThread) || frame.interfaceId() != thread)
                        {
                            wrongThread.incrementAndGet();
                        }
                        distinct.add(ByteBuffer.wrap(frame.segment().asSlice(frame.offset(),
                            frame.capturedLength()).toArray(ValueLayout.JAVA_BYTE)));
                        if (delivered.incrementAndGet() == 1)
                        {
                            try
                            {
                                source.close(); // from a delivery thread: refused, as it would wait for itself
                            }
                            catch (final IllegalStateException e)
                            {
                                closeFromLoop.set(e);
                            }
                        }
                    };
                });
                return null;
            });
            assertEquals(List.of(0, 1), sinksBuilt);
            assertEquals(2, packetSockets(net.server).size(), "the namespace's packet sockets: ours");
            assertThrows(IllegalStateException.class, () -> source.start(thread -> noSink()));
            assertEquals(2, source.sockets());
            assertEquals(NetnsPair.SERVER_INTERFACE, source.socketInterface(1));

            final long sent = FrameInjector.send(net.client, NetnsPair.CLIENT_INTERFACE, frames, 1,
                Duration.ofSeconds(30));
            assertEquals(tcpFrames, LiveCapture.awaitCount(delivered::get, tcpFrames, 10_000),
                () -> "frames delivered; " + deliveryReport(source, net, sent, distinct.size()));
            assertEquals(tcpFrames, source.frames());
            assertEquals(0, wrongThread.get(), "each frame on its own socket's thread, with its socket as interface");
            assertTrue(closeFromLoop.get() instanceof IllegalStateException, "close() from a sink refused");
            assertTrue(source.bytes() > 0);

            source.close();
            source.close();
            assertTimeoutPreemptively(Duration.ofSeconds(5), source::awaitEnd);
            assertNull(source.failure());
            FrameInjector.send(net.client, NetnsPair.CLIENT_INTERFACE, frames);
            Thread.sleep(100);
            assertEquals(tcpFrames, delivered.get(), "nothing delivered after close");
            assertEquals(new KernelStats(tcpFrames, 0, 0), source.kernelStats(), "final statistics kept");
            assertEquals(0, source.drops());
            assertTrue(Thread.getAllStackTraces().keySet().stream()
                .noneMatch(t -> t.getName().startsWith("tracker-afpacket-")), "event loop threads ended");
            assertTrue(openDescriptors() <= descriptors, "sockets and event loop descriptors closed");
            assertEquals(List.of(), packetSockets(net.server), "no packet socket left in the namespace");
        }
    }

    /**
     * Where the frames of a wrong count came from, for the failure message (issue 19 item 7: twice, on a loaded
     * machine, every frame of this test came twice; this report then showed both sockets' kernel counts at every
     * frame: two fanout groups, see AfPacketFanoutTest.shouldFormOneGroupWhenItsIdIsZero): frames the injector sent;
     * distinct frames among those delivered; per socket what its ring delivered and what the kernel queued to it
     * (PACKET_STATISTICS); the veth's own packet counters (a frame sent twice shows there, a frame the kernel hands
     * to two sockets does not); the namespace's packet sockets.
     */
    private static String deliveryReport(final AfPacketSource source, final NetnsPair net, final long sent,
        final int distinctFrames)
    {
        final StringBuilder report = new StringBuilder("injector sent " + sent + ", distinct frames delivered " +
            distinctFrames);
        for (int i = 0; i < source.sockets(); i++)
        {
            report.append("; socket ").append(i).append(": ring delivered ").append(source.frames(i))
                .append(", kernel ").append(source.kernelStats(i));
        }
        try
        {
            report.append("; ").append(NetnsPair.ip("-n", net.client, "-s", "link", "show",
                NetnsPair.CLIENT_INTERFACE).strip());
            report.append("; ").append(NetnsPair.ip("-n", net.server, "-s", "link", "show",
                NetnsPair.SERVER_INTERFACE).strip());
            report.append("; /proc/net/packet: ").append(packetSockets(net.server));
        }
        catch (final Exception e)
        {
            report.append("; (").append(e).append(')');
        }
        return report.toString();
    }

    private static FrameSink noSink()
    {
        return frame ->
        {
        };
    }

    /** The lines of /proc/net/packet inside {@code namespace}: one per packet socket open there. */
    private static List<String> packetSockets(final String namespace) throws Exception
    {
        return NetnsPair.call(namespace, 10, () -> NetnsPair.run(List.of(NetnsPair.find("cat"), "/proc/net/packet"))
            .lines().skip(1).toList());
    }

    /**
     * The open descriptor count once it has stopped changing for 200 ms (at most 5 s): event loops of earlier tests
     * close theirs in the background.
     */
    private static long settledDescriptors() throws IOException, InterruptedException
    {
        long previous = openDescriptors();
        for (int i = 0; i < 25; i++)
        {
            Thread.sleep(200);
            final long now = openDescriptors();
            if (now == previous)
            {
                return now;
            }
            previous = now;
        }
        return previous;
    }

    private static long openDescriptors() throws IOException
    {
        try (Stream<Path> descriptors = Files.list(Path.of("/proc/self/fd")))
        {
            return descriptors.count();
        }
    }
}
