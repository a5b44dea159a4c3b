package dev.flowtracker.core;

import com.sun.management.ThreadMXBean;
import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.tcp.ConnectionTracker;
import dev.flowtracker.core.tcp.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.core.wire.LinkType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The per-packet path (decode a VLAN-tagged TCP segment with options, then account it to its connection) allocates
 * nothing: measured with the JVM's per-thread allocation counter over a million packets after warm-up.
 */
class ZeroAllocationTest
{
    private static final int PACKETS = 1_000_000;
    /** Slack for the measurement itself; a single allocation per packet would be 16+ MB. */
    private static final long ALLOWED_BYTES = 64 * 1024;

    @Test
    void shouldAllocateNothingPerPacketWhenDecodingAndTracking()
    {
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "JVM cannot measure allocation");
        threads.setThreadAllocatedMemoryEnabled(true);
        try (Arena arena = Arena.ofConfined())
        {
            final byte[] frame = vlanTcpFrame();
            final MemorySegment segment = arena.allocate(frame.length);
            MemorySegment.copy(MemorySegment.ofArray(frame), 0, segment, 0, frame.length);
            final PacketDecoder decoder = new PacketDecoder();
            final DecodedPacket packet = new DecodedPacket();
            final ConnectionTracker tracker = new ConnectionTracker(16, c -> { });

            run(decoder, packet, tracker, segment, frame.length, PACKETS); // warm-up: JIT, first connection
            final long threadId = Thread.currentThread().threadId();
            final long before = threads.getThreadAllocatedBytes(threadId);
            final long decoded = run(decoder, packet, tracker, segment, frame.length, PACKETS);
            final long allocated = threads.getThreadAllocatedBytes(threadId) - before;

            assertEquals(PACKETS, decoded);
            assertEquals(1, tracker.activeConnections());
            assertTrue(allocated < ALLOWED_BYTES, "allocated " + allocated + " bytes for " + PACKETS + " packets");
        }
    }

    /**
     * Sixteen connections take turns on a working set of two objects, so every segment writes one connection back to
     * its off-heap record and decodes another: still nothing allocated, in the unbounded and the bounded table.
     */
    @Test
    void shouldAllocateNothingPerPacketWhenEverySegmentMissesTheWorkingSet()
    {
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "JVM cannot measure allocation");
        threads.setThreadAllocatedMemoryEnabled(true);
        for (final FlowLimits limits : new FlowLimits[]{
            FlowLimits.UNBOUNDED.withWorkingSet(2), FlowLimits.builder().maxFlows(64).workingSet(2).build()})
        {
            try (Arena arena = Arena.ofConfined())
            {
                final byte[] frame = vlanTcpFrame();
                final MemorySegment segment = arena.allocate(frame.length);
                MemorySegment.copy(MemorySegment.ofArray(frame), 0, segment, 0, frame.length);
                final DecodedPacket packet = new DecodedPacket();
                assertEquals(DecodeEvent.TCP_SEGMENT,
                    new PacketDecoder().decode(segment, 0, frame.length, frame.length, LinkType.EN10MB, packet));
                final ConnectionTracker tracker = new ConnectionTracker(16, c -> { }, Lifecycle.ZEEK,
                    ZeekOptions.DEFAULTS, limits);

                interleave(packet, tracker, 0, PACKETS); // warm-up: JIT, the connections, the timer queue
                final long missesBefore = tracker.workingSetMisses();
                final long threadId = Thread.currentThread().threadId();
                final long before = threads.getThreadAllocatedBytes(threadId);
                interleave(packet, tracker, PACKETS, PACKETS);
                final long allocated = threads.getThreadAllocatedBytes(threadId) - before;

                assertEquals(16, tracker.activeConnections());
                assertEquals(PACKETS, tracker.workingSetMisses() - missesBefore, "every segment should miss");
                assertTrue(allocated < ALLOWED_BYTES,
                    "allocated " + allocated + " bytes for " + PACKETS + " packets with " + limits);
            }
        }
    }

    private static void interleave(
        final DecodedPacket packet, final ConnectionTracker tracker, final int first, final int count)
    {
        for (int i = first; i < first + count; i++)
        {
            packet.timestampNanos = i * 1000L;
            packet.srcPort = 40000 + (i & 15);
            tracker.onSegment(packet);
        }
    }

    private static long run(
        final PacketDecoder decoder, final DecodedPacket packet, final ConnectionTracker tracker,
        final MemorySegment segment, final int length, final int count)
    {
        long decoded = 0;
        for (int i = 0; i < count; i++)
        {
            packet.timestampNanos = i * 1000L;
            if (decoder.decode(segment, 0, length, length, LinkType.EN10MB, packet) == DecodeEvent.TCP_SEGMENT)
            {
                tracker.onSegment(packet);
                decoded++;
            }
        }
        return decoded;
    }

    /** Ethernet, 802.1Q tag, IPv4, TCP ACK with timestamps and a SACK block, 100 bytes of payload. */
    private static byte[] vlanTcpFrame()
    {
        final int tcpHeader = 20 + 12 + 12;
        final int ipLength = 20 + tcpHeader + 100;
        final ByteBuffer b = ByteBuffer.allocate(18 + ipLength);
        b.put(new byte[12]).putShort((short)0x8100).putShort((short)7).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)ipLength).putInt(0).put((byte)64).put((byte)6)
            .putShort((short)0).putInt(0x0A000001).putInt(0x0A000002);
        b.putShort((short)40000).putShort((short)443).putInt(1000).putInt(2000)
            .put((byte)((tcpHeader / 4) << 4)).put((byte)0x18).putShort((short)512).putInt(0);
        b.put((byte)1).put((byte)1).put((byte)8).put((byte)10).putInt(12345).putInt(67890);
        b.put((byte)1).put((byte)1).put((byte)5).put((byte)10).putInt(3000).putInt(4000);
        return b.array();
    }
}
