package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.TestCaptures.Frame;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntPredicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Flow state read and written in place keeps flows apart: each flow's records and mid-run state are exactly those it
 * has when it is the only flow in the tracker (the same time passing), on random interleavings of a hundred flows
 * and on hundreds of interleaved corpus flows, under both lifecycles; reading a flow for a visit leaves the flow the
 * engine works on as it was; and the heap does not grow with the number of flows.
 */
class InPlaceStateTest
{
    /** Flows of a random interleaving: few enough that Zeek's per-packet timer cap is never reached. */
    private static final int TUPLES = 100;

    // ================================================================ random interleavings

    /** One segment of one of many concurrent conversations. */
    record Step(int tuple, boolean fromClient, int flags, int seqDelta, int ackDelta, int payload, int gapMicros)
    {
    }

    @Provide
    Arbitrary<List<Step>> interleavings()
    {
        final Arbitrary<Integer> flags = Arbitraries.of(
            Tcp.SYN, Tcp.SYN | Tcp.ACK, Tcp.ACK, Tcp.ACK | Tcp.PSH, Tcp.ACK | Tcp.PSH, Tcp.ACK, Tcp.FIN | Tcp.ACK,
            Tcp.RST, Tcp.RST | Tcp.ACK, 0);
        final Arbitrary<Integer> delta = Arbitraries.frequencyOf(
            Tuple.of(8, Arbitraries.just(0)),
            Tuple.of(4, Arbitraries.integers().between(-2000, 2000)),
            Tuple.of(1, Arbitraries.integers()));
        // Mostly packet spacing; now and then a pause long enough for Zeek's timers and the idle timeouts.
        final Arbitrary<Integer> gapMicros = Arbitraries.frequencyOf(
            Tuple.of(60, Arbitraries.integers().between(0, 20_000)),
            Tuple.of(1, Arbitraries.integers().between(1_000_000, 400_000_000)));
        return Combinators.combine(Arbitraries.integers().between(0, TUPLES - 1), Arbitraries.of(true, false), flags,
            delta, delta, Arbitraries.integers().between(0, 1460), gapMicros)
            .as(Step::new).list().ofMinSize(1).ofMaxSize(3000);
    }

    @Property(tries = 60)
    void shouldGiveEachInterleavedFlowTheRecordsItHasAlone(
        @ForAll("interleavings") final List<Step> steps, @ForAll final Lifecycle lifecycle)
    {
        final List<Frame> frames = frames(steps);
        assertEachFlowAsIfAlone(frames, lifecycle, InPlaceStateTest::clientPort);
    }

    private static List<Frame> frames(final List<Step> steps)
    {
        final int[][] nextSeq = new int[TUPLES][];
        final List<Frame> frames = new ArrayList<>(steps.size());
        long nanos = 1_000_000_000L;
        for (final Step s : steps)
        {
            final int tuple = s.tuple();
            if (nextSeq[tuple] == null)
            {
                nextSeq[tuple] = new int[]{tuple * 7919 * 1000, -tuple * 104_729};
            }
            final int side = s.fromClient() ? 0 : 1;
            nextSeq[tuple][side] += s.seqDelta();
            nanos += s.gapMicros() * 1000L;
            final long client = 0x0A00_0000L + tuple % 7;
            final long server = 0xC0A8_0001L;
            final int clientPort = 40_000 + tuple;
            final int serverPort = tuple % 3 == 0 ? 443 : 80;
            final DecodedPacket p = s.fromClient() ?
                Segments.ipv4(nanos, client, clientPort, server, serverPort, s.flags(), nextSeq[tuple][side],
                    nextSeq[tuple][1 - side] + s.ackDelta(), s.payload(), 65535) :
                Segments.ipv4(nanos, server, serverPort, client, clientPort, s.flags(), nextSeq[tuple][side],
                    nextSeq[tuple][1 - side] + s.ackDelta(), s.payload(), 65535);
            frames.add(new Frame(nanos, p));
        }
        return frames;
    }

    // ================================================================ corpus captures

    /**
     * Five copies of a capture of 500 echo connections, interleaved frame by frame (hundreds of flows at once): each
     * copy's flows end with exactly the records the copy has alone.
     */
    @Test
    void shouldGiveHundredsOfInterleavedCorpusFlowsTheRecordsTheyHaveAlone()
    {
        final Path echo = TestCaptures.corpus().resolve("pcaps/zeek/bench__echo-connections.pcap");
        assumeTrue(Files.isRegularFile(echo), () -> "skipped: no " + echo);
        final List<Frame> original = TestCaptures.read(echo);
        final List<Frame> frames = new ArrayList<>(original.size() * 5);
        for (final Frame frame : original)
        {
            for (int copy = 0; copy < 5; copy++)
            {
                DecodedPacket segment = null;
                if (frame.segment() != null)
                {
                    segment = new DecodedPacket();
                    segment.copyFrom(frame.segment());
                    segment.srcLow += (long)copy << 8;
                    segment.dstLow += (long)copy << 8;
                }
                frames.add(new Frame(frame.nanos(), segment));
            }
        }
        for (final Lifecycle lifecycle : Lifecycle.values())
        {
            final int maxActive = assertEachFlowAsIfAlone(frames, lifecycle, p -> (int)(p.srcLow >>> 8 & 0xFF));
            assertTrue(maxActive >= 100, () -> "only " + maxActive + " flows at once");
        }
    }

    // ================================================================ comparison

    /** The 4-tuple of a random interleaving's segment: its client port. */
    private static int clientPort(final DecodedPacket p)
    {
        return p.srcPort >= 40_000 ? p.srcPort : p.dstPort;
    }

    /** Which group (of flows) a segment belongs to. */
    interface Grouping
    {
        int group(DecodedPacket p);
    }

    /**
     * Runs the frames together, then each group's segments alone (every frame's time still passing), and asserts that
     * each group's records and mid-run snapshot are the same both ways.
     *
     * @return the most flows open at once in the run of all frames.
     */
    private static int assertEachFlowAsIfAlone(
        final List<Frame> frames, final Lifecycle lifecycle, final Grouping grouping)
    {
        final Map<Integer, List<byte[]>> together = new TreeMap<>();
        final Map<Integer, List<byte[]>> snapshotTogether = new TreeMap<>();
        final int maxActive = run(frames, lifecycle, grouping, group -> true, together, snapshotTogether);
        assertFalse(together.isEmpty(), "no records");
        for (final int group : together.keySet())
        {
            final Map<Integer, List<byte[]>> alone = new TreeMap<>();
            final Map<Integer, List<byte[]>> snapshotAlone = new TreeMap<>();
            run(frames, lifecycle, grouping, g -> g == group, alone, snapshotAlone);
            // Flows that end at the same moment end in table order, and a visit goes in table order, which other
            // flows change: the same records and states, in any order.
            assertSameRecords(sorted(alone.get(group)), sorted(together.get(group)), "records of " + group);
            assertSameRecords(sorted(snapshotAlone.get(group)), sorted(snapshotTogether.get(group)),
                "mid-run snapshot of " + group);
        }
        return maxActive;
    }

    private static List<byte[]> sorted(final List<byte[]> states)
    {
        return states == null ? List.of() : states.stream().sorted(Arrays::compare).toList();
    }

    private static int run(
        final List<Frame> frames, final Lifecycle lifecycle, final Grouping grouping, final IntPredicate groups,
        final Map<Integer, List<byte[]>> records, final Map<Integer, List<byte[]>> snapshot)
    {
        final ConnectionTracker tracker = new ConnectionTracker(4,
            c -> records.computeIfAbsent(group(c, grouping), g -> new ArrayList<>()).add(encode(c)), lifecycle,
            ZeekOptions.DEFAULTS, FlowLimits.UNBOUNDED, false);
        int maxActive = 0;
        for (int i = 0; i < frames.size(); i++)
        {
            final Frame frame = frames.get(i);
            tracker.advanceTime(frame.nanos());
            if (frame.segment() != null && groups.test(grouping.group(frame.segment())))
            {
                tracker.onSegment(frame.segment());
            }
            maxActive = Math.max(maxActive, tracker.activeConnections());
            if (i == frames.size() / 2)
            {
                tracker.forEachActive(
                    c -> snapshot.computeIfAbsent(group(c, grouping), g -> new ArrayList<>()).add(encode(c)));
            }
        }
        tracker.finish(EndReason.END_OF_INPUT);
        return maxActive;
    }

    /** The group of a connection: that of a segment from its originator. */
    private static int group(final TcpConnection c, final Grouping grouping)
    {
        final DecodedPacket p = new DecodedPacket();
        p.resetDecodedFields();
        p.srcLow = c.originatorAddressLow();
        p.srcPort = c.originatorPort();
        p.dstLow = c.responderAddressLow();
        p.dstPort = c.responderPort();
        return grouping.group(p);
    }

    private static void assertSameRecords(final List<byte[]> expected, final List<byte[]> actual, final String what)
    {
        assertEquals(expected == null ? 0 : expected.size(), actual == null ? 0 : actual.size(), what);
        for (int i = 0; expected != null && i < expected.size(); i++)
        {
            if (!Arrays.equals(expected.get(i), actual.get(i)))
            {
                final TcpConnection e = decode(expected.get(i));
                StateComparison.assertDeepEquals(e, decode(actual.get(i)), what + " " + i);
                fail(what + " " + i + " differs only in bytes the comparison cannot see");
            }
        }
    }

    private static byte[] encode(final TcpConnection connection)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES);
        FlowStateCodec.encode(connection, buffer);
        return buffer.array();
    }

    private static TcpConnection decode(final byte[] bytes)
    {
        final TcpConnection connection = new TcpConnection();
        FlowStateCodec.decode(ByteBuffer.wrap(bytes), connection);
        return connection;
    }

    // ================================================================ the record's directly read fields

    @Test
    void shouldReadIdentityAndOrderFieldsFromTheRecord()
    {
        final DecodedPacket p = Segments.ipv4(7_000_000_123L, 0x0A00_0001L, 40_000, 0x0A00_0002L, 443, Tcp.SYN, 1, 0,
            0, 65535);
        p.ipVersion = 6;
        p.srcHigh = 0x2001_0DB8_0000_0001L;
        p.dstHigh = 0x2001_0DB8_0000_0002L;
        p.tunnelId = 42;
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment record = arena.allocate(8 + TcpConnection.BYTES, 8);
            final TcpConnection connection = new TcpConnection();
            connection.wrap(record, 8);
            connection.reset(p, FlowHash.of(p), 5, ZeekOptions.DEFAULTS);
            assertEquals(7_000_000_123L, TcpConnection.recordFirstTimestampNanos(record, 8));
            assertEquals(5, TcpConnection.recordGeneration(record, 8));
            assertTrue(TcpConnection.recordMatches(record, 8, p));
            final DecodedPacket reply = new DecodedPacket();
            reply.copyFrom(p);
            reply.srcHigh = p.dstHigh;
            reply.srcLow = p.dstLow;
            reply.srcPort = p.dstPort;
            reply.dstHigh = p.srcHigh;
            reply.dstLow = p.srcLow;
            reply.dstPort = p.srcPort;
            assertTrue(TcpConnection.recordMatches(record, 8, reply), "the reverse direction");
            for (int field = 0; field < 5; field++)
            {
                final DecodedPacket other = new DecodedPacket();
                other.copyFrom(p);
                switch (field)
                {
                    case 0 -> other.tunnelId++;
                    case 1 -> other.ipVersion = 4;
                    case 2 -> other.srcHigh++;
                    case 3 -> other.dstLow++;
                    default -> other.srcPort++;
                }
                assertEquals(connection.matches(other), TcpConnection.recordMatches(record, 8, other),
                    "field " + field);
                assertFalse(TcpConnection.recordMatches(record, 8, other), "field " + field);
            }
            assertEquals(0, record.get(ValueLayout.JAVA_LONG, 0), "nothing before the record");
        }
    }

    // ================================================================ flyweights

    /** Two flyweights over one record read the same flow; what one writes the other reads. */
    @Test
    void shouldReadTheSameFlowThroughTwoFlyweights()
    {
        final FlowStateStore store = new FlowStateStore(16, ZeekOptions.DEFAULTS, false);
        final DecodedPacket p = Segments.ipv4(1_000_000_000L, 0x0A00_0001L, 40_000, 0xC0A8_0001L, 443, Tcp.SYN,
            1000, 0, 0, 65535);
        final int first = store.acquire();
        final int second = store.acquire();
        store.bind(second).reset(p, FlowHash.of(p), 2, ZeekOptions.DEFAULTS);
        final TcpConnection bound = store.bind(first);
        bound.reset(p, FlowHash.of(p), 1, ZeekOptions.DEFAULTS);
        bound.onSegment(p, true);
        final TcpConnection visited = store.view(first);
        assertTrue(visited != bound, "a visit has a flyweight of its own");
        assertEquals(1, visited.originator().packets());
        assertEquals(1, visited.generation());
        bound.onSegment(Segments.ipv4(1_000_100_000L, 0xC0A8_0001L, 443, 0x0A00_0001L, 40_000, Tcp.SYN | Tcp.ACK,
            5000, 1001, 0, 65535), false);
        assertEquals(1, visited.responder().packets(), "the visitor reads the record the engine wrote");
        assertEquals(2, store.view(second).generation(), "another flow's record, untouched");
        assertEquals(0, store.view(second).originator().packets());
        assertEquals(1, bound.generation(), "the visit left the bound flow as it was");
        assertEquals(2, bound.a.packets() + bound.b.packets());
    }

    /** A checkpoint or HTTP query visits every flow, each as itself, and the flows go on as before. */
    @Test
    void shouldVisitEveryFlowAsItself()
    {
        final List<Integer> ended = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(16, c -> ended.add(c.originatorPort()),
            Lifecycle.ZEEK, ZeekOptions.DEFAULTS, FlowLimits.builder().maxFlows(64).build());
        final DecodedPacket p = Segments.ipv4(0, 0, 0, 0xC0A8_0001L, 443, Tcp.SYN, 0, 0, 0, 65535);
        for (int flow = 0; flow < 10; flow++)
        {
            openFlow(tracker, p, flow);
        }
        final List<Integer> ports = new ArrayList<>();
        final List<Long> packets = new ArrayList<>();
        tracker.forEachActive(c ->
        {
            ports.add(c.originatorPort());
            packets.add(c.originator().packets() + c.responder().packets());
        });
        assertEquals(10, ports.size());
        assertEquals(10, ports.stream().distinct().count(), "each flow visited once, as itself: " + ports);
        assertEquals(List.of(3L), packets.stream().distinct().toList(), "each flow's own three packets");
        for (int flow = 0; flow < 10; flow++)
        {
            closeFlow(tracker, p, 2_000_000_000L + flow * 10L, 1024 + flow, true);
        }
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(10, ended.size());
    }

    // ================================================================ memory

    /**
     * 200,000 live flows: after a full GC the heap holds what it held at 20,000 flows, give or take a margin a hundred
     * times smaller than one heap object per flow would take.
     */
    @Test
    void shouldKeepTheHeapFlatAsLiveFlowsGrowBounded()
    {
        assertHeapFlat(FlowLimits.builder().maxFlows(250_000).build());
    }

    @Test
    void shouldKeepTheHeapFlatAsLiveFlowsGrowUnbounded()
    {
        assertHeapFlat(FlowLimits.UNBOUNDED);
    }

    private static void assertHeapFlat(final FlowLimits limits)
    {
        final int flows = 200_000;
        final int early = 20_000;
        final ConnectionTracker tracker = new ConnectionTracker(16, c -> { }, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
            limits);
        final DecodedPacket p = Segments.ipv4(0, 0, 0, 0xC0A8_0001L, 443, Tcp.SYN, 0, 0, 0, 65535);
        long heapEarly = 0;
        for (int flow = 0; flow < flows; flow++)
        {
            if (flow == early)
            {
                heapEarly = usedHeapAfterGc();
            }
            openFlow(tracker, p, flow);
        }
        final long heapLate = usedHeapAfterGc();
        assertEquals(flows, tracker.activeConnections());
        // The state went somewhere: off-heap records, at least one per flow.
        assertTrue(tracker.flowTableOffHeapBytes() >= (long)flows * FlowStateStore.BODY_BYTES,
            () -> "off-heap " + tracker.flowTableOffHeapBytes());
        final long grown = heapLate - heapEarly;
        // One object of even 100 bytes per added flow would be 18 MB; the old heap-per-flow design 360 MB.
        assertTrue(grown < 8L << 20,
            () -> "heap grew by " + grown + " bytes from " + early + " to " + flows + " flows");
    }

    /** SYN, SYN+ACK, ACK of flow {@code n}: it stays established, with Zeek timers queued. */
    private static void openFlow(final ConnectionTracker tracker, final DecodedPacket p, final int n)
    {
        final long client = 0x0A00_0000L + (n >>> 14);
        final int clientPort = 1024 + (n & 0x3FFF);
        final long nanos = 1_000_000_000L + n * 1_000L;
        segment(tracker, p, nanos, client, clientPort, 0xC0A8_0001L, 443, Tcp.SYN, 1000, 0);
        segment(tracker, p, nanos + 100, 0xC0A8_0001L, 443, client, clientPort, Tcp.SYN | Tcp.ACK, 5000, 1001);
        segment(tracker, p, nanos + 200, client, clientPort, 0xC0A8_0001L, 443, Tcp.ACK, 1001, 5001);
    }

    /** Closes a flow {@link #openFlow} opened: a FIN each way and the last ACK, or a reset from the client. */
    private static void closeFlow(
        final ConnectionTracker tracker, final DecodedPacket p, final long nanos, final int port, final boolean fin)
    {
        final long client = 0x0A00_0000L;
        if (fin)
        {
            segment(tracker, p, nanos, client, port, 0xC0A8_0001L, 443, Tcp.FIN | Tcp.ACK, 1001, 5001);
            segment(tracker, p, nanos + 1, 0xC0A8_0001L, 443, client, port, Tcp.FIN | Tcp.ACK, 5001, 1002);
            segment(tracker, p, nanos + 2, client, port, 0xC0A8_0001L, 443, Tcp.ACK, 1002, 5002);
        }
        else
        {
            segment(tracker, p, nanos, client, port, 0xC0A8_0001L, 443, Tcp.RST, 1001, 0);
        }
    }

    private static void segment(
        final ConnectionTracker tracker, final DecodedPacket p, final long nanos, final long src, final int srcPort,
        final long dst, final int dstPort, final int flags, final int seq, final int ack)
    {
        p.timestampNanos = nanos;
        p.srcLow = src;
        p.srcPort = srcPort;
        p.dstLow = dst;
        p.dstPort = dstPort;
        p.flags = flags;
        p.seq = seq;
        p.ack = ack;
        tracker.onSegment(p);
    }

    private static long usedHeapAfterGc()
    {
        final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long used = Long.MAX_VALUE;
        // The lowest of a few full collections: a stray allocation between them cannot inflate the reading.
        for (int i = 0; i < 3; i++)
        {
            System.gc();
            used = Math.min(used, memory.getHeapMemoryUsage().getUsed());
        }
        return used;
    }
}
