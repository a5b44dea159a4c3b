package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.ingest.source.SourceFrames;
import dev.flowtracker.ingest.source.SourceFrames.Frame;

import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The test sender: what it puts on the wire, and that its limits hold. */
class MirrorReplayTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");

    @Test
    void shouldSendEachFrameInAGeneveDatagramWithTheVniAndOptions() throws Exception
    {
        final List<Frame> frames = SourceFrames.read(SAMPLE);
        try (DatagramChannel receiver = DatagramChannel.open())
        {
            receiver.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            final MirrorReplay.Result result;
            try (MirrorReplay replay = new MirrorReplay(MirrorProtocol.GENEVE,
                (InetSocketAddress)receiver.getLocalAddress(), 77, 1))
            {
                replay.geneveOptionWords(2);
                result = replay.send(SAMPLE, 10, Duration.ofSeconds(10), MirrorReplay.Pacing.unpaced());
            }
            assertEquals(10, result.sent());
            assertFalse(result.complete(), "cut by the frame limit");
            final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.GENEVE);
            final ByteBuffer buffer = ByteBuffer.allocate(MirrorSource.MAX_DATAGRAM);
            for (int i = 0; i < 10; i++)
            {
                buffer.clear();
                receiver.receive(buffer);
                final MemorySegment d = MemorySegment.ofArray(buffer.array());
                assertEquals(MirrorCounter.FRAMES, decapsulator.decode(d, 0, buffer.position()));
                assertEquals(77, decapsulator.vni);
                assertEquals(GeneveHeader.BASE_LENGTH + 8, decapsulator.frameOffset);
                final byte[] inner = new byte[decapsulator.frameLength];
                System.arraycopy(buffer.array(), (int)decapsulator.frameOffset, inner, 0, inner.length);
                assertArrayEquals(frames.get(i).data(), inner, "frame " + i);
            }
        }
    }

    @Test
    void shouldSendAWholeCaptureAndSayItIsComplete() throws Exception
    {
        final int frames = SourceFrames.read(SAMPLE).size();
        try (DatagramChannel receiver = DatagramChannel.open())
        {
            receiver.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (MirrorReplay replay = new MirrorReplay(MirrorProtocol.VXLAN,
                (InetSocketAddress)receiver.getLocalAddress(), 1, 4))
            {
                final MirrorReplay.Result exact = replay.send(SAMPLE, frames, Duration.ofSeconds(10),
                    MirrorReplay.Pacing.rate(100_000));
                assertEquals(frames, exact.sent());
                assertTrue(exact.complete(), "a limit equal to the frame count is no cut");
                assertEquals(0, exact.skipped());
            }
        }
    }

    @Test
    void shouldStopAtTheTimeLimitWhenTheReceiverTakesNothing() throws Exception
    {
        try (DatagramChannel receiver = DatagramChannel.open())
        {
            receiver.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            try (MirrorReplay replay = new MirrorReplay(MirrorProtocol.VXLAN,
                (InetSocketAddress)receiver.getLocalAddress(), 1, 1))
            {
                final long start = System.nanoTime();
                final MirrorReplay.Result result = replay.send(SAMPLE, Long.MAX_VALUE, Duration.ofMillis(300),
                    MirrorReplay.Pacing.window(16, () -> 0));
                final long tookMillis = (System.nanoTime() - start) / 1_000_000;
                assertEquals(16, result.sent(), "the window is full after 16");
                assertFalse(result.complete());
                assertTrue(tookMillis >= 250 && tookMillis < 5_000, "stopped after " + tookMillis + " ms");
            }
        }
    }
}
