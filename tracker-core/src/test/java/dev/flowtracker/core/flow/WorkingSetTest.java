package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.TestCaptures.Frame;
import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.tcp.CompactRecord;
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
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.io.IOException;
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
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The working set is invisible in the records: a tracker that runs on a handful of connection objects, writing
 * flows back to their off-heap records and decoding them again on almost every segment, emits exactly what a
 * tracker whose working set holds every flow emits (same records, same order, same counters), on random
 * interleavings of hundreds of flows and on corpus captures; and the heap does not grow with the number of flows.
 */
class WorkingSetTest
{
    /** Larger than any flow count here: no flow ever leaves the working set. */
    private static final int EVERY_FLOW = 1 << 16;

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
        return Combinators.combine(Arbitraries.integers().between(0, 299), Arbitraries.of(true, false), flags, delta,
            delta, Arbitraries.integers().between(0, 1460), gapMicros)
            .as(Step::new).list().ofMinSize(1).ofMaxSize(3000);
    }

    @Property(tries = 60)
    void shouldEmitTheSameRecordsWithATinyWorkingSet(
        @ForAll("interleavings") final List<Step> steps, @ForAll final Lifecycle lifecycle,
        @ForAll @IntRange(min = 1, max = 4) final int workingSet, @ForAll @IntRange(min = 0, max = 2) final int table)
    {
        final List<Frame> frames = frames(steps);
        final FlowLimits limits = switch (table)
        {
            case 0 -> FlowLimits.UNBOUNDED;
            // Small enough to evict and to go into emergency mode, with short timeouts to expire idle flows.
            case 1 -> FlowLimits.builder().maxFlows(64).timeout(FlowPhase.OPENING, 2_000_000_000L)
                .timeout(FlowPhase.CLOSED, 1_000_000_000L).build();
            default -> FlowLimits.builder().maxFlows(1000).build();
        };
        assertSameOutcome(frames, lifecycle, limits, workingSet);
    }

    private static List<Frame> frames(final List<Step> steps)
    {
        final int[][] nextSeq = new int[300][];
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

    @Test
    void shouldEmitTheSameRecordsForCorpusCapturesWithATinyWorkingSet() throws IOException
    {
        final Path pcaps = TestCaptures.corpus().resolve("pcaps");
        assumeTrue(Files.isDirectory(pcaps), () -> "skipped: no corpus at " + pcaps);
        final List<Path> captures;
        try (Stream<Path> files = Files.walk(pcaps))
        {
            captures = files.filter(Files::isRegularFile).filter(f -> size(f) < 1_000_000)
                .filter(TestCaptures::isClassicPcap).sorted().toList();
        }
        assertTrue(captures.size() > 50, () -> "classic captures: " + captures.size());
        for (final Path capture : captures)
        {
            final List<Frame> frames = TestCaptures.read(capture);
            for (final Lifecycle lifecycle : Lifecycle.values())
            {
                try
                {
                    assertSameOutcome(frames, lifecycle, FlowLimits.UNBOUNDED, 2);
                    assertSameOutcome(frames, lifecycle, FlowLimits.builder().maxFlows(8).build(), 3);
                }
                catch (final AssertionError ex)
                {
                    throw new AssertionError(capture + ", " + lifecycle, ex);
                }
            }
        }
    }

    /** Five copies of a capture of 500 echo connections, interleaved frame by frame: hundreds of flows at once. */
    @Test
    void shouldEmitTheSameRecordsForHundredsOfInterleavedCorpusFlows()
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
            final Outcome reference = assertSameOutcome(frames, lifecycle, FlowLimits.UNBOUNDED, 4);
            assertTrue(reference.maxActive() >= 100, () -> "only " + reference.maxActive() + " flows at once");
            assertEquals(0, reference.misses(), "the reference never leaves its working set");
        }
    }

    private static long size(final Path file)
    {
        try
        {
            return Files.size(file);
        }
        catch (final IOException ex)
        {
            return Long.MAX_VALUE;
        }
    }

    // ================================================================ comparison

    /** What a run emitted: every record (codec bytes) in order, a mid-run snapshot, and the counters. */
    record Outcome(List<byte[]> records, List<byte[]> snapshot, List<Long> counters, int maxActive, long misses)
    {
    }

    /** @return the reference run's outcome. */
    private static Outcome assertSameOutcome(
        final List<Frame> frames, final Lifecycle lifecycle, final FlowLimits limits, final int workingSet)
    {
        final Outcome expected = run(frames, lifecycle, limits, EVERY_FLOW);
        final Outcome actual = run(frames, lifecycle, limits, workingSet);
        assertSameRecords(expected.records(), actual.records(), "records");
        assertSameRecords(expected.snapshot(), actual.snapshot(), "mid-run snapshot");
        assertEquals(expected.counters(), actual.counters(), "counters");
        if (expected.maxActive() > workingSet)
        {
            assertTrue(actual.misses() > 0, "the small working set was never missed");
        }
        return expected;
    }

    private static Outcome run(
        final List<Frame> frames, final Lifecycle lifecycle, final FlowLimits limits, final int workingSet)
    {
        final List<byte[]> records = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(4, c -> records.add(encode(c)), lifecycle,
            ZeekOptions.DEFAULTS, limits.withWorkingSet(workingSet));
        final List<byte[]> snapshot = new ArrayList<>();
        int maxActive = 0;
        for (int i = 0; i < frames.size(); i++)
        {
            final Frame frame = frames.get(i);
            tracker.advanceTime(frame.nanos());
            if (frame.segment() != null)
            {
                tracker.onSegment(frame.segment());
            }
            maxActive = Math.max(maxActive, tracker.activeConnections());
            if (i == frames.size() / 2)
            {
                tracker.forEachActive(c -> snapshot.add(encode(c)));
            }
        }
        tracker.finish(EndReason.END_OF_INPUT);
        final List<Long> counters = new ArrayList<>(List.of(tracker.connectionsCreated(), tracker.connectionsReused(),
            tracker.connectionsTimedOut(), tracker.timerCapHits(), tracker.emergencyEntries(),
            (long)tracker.activeConnections()));
        for (final FlowRemoval removal : FlowRemoval.values())
        {
            for (final FlowPhase phase : FlowPhase.values())
            {
                counters.add(tracker.removed(removal, phase));
            }
        }
        return new Outcome(records, snapshot, counters, maxActive, tracker.workingSetMisses());
    }

    private static void assertSameRecords(final List<byte[]> expected, final List<byte[]> actual, final String what)
    {
        assertEquals(expected.size(), actual.size(), what);
        for (int i = 0; i < expected.size(); i++)
        {
            if (!Arrays.equals(expected.get(i), actual.get(i)))
            {
                final TcpConnection e = decode(expected.get(i));
                FlowStateCodecTest.StateComparison.assertDeepEquals(e, decode(actual.get(i)), what + " " + i);
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
    void shouldReadIdentityAndOrderFieldsWhereEncodeWritesThem()
    {
        final DecodedPacket p = Segments.ipv4(7_000_000_123L, 0x0A00_0001L, 40_000, 0x0A00_0002L, 443, Tcp.SYN, 1, 0,
            0, 65535);
        p.ipVersion = 6;
        p.srcHigh = 0x2001_0DB8_0000_0001L;
        p.dstHigh = 0x2001_0DB8_0000_0002L;
        p.tunnelId = 42;
        final TcpConnection connection = new TcpConnection();
        connection.reset(p, FlowHash.of(p), 5, ZeekOptions.DEFAULTS);
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment record = arena.allocate(8 + CompactRecord.BYTES);
            final byte[] encoded = new byte[8 + CompactRecord.BYTES];
            assertTrue(new CompactRecord().encode(connection, new StateBuffer(encoded).position(8)));
            MemorySegment.copy(encoded, 0, record, ValueLayout.JAVA_BYTE, 0, encoded.length);
            assertEquals(7_000_000_123L, CompactRecord.encodedFirstTimestampNanos(record, 8));
            assertEquals(5, CompactRecord.encodedGeneration(record, 8));
            assertTrue(CompactRecord.encodedMatches(record, 8, p));
            final DecodedPacket reply = new DecodedPacket();
            reply.copyFrom(p);
            reply.srcHigh = p.dstHigh;
            reply.srcLow = p.dstLow;
            reply.srcPort = p.dstPort;
            reply.dstHigh = p.srcHigh;
            reply.dstLow = p.srcLow;
            reply.dstPort = p.srcPort;
            assertTrue(CompactRecord.encodedMatches(record, 8, reply), "the reverse direction");
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
                assertEquals(connection.matches(other), CompactRecord.encodedMatches(record, 8, other),
                    "field " + field);
                assertFalse(CompactRecord.encodedMatches(record, 8, other), "field " + field);
            }
        }
    }

    // ================================================================ visits

    /** A checkpoint or HTTP query visits every flow without evicting the ones in the working set. */
    @Test
    void shouldVisitEveryFlowWithoutEvictingTheWorkingSet()
    {
        final ConnectionTracker tracker = new ConnectionTracker(16, c -> { }, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
            FlowLimits.builder().maxFlows(64).workingSet(2).build());
        final DecodedPacket p = Segments.ipv4(0, 0, 0, 0xC0A8_0001L, 443, Tcp.SYN, 0, 0, 0, 65535);
        for (int flow = 0; flow < 10; flow++)
        {
            openFlow(tracker, p, flow);
        }
        final long misses = tracker.workingSetMisses();
        final List<Integer> ports = new ArrayList<>();
        tracker.forEachActive(c -> ports.add(c.originatorPort()));
        assertEquals(10, ports.size());
        assertEquals(10, ports.stream().distinct().count(), "each flow visited once, as itself: " + ports);
        assertEquals(misses, tracker.workingSetMisses(), "a visit is not a miss");

        // Flows 8 and 9 were the last two bound: still bound after the visit.
        segment(tracker, p, 2_000_000_000L, 0x0A00_0000L, 1024 + 9, 0xC0A8_0001L, 443, Tcp.ACK, 1001, 5001);
        segment(tracker, p, 2_000_000_001L, 0x0A00_0000L, 1024 + 8, 0xC0A8_0001L, 443, Tcp.ACK, 1001, 5001);
        assertEquals(misses, tracker.workingSetMisses(), "the visit evicted a flow of the working set");
        segment(tracker, p, 2_000_000_002L, 0x0A00_0000L, 1024, 0xC0A8_0001L, 443, Tcp.ACK, 1001, 5001);
        assertEquals(misses + 1, tracker.workingSetMisses(), "flow 0 is outside the working set");
    }

    /**
     * A flow that has closed (FIN each way, the last one acknowledged) or reset waits only for its timers: it is the
     * first written back when the working set needs room, so a stream of short connections that come, close and
     * linger does not push out the flows still exchanging data.
     */
    @Test
    void shouldEvictClosedFlowsBeforeLiveOnes()
    {
        final ConnectionTracker tracker = new ConnectionTracker(16, c -> { }, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
            FlowLimits.UNBOUNDED.withWorkingSet(4));
        final DecodedPacket p = Segments.ipv4(0, 0, 0, 0xC0A8_0001L, 443, Tcp.SYN, 0, 0, 0, 65535);
        for (int flow = 0; flow < 3; flow++)
        {
            openFlow(tracker, p, flow); // three live flows, and one object to spare
        }
        for (int flow = 3; flow < 39; flow += 3)
        {
            final long misses = tracker.workingSetMisses();
            long nanos = 0;
            for (int shortFlow = flow; shortFlow < flow + 3; shortFlow++) // more than the one spare object
            {
                openFlow(tracker, p, shortFlow);
                nanos = 1_000_000_000L + shortFlow * 1_000L + 300;
                closeFlow(tracker, p, nanos, 1024 + shortFlow, shortFlow % 2 == 0);
            }
            for (int live = 0; live < 3; live++)
            {
                segment(tracker, p, nanos + 10 + live, 0x0A00_0000L, 1024 + live, 0xC0A8_0001L, 443, Tcp.ACK, 1001,
                    5001);
            }
            assertEquals(misses, tracker.workingSetMisses(), "a flow was written back too early, by flows " + flow +
                " to " + (flow + 2));
        }
        assertEquals(39, tracker.activeConnections(), "closed flows stay for their timers");
    }

    /** Ending every flow at the end of input decodes each record once and writes none back. */
    @Test
    void shouldEndEveryFlowWithOneDecodeEach()
    {
        final List<Integer> ended = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(16, c -> ended.add(c.originatorPort()),
            Lifecycle.ZEEK, ZeekOptions.DEFAULTS, FlowLimits.UNBOUNDED.withWorkingSet(4), false);
        final DecodedPacket p = Segments.ipv4(0, 0, 0, 0xC0A8_0001L, 443, Tcp.SYN, 0, 0, 0, 65535);
        for (int flow = 0; flow < 50; flow++)
        {
            openFlow(tracker, p, flow);
        }
        final long misses = tracker.workingSetMisses();
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(50, ended.size());
        assertEquals(ended.stream().sorted().toList(), ended, "oldest first");
        // The four still bound are ended as they are; the 46 others are each decoded once and evict nothing (an
        // evicted flow not yet ended would be written back, then decoded a second time).
        assertEquals(misses + 46, tracker.workingSetMisses());
    }

    // ================================================================ memory

    /**
     * 200,000 live flows on a working set of 1,000: after a full GC the heap holds what it held at 20,000 flows,
     * give or take a margin a hundred times smaller than one heap object per flow would take.
     */
    @Test
    void shouldKeepTheHeapFlatAsLiveFlowsGrowBounded()
    {
        assertHeapFlat(FlowLimits.builder().maxFlows(250_000).workingSet(1_000).build());
    }

    @Test
    void shouldKeepTheHeapFlatAsLiveFlowsGrowUnbounded()
    {
        assertHeapFlat(FlowLimits.UNBOUNDED.withWorkingSet(1_000));
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
        assertEquals(1_000, tracker.workingSetSize());
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
