package dev.flowtracker.core.flow;

import com.sun.management.ThreadMXBean;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.TestCaptures.Frame;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpInternals;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.zeek.ZeekInternals;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;
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
import java.lang.management.ManagementFactory;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link FlowStateCodec} (which copies the record's bytes) and the state classes' {@code clear()} against a
 * reflective walk of every field the layouts declare, so that a field that does not ride along in a checkpoint or
 * survives {@code clear()} fails here: one field at a time on a new connection, then on the rich states of random
 * conversations and real captures, and finally by stopping a tracker midway, restoring its connections into a new
 * one and checking that every record comes out as from an uninterrupted run.
 */
class FlowStateCodecTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    /** Fields that legitimately differ after a round trip: the tracker's queue entry and the shared options. */
    private static final String[] NOT_ENCODED = {"TcpConnection.scheduledTimerNanos", "ZeekSummary.options"};
    /** A walk that sees fewer fields than this did not walk the tree. */
    private static final int MIN_FIELDS = 100;

    // ================================================================ one field at a time

    @Test
    void shouldCarryEveryFieldThroughTheCodec()
    {
        final List<Slot> slots = Slot.all();
        assertTrue(slots.size() > MIN_FIELDS, () -> "only " + slots.size() + " slots");
        final byte[] fresh = encode(new TcpConnection());
        for (final Slot slot : slots)
        {
            final TcpConnection changed = new TcpConnection();
            slot.change(changed);
            final byte[] bytes = encode(changed);
            if (!slot.path().equals("TcpConnection.scheduledTimerNanos"))
            {
                assertFalse(Arrays.equals(fresh, bytes), () -> slot.path() + " is not encoded");
            }
            final TcpConnection decoded = decode(bytes);
            assertEquals(ZeekSummary.NO_TIMER, decoded.scheduledTimerNanos());
            StateComparison.assertDeepEquals(changed, decoded, slot.path(), NOT_ENCODED);
        }
    }

    @Test
    void shouldClearEveryFieldBackToANewConnection()
    {
        for (final Slot slot : Slot.all())
        {
            final TcpConnection changed = new TcpConnection();
            slot.change(changed);
            // The comparison must see the change, or a clear() that forgot the field would pass unnoticed.
            assertFalse(StateComparison.of(new TcpConnection(), changed).differences.isEmpty(),
                () -> "comparison misses " + slot.path());
            changed.clear();
            StateComparison.assertDeepEquals(new TcpConnection(), changed, slot.path());
        }
    }

    @Test
    void shouldResetARecycledConnectionToExactlyWhatANewOneGets()
    {
        final TcpConnection used = handshaken();
        used.scheduledTimerNanos(42);
        final DecodedPacket p = new DecodedPacket();
        p.resetDecodedFields();
        p.timestampNanos = 7_000_000_000L;
        p.ipVersion = 4;
        p.srcLow = 3;
        p.dstLow = 4;
        p.srcPort = 1234;
        p.dstPort = 443;
        final int hash = FlowHash.of(p);
        used.reset(p, hash, 3, ZeekOptions.DEFAULTS);
        final TcpConnection fresh = new TcpConnection();
        fresh.reset(p, hash, 3, ZeekOptions.DEFAULTS);
        StateComparison.assertDeepEquals(fresh, used, "recycled");
    }

    // ================================================================ random conversations

    /** One segment of a random conversation on one of four 4-tuples; {@code extras} picks tuple, options, faults. */
    record Step(boolean fromClient, int flags, int seqDelta, int ackDelta, int payload, int window, int gapMicros,
        int extras)
    {
    }

    @Provide
    Arbitrary<List<Step>> conversations()
    {
        final Arbitrary<Integer> flags = Arbitraries.of(
            Tcp.SYN, Tcp.SYN | Tcp.ACK, Tcp.ACK, Tcp.ACK | Tcp.PSH, Tcp.FIN | Tcp.ACK, Tcp.RST, Tcp.RST | Tcp.ACK,
            Tcp.SYN | Tcp.FIN, 0, Tcp.FIN | Tcp.RST | Tcp.ACK, Tcp.ACK, Tcp.ACK | Tcp.PSH);
        final Arbitrary<Integer> delta = Arbitraries.frequencyOf(
            Tuple.of(6, Arbitraries.just(0)),
            Tuple.of(6, Arbitraries.integers().between(-3000, 3000)),
            Tuple.of(1, Arbitraries.integers()));
        // Mostly packet spacing; now and then a pause long enough for Zeek's timers.
        final Arbitrary<Integer> gapMicros = Arbitraries.frequencyOf(
            Tuple.of(30, Arbitraries.integers().between(0, 50_000)),
            Tuple.of(1, Arbitraries.integers().between(1_000_000, 400_000_000)));
        final Arbitrary<Step> step = Combinators.combine(
            Arbitraries.of(true, false), flags, delta, delta,
            Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.just(1), Arbitraries.integers().between(0, 1460)),
            Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(0, 65535)),
            gapMicros, Arbitraries.integers())
            .as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(200);
    }

    @Provide
    Arbitrary<ZeekOptions> zeekOptions()
    {
        return Combinators.combine(
            Arbitraries.of(true, false), Arbitraries.of(true, false), Arbitraries.of(0L, 3000L, 10L * 1024 * 1024))
            .as((ignoreChecksums, reportGaps, excessive) -> ZeekOptions.builder()
                .ignoreChecksums(ignoreChecksums)
                .reportGapsForPartial(reportGaps)
                .excessiveDataWithoutAcks(excessive)
                .build());
    }

    @Property(tries = 300)
    void shouldRoundTripAndClearEveryActiveConnectionMidConversation(
        @ForAll("conversations") final List<Step> steps, @ForAll final int clientIsn, @ForAll final int serverIsn,
        @ForAll @IntRange(min = 0, max = 100) final int cutPercent, @ForAll final Lifecycle lifecycle,
        @ForAll("zeekOptions") final ZeekOptions options)
    {
        final List<Frame> frames = conversation(steps, clientIsn, serverIsn);
        final ConnectionTracker tracker = new ConnectionTracker(4, c -> { }, lifecycle, options);
        replay(tracker, frames, 0, frames.size() * cutPercent / 100);
        tracker.forEachActive(FlowStateCodecTest::assertRoundTripAndClear);
    }

    @Property(tries = 300)
    void shouldContinueRestoredConversationsAsIfNeverStopped(
        @ForAll("conversations") final List<Step> steps, @ForAll final int clientIsn, @ForAll final int serverIsn,
        @ForAll @IntRange(min = 0, max = 100) final int cutPercent, @ForAll final Lifecycle lifecycle,
        @ForAll("zeekOptions") final ZeekOptions options)
    {
        final List<Frame> frames = conversation(steps, clientIsn, serverIsn);
        assertContinuesAfterRestore(frames, frames.size() * cutPercent / 100, lifecycle, options, false);
    }

    /** Packets of a conversation; the timestamps only grow. */
    private static List<Frame> conversation(final List<Step> steps, final int clientIsn, final int serverIsn)
    {
        final int[][] nextSeq = new int[4][];
        for (int t = 0; t < nextSeq.length; t++)
        {
            nextSeq[t] = new int[]{clientIsn + t * 0x1000_0000, serverIsn - t * 0x1000_0000};
        }
        final int[] serverPorts = {80, 22, 7000, 443};
        final List<Frame> frames = new ArrayList<>(steps.size());
        long nanos = 1_000_000_000L;
        for (final Step s : steps)
        {
            final int extras = s.extras();
            final int tuple = (extras >>> 24) & 3;
            final int side = s.fromClient() ? 0 : 1;
            nextSeq[tuple][side] += s.seqDelta();
            nanos += s.gapMicros() * 1000L;
            final DecodedPacket p = new DecodedPacket();
            p.resetDecodedFields();
            p.timestampNanos = nanos;
            final long client = 1;
            final long server = 2;
            // Tuple 3 is IPv6, to exercise the high address halves.
            p.ipVersion = tuple == 3 ? 6 : 4;
            final long high = tuple == 3 ? 0x2001_0db8_0000_0000L : 0;
            p.srcHigh = high;
            p.dstHigh = high;
            p.srcLow = s.fromClient() ? client : server;
            p.dstLow = s.fromClient() ? server : client;
            p.srcPort = s.fromClient() ? 40_000 + tuple : serverPorts[tuple];
            p.dstPort = s.fromClient() ? serverPorts[tuple] : 40_000 + tuple;
            p.flags = s.flags();
            p.seq = nextSeq[tuple][side];
            p.ack = nextSeq[tuple][1 - side] + s.ackDelta();
            p.payloadLength = s.payload();
            p.capturedPayloadLength = s.payload();
            p.window = s.window();
            p.tcpHeaderLength = 20;
            p.tcpHeaderComplete = true;
            p.ipLength = 40 + s.payload();
            p.tcpCapturedLength = 20 + s.payload();
            if ((extras & 1) != 0)
            {
                p.mss = 536 + ((extras >>> 1) & 0x3FF);
            }
            p.windowScale = ((extras >>> 11) & 0x1F) - 8; // negative: absent; above 14: clamped by the engine
            p.sackPermitted = (extras & (1 << 16)) != 0;
            p.hasTimestamps = (extras & (1 << 17)) != 0;
            fault(p, (extras >>> 18) & 0x3F);
            frames.add(new Frame(nanos, p));
        }
        return frames;
    }

    /** Now and then one of the faults a capture has: bad checksums, bogus headers, fragments, snaplen. */
    private static void fault(final DecodedPacket p, final int which)
    {
        switch (which)
        {
            case 0 -> p.tcpChecksum = DecodedPacket.CHECKSUM_BAD;
            case 1 -> p.ipChecksum = DecodedPacket.CHECKSUM_BAD;
            case 2 -> p.tcpHeaderComplete = false;
            case 3 ->
            {
                p.tcpHeaderComplete = false;
                p.tcpHeaderLength = 16;
            }
            case 4 -> p.ipFragmented = true;
            case 5 -> p.capturedPayloadLength = p.payloadLength / 2;
            case 6 -> p.ipLengthExceedsFrame = true;
            case 7 -> p.tcpCapturedLength = 12;
            default ->
            {
            }
        }
    }

    // ================================================================ real captures

    @Test
    void shouldContinueTheSampleCaptureFromEveryFrameAsIfNeverStopped()
    {
        final List<Frame> frames = TestCaptures.read(SAMPLE);
        assertTrue(frames.size() > 200, () -> "frames: " + frames.size());
        for (final Lifecycle lifecycle : Lifecycle.values())
        {
            for (int cut = 0; cut <= frames.size(); cut++)
            {
                assertContinuesAfterRestore(frames, cut, lifecycle, ZeekOptions.DEFAULTS, true);
            }
        }
    }

    @Test
    void shouldContinueCorpusCapturesFromTheirMiddleAsIfNeverStopped() throws IOException
    {
        final Path pcaps = TestCaptures.corpus().resolve("pcaps");
        assumeTrue(Files.isDirectory(pcaps), () -> "skipped: no corpus at " + pcaps);
        // Zeek's own TCP traces: small, and full of the odd states (gaps, reuse, resets, partial connections).
        final List<Path> captures;
        try (Stream<Path> files = Files.list(pcaps.resolve("zeek")))
        {
            captures = files
                .filter(f -> f.getFileName().toString().startsWith("tcp__") && TestCaptures.isClassicPcap(f))
                .sorted().toList();
        }
        assertFalse(captures.isEmpty());
        for (final Path capture : captures)
        {
            final List<Frame> frames = TestCaptures.read(capture);
            for (final Lifecycle lifecycle : Lifecycle.values())
            {
                for (final int cut : new int[]{frames.size() / 3, frames.size() / 2, frames.size() * 2 / 3})
                {
                    try
                    {
                        assertContinuesAfterRestore(frames, cut, lifecycle, ZeekOptions.DEFAULTS, true);
                    }
                    catch (final AssertionError ex)
                    {
                        throw new AssertionError(capture + " cut at frame " + cut + ", " + lifecycle, ex);
                    }
                }
            }
        }
    }

    // ================================================================ restore and continue

    /**
     * Runs all frames on one tracker; runs them on a second up to {@code cut}, checkpoints its connections through
     * the codec into a third, a "restarted" tracker, which runs the rest. Both runs must emit the same records.
     */
    private static void assertContinuesAfterRestore(
        final List<Frame> frames, final int cut, final Lifecycle lifecycle, final ZeekOptions options,
        final boolean roundTripActive)
    {
        assertContinuesAfterRestore(frames, cut, lifecycle, options, roundTripActive, FlowLimits.UNBOUNDED);
        // A bounded table of three: slots are recycled and the least recently active evicted, in all three runs.
        assertContinuesAfterRestore(frames, cut, lifecycle, options, roundTripActive,
            FlowLimits.builder().maxFlows(3).emergencyThresholds(100, 100).build());
    }

    private static void assertContinuesAfterRestore(
        final List<Frame> frames, final int cut, final Lifecycle lifecycle, final ZeekOptions options,
        final boolean roundTripActive, final FlowLimits limits)
    {
        final List<byte[]> uninterrupted = new ArrayList<>();
        final ConnectionTracker whole = new ConnectionTracker(4, c -> uninterrupted.add(encode(c)), lifecycle, options,
            limits);
        replay(whole, frames, 0, frames.size());
        whole.finish(EndReason.END_OF_INPUT);

        final List<byte[]> interrupted = new ArrayList<>();
        final ConnectionTracker before = new ConnectionTracker(4, c -> interrupted.add(encode(c)), lifecycle, options,
            limits);
        replay(before, frames, 0, cut);
        final List<byte[]> checkpoint = new ArrayList<>();
        before.forEachActive(c ->
        {
            if (roundTripActive)
            {
                assertRoundTripAndClear(c);
            }
            checkpoint.add(encode(c));
        });
        final ConnectionTracker after = new ConnectionTracker(4, c -> interrupted.add(encode(c)), lifecycle, options,
            limits);
        for (final byte[] bytes : checkpoint)
        {
            after.restore(ByteBuffer.wrap(bytes));
        }
        assertEquals(checkpoint.size(), after.activeConnections());
        replay(after, frames, cut, frames.size());
        after.finish(EndReason.END_OF_INPUT);

        assertSameRecords(uninterrupted, interrupted);
        assertEquals(whole.connectionsCreated(),
            before.connectionsCreated() + after.connectionsCreated() - checkpoint.size());
        assertEquals(whole.connectionsReused(), before.connectionsReused() + after.connectionsReused());
        assertEquals(whole.connectionsTimedOut(), before.connectionsTimedOut() + after.connectionsTimedOut());
        for (final FlowRemoval removal : FlowRemoval.values())
        {
            for (final FlowPhase phase : FlowPhase.values())
            {
                assertEquals(whole.removed(removal, phase),
                    before.removed(removal, phase) + after.removed(removal, phase), removal + " " + phase);
            }
        }
    }

    private static void replay(final ConnectionTracker tracker, final List<Frame> frames, final int from, final int to)
    {
        for (int i = from; i < to; i++)
        {
            final Frame frame = frames.get(i);
            tracker.advanceTime(frame.nanos());
            if (frame.segment() != null)
            {
                tracker.onSegment(frame.segment());
            }
        }
    }

    /**
     * Records are compared as codec snapshots taken when emitted (the listener may not keep the connection):
     * sorted, equal bytes decode to deep-equal connections; unequal ones are decoded to name the fields.
     */
    private static void assertSameRecords(final List<byte[]> expected, final List<byte[]> actual)
    {
        assertEquals(expected.size(), actual.size(), "records");
        expected.sort(Arrays::compare);
        actual.sort(Arrays::compare);
        for (int i = 0; i < expected.size(); i++)
        {
            if (!Arrays.equals(expected.get(i), actual.get(i)))
            {
                final TcpConnection e = decode(expected.get(i));
                StateComparison.assertDeepEquals(e, decode(actual.get(i)), "record of " + describe(e));
                fail("records differ only in bytes the comparison cannot see: " + describe(e));
            }
        }
    }

    private static String describe(final TcpConnection c)
    {
        return TcpInternals.sides(c) + " generation " + c.generation() + " from " + c.firstTimestampNanos();
    }

    /** The live connection survives the codec, and a used copy of it clears back to a new connection. */
    private static void assertRoundTripAndClear(final TcpConnection live)
    {
        final TcpConnection copy = decode(encode(live));
        assertEquals(ZeekSummary.NO_TIMER, copy.scheduledTimerNanos());
        assertNull(copy.zeek.options());
        final int fields = StateComparison.assertDeepEquals(live, copy, describe(live), NOT_ENCODED);
        assertTrue(fields > MIN_FIELDS, () -> "only " + fields + " fields compared");
        copy.clear();
        StateComparison.assertDeepEquals(new TcpConnection(), copy, "cleared " + describe(live));
    }

    // ================================================================ buffers and corrupt input

    @Test
    void shouldWriteExactlyMaxEncodedBytesAtThePositionAndKeepTheByteOrder()
    {
        final TcpConnection connection = handshaken();
        final ByteBuffer buffer = ByteBuffer.allocate(7 + 2 * FlowStateCodec.MAX_ENCODED_BYTES);
        buffer.position(7);
        assertEquals(FlowStateCodec.MAX_ENCODED_BYTES, FlowStateCodec.encode(connection, buffer));
        assertEquals(FlowStateCodec.MAX_ENCODED_BYTES, FlowStateCodec.encode(new TcpConnection(), buffer));
        assertEquals(7 + 2 * FlowStateCodec.MAX_ENCODED_BYTES, buffer.position());
        assertEquals(ByteOrder.BIG_ENDIAN, buffer.order());
        assertEquals(FlowStateCodec.MAGIC, Integer.reverseBytes(buffer.getInt(7)), "little-endian magic");

        buffer.flip().position(7);
        final TcpConnection first = new TcpConnection();
        final TcpConnection second = handshaken();
        FlowStateCodec.decode(buffer, first);
        FlowStateCodec.decode(buffer, second);
        assertFalse(buffer.hasRemaining());
        assertEquals(ByteOrder.BIG_ENDIAN, buffer.order());
        StateComparison.assertDeepEquals(connection, first, "first record", NOT_ENCODED);
        StateComparison.assertDeepEquals(new TcpConnection(), second, "second record");
    }

    @Test
    void shouldRejectABufferTooSmallToEncodeInto()
    {
        final ByteBuffer small = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES - 1);
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> FlowStateCodec.encode(new TcpConnection(), small));
        assertTrue(ex.getMessage().contains("buffer too small"), ex.getMessage());
        assertEquals(0, small.position());
    }

    @Test
    void shouldRejectWrongMagic()
    {
        final byte[] bytes = encode(handshaken());
        bytes[0] ^= 0x20;
        assertRejected(bytes, "magic");
    }

    @Test
    void shouldRejectAnotherFormatVersion()
    {
        final byte[] bytes = encode(handshaken());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
            .putShort(FlowStateCodec.VERSION_OFFSET, (short)(FlowStateCodec.FORMAT_VERSION + 1));
        assertRejected(bytes, "format version " + (FlowStateCodec.FORMAT_VERSION + 1));
    }

    /** A checkpoint of the previous format is refused in one line that names both versions, not misread. */
    @Test
    void shouldRejectACheckpointOfThePreviousFormatVersionInOneLine()
    {
        final byte[] bytes = encode(handshaken());
        final int previous = FlowStateCodec.FORMAT_VERSION - 1;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(FlowStateCodec.VERSION_OFFSET, (short)previous);
        assertRejected(bytes, "unsupported connection state format version " + previous + ", this build reads " +
            FlowStateCodec.FORMAT_VERSION);
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> FlowStateCodec.decode(ByteBuffer.wrap(bytes), new TcpConnection()));
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
    }

    /** A checkpoint of a build that lays the record out otherwise is refused in one line, not misread. */
    @Test
    void shouldRejectACheckpointOfAnotherStateLayoutInOneLine()
    {
        final byte[] bytes = encode(handshaken());
        final int other = TcpConnection.LAYOUT_FINGERPRINT ^ 0x10;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(FlowStateCodec.FINGERPRINT_OFFSET, other);
        assertRejected(bytes, "connection state written by a build with another state layout (fingerprint " +
            Integer.toHexString(other) + ", this build " + Integer.toHexString(TcpConnection.LAYOUT_FINGERPRINT));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> FlowStateCodec.decode(ByteBuffer.wrap(bytes), new TcpConnection()));
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
    }

    @Test
    void shouldRejectABodyLengthOtherThanTheFormats()
    {
        final byte[] bytes = encode(handshaken());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
            .putShort(FlowStateCodec.BODY_LENGTH_OFFSET, (short)(FlowStateCodec.BODY_BYTES - 8));
        assertRejected(bytes, "body length");
    }

    @Test
    void shouldRejectEveryTruncation()
    {
        final byte[] bytes = encode(handshaken());
        for (int length = 0; length < bytes.length; length++)
        {
            assertRejected(Arrays.copyOf(bytes, length), "truncated");
        }
    }

    @Test
    void shouldRejectOutOfRangeEnumsBooleansAndCounts()
    {
        assertRejectedAt(c -> c.endReason(EndReason.FIN), (byte)EndReason.values().length,
            "TcpConnection.endReason");
        assertRejectedAt(c -> c.b.state(TcpState.LISTEN), (byte)TcpState.values().length, "TcpEndpoint.state");
        assertRejectedAt(c -> c.reusedPorts(true), (byte)2, "TcpConnection.reusedPorts");
        assertRejectedAt(c -> ZeekInternals.setStateA(c.zeek, ZeekInternals.SYN_SENT), (byte)(ZeekInternals.RESET + 1),
            "ZeekEndpoint.state");
        assertRejectedAt(c -> ZeekInternals.setBlockCountB(c.zeek, 1), (byte)(ZeekInternals.MAX_BLOCKS + 1),
            "ZeekEndpoint.blockCount");
        assertRejectedAt(c -> ZeekInternals.setOrigB(c.zeek), (byte)-1, "ZeekSummary.orig");
    }

    /** Finds the byte that {@code change} alters, puts {@code bad} there, and expects {@code field} named. */
    private static void assertRejectedAt(
        final Consumer<TcpConnection> change, final byte bad, final String field)
    {
        final byte[] fresh = encode(new TcpConnection());
        final TcpConnection changed = new TcpConnection();
        change.accept(changed);
        final byte[] bytes = encode(changed);
        final int offset = Arrays.mismatch(fresh, bytes);
        assertTrue(offset >= 0, field);
        bytes[offset] = bad;
        assertRejected(bytes, field);
    }

    /** Decoding fails naming the problem, leaves the target cleared and the buffer's position where it was. */
    private static void assertRejected(final byte[] bytes, final String expected)
    {
        final ByteBuffer src = ByteBuffer.wrap(bytes);
        final TcpConnection into = handshaken();
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> FlowStateCodec.decode(src, into));
        assertTrue(ex.getMessage().contains(expected), () -> "'" + ex.getMessage() + "' should say " + expected);
        assertEquals(0, src.position());
        StateComparison.assertDeepEquals(new TcpConnection(), into, "after " + ex.getMessage());
    }

    // ================================================================ allocation

    @Test
    void shouldEncodeDecodeAndClearWithoutAllocating()
    {
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "JVM cannot measure allocation");
        threads.setThreadAllocatedMemoryEnabled(true);
        final TcpConnection connection = handshaken();
        final TcpConnection into = new TcpConnection();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(FlowStateCodec.MAX_ENCODED_BYTES);
        cycle(connection, into, buffer, 20_000); // warm-up
        final long threadId = Thread.currentThread().threadId();
        final long before = threads.getThreadAllocatedBytes(threadId);
        cycle(connection, into, buffer, 50_000);
        final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
        // One allocation per cycle would be 800 KB or more.
        assertTrue(allocated < 64 * 1024, () -> "allocated " + allocated + " bytes for 50,000 cycles");
    }

    private static void cycle(
        final TcpConnection connection, final TcpConnection into, final ByteBuffer buffer, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            buffer.clear();
            FlowStateCodec.encode(connection, buffer);
            buffer.flip();
            FlowStateCodec.decode(buffer, into);
            into.clear();
        }
    }

    // ================================================================ helpers

    private static byte[] encode(final TcpConnection connection)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES);
        final int written = FlowStateCodec.encode(connection, buffer);
        assertEquals(FlowStateCodec.MAX_ENCODED_BYTES, written);
        return buffer.array();
    }

    private static TcpConnection decode(final byte[] bytes)
    {
        final TcpConnection connection = new TcpConnection();
        FlowStateCodec.decode(ByteBuffer.wrap(bytes), connection);
        return connection;
    }

    /** A connection after a handshake and some data, not in any tracker any more. */
    private static TcpConnection handshaken()
    {
        final List<TcpConnection> ended = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(4, ended::add);
        final int[][] packets = {
            {1, Tcp.SYN, 1000, 0, 0}, {0, Tcp.SYN | Tcp.ACK, 5000, 1001, 0}, {1, Tcp.ACK, 1001, 5001, 0},
            {1, Tcp.ACK | Tcp.PSH, 1001, 5001, 100}, {0, Tcp.ACK, 5001, 1101, 0}};
        long nanos = 1_000_000_000L;
        for (final int[] s : packets)
        {
            final DecodedPacket p = new DecodedPacket();
            p.resetDecodedFields();
            p.timestampNanos = nanos += 1_000_000L;
            p.ipVersion = 4;
            p.srcLow = s[0] == 1 ? 1 : 2;
            p.dstLow = s[0] == 1 ? 2 : 1;
            p.srcPort = s[0] == 1 ? 40_000 : 80;
            p.dstPort = s[0] == 1 ? 80 : 40_000;
            p.flags = s[1];
            p.seq = s[2];
            p.ack = s[3];
            p.payloadLength = s[4];
            p.capturedPayloadLength = s[4];
            p.window = 65535;
            p.mss = 1460;
            p.tcpHeaderLength = 20;
            p.tcpHeaderComplete = true;
            p.ipLength = 40 + s[4];
            p.tcpCapturedLength = 20 + s[4];
            tracker.onSegment(p);
        }
        tracker.finish(EndReason.END_OF_INPUT);
        return ended.get(0);
    }

    // ================================================================ reflective walk of the state tree

    /** Whether objects of {@code type} are per-connection state, to be walked field by field. */
    private static boolean isState(final Class<?> type)
    {
        final Package where = type.getPackage();
        return (where == TcpConnection.class.getPackage() || where == ZeekSummary.class.getPackage()) &&
            !type.isEnum() && !type.isInterface() && type != ZeekOptions.class;
    }

    private static final ClassValue<List<Field>> INSTANCE_FIELDS = new ClassValue<>()
    {
        @Override
        protected List<Field> computeValue(final Class<?> type)
        {
            final List<Field> fields = new ArrayList<>();
            for (final Field field : type.getDeclaredFields())
            {
                // A bounded table's slot number is the table's bookkeeping, set by the table, not connection state.
                final boolean tableBookkeeping = type == TcpConnection.class && field.getName().equals("slot");
                if (!Modifier.isStatic(field.getModifiers()) && !field.isSynthetic() && !tableBookkeeping &&
                    !FlyweightFields.isBookkeeping(field))
                {
                    field.setAccessible(true);
                    fields.add(field);
                }
            }
            return List.copyOf(fields);
        }
    };

    private static List<Field> instanceFields(final Class<?> type)
    {
        return INSTANCE_FIELDS.get(type);
    }

    private static Object get(final Field field, final Object owner)
    {
        try
        {
            return field.get(owner);
        }
        catch (final IllegalAccessException ex)
        {
            throw new AssertionError(ex);
        }
    }

    /**
     * Compares two state trees field by field: primitives, enums and strings by equals, arrays element by element,
     * state objects recursively (and their aliasing: {@code orig} must be the same endpoint on both sides), the
     * shared {@link ZeekOptions} by identity. Any other type fails, so that a new kind of field is noticed here.
     */
    static final class StateComparison
    {
        private final Set<String> ignored;
        private final IdentityHashMap<Object, Object> pairs = new IdentityHashMap<>();
        private final IdentityHashMap<Object, Object> reversePairs = new IdentityHashMap<>();
        final List<String> differences = new ArrayList<>();
        int fields;

        private StateComparison(final String... ignored)
        {
            this.ignored = Set.of(ignored);
        }

        static StateComparison of(final Object expected, final Object actual, final String... ignored)
        {
            final StateComparison comparison = new StateComparison(ignored);
            comparison.compare(expected.getClass().getSimpleName(), expected, actual);
            return comparison;
        }

        /** @return the number of fields compared. */
        static int assertDeepEquals(
            final Object expected, final Object actual, final String context, final String... ignored)
        {
            final StateComparison comparison = of(expected, actual, ignored);
            final List<String> differences = comparison.differences;
            if (!differences.isEmpty())
            {
                final List<String> shown = differences.subList(0, Math.min(20, differences.size()));
                fail(context + ": " + differences.size() + " differences:\n  " + String.join("\n  ", shown));
            }
            return comparison.fields;
        }

        private void compare(final String path, final Object x, final Object y)
        {
            if (x == null || y == null)
            {
                if (x != y)
                {
                    differences.add(path + ": " + x + " != " + y);
                }
                return;
            }
            final Class<?> type = x.getClass();
            if (type != y.getClass())
            {
                differences.add(path + ": " + type + " != " + y.getClass());
            }
            else if (type.isArray())
            {
                final int length = Array.getLength(x);
                if (length != Array.getLength(y))
                {
                    differences.add(path + ": length " + length + " != " + Array.getLength(y));
                    return;
                }
                for (int i = 0; i < length; i++)
                {
                    compare(path + "[" + i + "]", Array.get(x, i), Array.get(y, i));
                }
            }
            else if (isState(type))
            {
                compareState(path, x, y);
            }
            else if (type.isEnum() || type == String.class || type == Boolean.class || type == Character.class ||
                (Number.class.isAssignableFrom(type) && type.getPackage() == Long.class.getPackage()))
            {
                if (!x.equals(y))
                {
                    differences.add(path + ": " + x + " != " + y);
                }
            }
            else if (type == ZeekOptions.class)
            {
                if (x != y)
                {
                    differences.add(path + ": different options");
                }
            }
            else
            {
                fail(path + ": no rule for " + type + "; is it per-connection state? teach this walk and the codec");
            }
        }

        private void compareState(final String path, final Object x, final Object y)
        {
            final Object pairedWithX = pairs.get(x);
            final Object pairedWithY = reversePairs.get(y);
            if (pairedWithX != null || pairedWithY != null)
            {
                if (pairedWithX != y || pairedWithY != x)
                {
                    differences.add(path + ": refers to a different object than in the expected tree");
                }
                return;
            }
            pairs.put(x, y);
            reversePairs.put(y, x);
            for (final Field field : instanceFields(x.getClass()))
            {
                final String name = x.getClass().getSimpleName() + "." + field.getName();
                if (ignored.contains(name))
                {
                    continue;
                }
                fields++;
                compare(path + "." + field.getName(), get(field, x), get(field, y));
            }
            if (FlyweightFields.isFlyweight(x.getClass()))
            {
                for (final FlyweightFields.Leaf leaf : FlyweightFields.leaves(x.getClass()))
                {
                    if (!ignored.contains(x.getClass().getSimpleName() + "." + leaf.field()))
                    {
                        fields++;
                        compare(path + "." + leaf.name(), FlyweightFields.read(x, leaf), FlyweightFields.read(y, leaf));
                    }
                }
            }
        }
    }

    /**
     * One leaf of the state tree (a primitive or enum field, or one element of an array field), reached from a
     * {@link TcpConnection} through {@code route}; {@link #change} moves it off its initial value. The
     * originator/responder references count as one leaf whose change swaps them.
     */
    record Slot(String path, List<Field> route, Field field, int index, FlyweightFields.Leaf leaf)
    {
        Slot(final String path, final List<Field> route, final Field field, final int index)
        {
            this(path, route, field, index, null);
        }

        /** The field's name (an array's or a flyweight member's, without the element index). */
        String name()
        {
            return leaf != null ? leaf.field() : field.getName();
        }

        static List<Slot> all()
        {
            final List<Slot> slots = new ArrayList<>();
            collect(new TcpConnection(), "TcpConnection", List.of(), slots);
            return slots;
        }

        private static void collect(final Object owner, final String path, final List<Field> route,
            final List<Slot> slots)
        {
            if (FlyweightFields.isFlyweight(owner.getClass()))
            {
                for (final FlyweightFields.Leaf leaf : FlyweightFields.leaves(owner.getClass()))
                {
                    slots.add(new Slot(path + "." + leaf.name(), route, null, -1, leaf));
                }
            }
            for (final Field field : instanceFields(owner.getClass()))
            {
                final Class<?> type = field.getType();
                final String name = path + "." + field.getName();
                if (type.isPrimitive() || type.isEnum())
                {
                    slots.add(new Slot(name, route, field, -1));
                }
                else if (type.isArray() && type.getComponentType().isPrimitive())
                {
                    final int length = Array.getLength(get(field, owner));
                    for (int i = 0; i < length; i++)
                    {
                        slots.add(new Slot(name + "[" + i + "]", route, field, i));
                    }
                }
                else if (type == ZeekOptions.class)
                {
                    continue; // configuration, shared by every connection
                }
                else if (isState(type) && Modifier.isFinal(field.getModifiers()))
                {
                    final List<Field> next = new ArrayList<>(route);
                    next.add(field);
                    collect(get(field, owner), name, next, slots);
                }
                else if (owner instanceof ZeekSummary && field.getName().equals("orig"))
                {
                    slots.add(new Slot(name + "/resp", route, field, -1));
                }
                else if (!(owner instanceof ZeekSummary && field.getName().equals("resp")))
                {
                    fail(name + ": no rule for " + type + "; teach this walk and the codec");
                }
            }
        }

        void change(final TcpConnection connection)
        {
            Object owner = connection;
            for (final Field step : route)
            {
                owner = get(step, owner);
            }
            if (leaf != null)
            {
                FlyweightFields.change(owner, leaf);
                return;
            }
            try
            {
                if (owner instanceof ZeekSummary zeek && field.getName().equals("orig"))
                {
                    ZeekInternals.swapOrigAndResp(zeek);
                }
                else if (index >= 0)
                {
                    final Object array = field.get(owner);
                    Array.set(array, index, next(Array.get(array, index), field.getType().getComponentType()));
                }
                else
                {
                    field.set(owner, next(field.get(owner), field.getType()));
                }
            }
            catch (final IllegalAccessException ex)
            {
                throw new AssertionError(ex);
            }
        }

        /** A value other than {@code value} that decoding accepts (states, counts and ordinals stay in range). */
        private static Object next(final Object value, final Class<?> type)
        {
            if (type == boolean.class)
            {
                return !(Boolean)value;
            }
            if (type == byte.class)
            {
                return (byte)((Byte)value + 1);
            }
            if (type == int.class)
            {
                return (Integer)value + 1;
            }
            if (type == long.class)
            {
                return (Long)value + 1;
            }
            if (type.isEnum())
            {
                final Object[] constants = type.getEnumConstants();
                return value == null ? constants[0] : constants[(((Enum<?>)value).ordinal() + 1) % constants.length];
            }
            throw new AssertionError("no rule to change a " + type);
        }
    }
}
