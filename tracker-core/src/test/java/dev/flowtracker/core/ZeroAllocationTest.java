package dev.flowtracker.core;

import com.sun.management.ThreadMXBean;
import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
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
     * Sixteen connections take turns, so every segment works on another flow's record than the one before: still
     * nothing allocated, in the unbounded and the bounded table.
     */
    @Test
    void shouldAllocateNothingPerPacketWhenFlowsTakeTurns()
    {
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "JVM cannot measure allocation");
        threads.setThreadAllocatedMemoryEnabled(true);
        for (final FlowLimits limits : new FlowLimits[]{
            FlowLimits.UNBOUNDED, FlowLimits.builder().maxFlows(64).build()})
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
                final long threadId = Thread.currentThread().threadId();
                final long before = threads.getThreadAllocatedBytes(threadId);
                interleave(packet, tracker, PACKETS, PACKETS);
                final long allocated = threads.getThreadAllocatedBytes(threadId) - before;

                assertEquals(16, tracker.activeConnections());
                assertTrue(allocated < ALLOWED_BYTES,
                    "allocated " + allocated + " bytes for " + PACKETS + " packets with " + limits);
            }
        }
    }

    /**
     * Connections come and go: each of 100,000 opens, carries a request and a response and closes (twelve segments),
     * a thousand open at once, every one a new 4-tuple. After warm-up (JIT, and the tables and timer queue grown to
     * the size this churn needs) nothing is allocated per connection either: in the unbounded table (analyze) with
     * Zeek's lifecycle, and in the bounded one (run) with both.
     */
    @Test
    void shouldAllocateNothingPerConnectionWhenConnectionsChurn()
    {
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "JVM cannot measure allocation");
        threads.setThreadAllocatedMemoryEnabled(true);
        final int connections = 100_000;
        for (final Lifecycle lifecycle : Lifecycle.values())
        {
            // tshark's lifecycle ends a connection only when its 4-tuple is reused: without a bound every one stays.
            final FlowLimits[] tables = lifecycle == Lifecycle.ZEEK ?
                new FlowLimits[]{FlowLimits.UNBOUNDED, FlowLimits.builder().maxFlows(4_096).build()} :
                new FlowLimits[]{FlowLimits.builder().maxFlows(4_096).build()};
            for (final FlowLimits limits : tables)
            {
                final long[] ended = new long[1];
                // A listener that lets go of each connection, as the pipeline's do: the unbounded table recycles.
                final ConnectionTracker tracker = new ConnectionTracker(4_096, c -> ended[0]++, lifecycle,
                    ZeekOptions.DEFAULTS, limits, false);
                final DecodedPacket packet = new DecodedPacket();
                churn(packet, tracker, 0, connections); // warm-up: JIT, table growth, timer queue
                churn(packet, tracker, connections, connections);
                final long threadId = Thread.currentThread().threadId();
                final long before = threads.getThreadAllocatedBytes(threadId);
                churn(packet, tracker, 2 * connections, connections);
                final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
                tracker.finish(dev.flowtracker.core.tcp.EndReason.END_OF_INPUT);

                assertEquals(3L * connections, ended[0], lifecycle + " " + limits);
                assertTrue(allocated < ALLOWED_BYTES, "allocated " + allocated + " bytes for " + connections +
                    " connections (" + allocated / connections + " per connection) with " + lifecycle + ", " + limits);
            }
        }
    }

    /**
     * Connections {@code first} to {@code first + count - 1}, twelve segments each; connection n sends its k-th at
     * step n + k * 83, so about a thousand are open at once.
     */
    private static void churn(
        final DecodedPacket packet, final ConnectionTracker tracker, final int first, final int count)
    {
        final int gap = 83;
        for (int step = 0; step < count + 11 * gap; step++)
        {
            for (int k = 11; k >= 0; k--)
            {
                final int n = step - k * gap;
                if (n >= 0 && n < count)
                {
                    segment(packet, first + n, k, (long)(first + step) * 1_000_000L);
                    tracker.onSegment(packet);
                }
            }
        }
    }

    private static void segment(final DecodedPacket packet, final int n, final int k, final long nanos)
    {
        final boolean fromClient = k == 0 || k == 2 || k == 3 || k == 6 || k == 8 || k == 11;
        final int client = 0x0A00_0000 | (n >>> 14);
        final int clientPort = 1024 + (n & 0x3FFF);
        final int cIsn = n * 7919;
        final int sIsn = n * 104729;
        packet.timestampNanos = nanos;
        packet.ipVersion = 4;
        packet.ipLength = 40;
        packet.tcpHeaderLength = 20;
        packet.tcpHeaderComplete = true;
        packet.srcHigh = 0;
        packet.dstHigh = 0;
        packet.srcLow = fromClient ? client : 0x0B00_0001;
        packet.dstLow = fromClient ? 0x0B00_0001 : client;
        packet.srcPort = fromClient ? clientPort : 80;
        packet.dstPort = fromClient ? 80 : clientPort;
        packet.window = 65535;
        packet.payloadLength = 0;
        packet.capturedPayloadLength = 0;
        packet.tcpCapturedLength = 20;
        packet.wireLength = 54;
        packet.capturedLength = 54;
        // seq/ack per step: SYN, SYN+ACK, ACK, request (100), ACK, response (300), ACK, FIN, ACK, FIN, ACK
        switch (k)
        {
            case 0 -> tcp(packet, cIsn, 0, SYN);
            case 1 -> tcp(packet, sIsn, cIsn + 1, SYN | ACK);
            case 2 -> tcp(packet, cIsn + 1, sIsn + 1, ACK);
            case 3 -> data(packet, cIsn + 1, sIsn + 1, 100);
            case 4 -> tcp(packet, sIsn + 1, cIsn + 101, ACK);
            case 5 -> data(packet, sIsn + 1, cIsn + 101, 300);
            case 6 -> tcp(packet, cIsn + 101, sIsn + 301, ACK);
            case 7 -> data(packet, sIsn + 301, cIsn + 101, 200);
            case 8 -> tcp(packet, cIsn + 101, sIsn + 501, ACK | FIN);
            case 9 -> tcp(packet, sIsn + 501, cIsn + 102, ACK);
            case 10 -> tcp(packet, sIsn + 501, cIsn + 102, ACK | FIN);
            default -> tcp(packet, cIsn + 102, sIsn + 502, ACK);
        }
    }

    private static final int FIN = 0x01;
    private static final int SYN = 0x02;
    private static final int PSH = 0x08;
    private static final int ACK = 0x10;

    private static void tcp(final DecodedPacket packet, final int seq, final int ack, final int flags)
    {
        packet.seq = seq;
        packet.ack = ack;
        packet.flags = flags;
    }

    private static void data(final DecodedPacket packet, final int seq, final int ack, final int length)
    {
        tcp(packet, seq, ack, ACK | PSH);
        packet.payloadLength = length;
        packet.capturedPayloadLength = length;
        packet.ipLength = 40 + length;
        packet.tcpCapturedLength = 20 + length;
        packet.wireLength = 14 + packet.ipLength;
        packet.capturedLength = packet.wireLength;
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
