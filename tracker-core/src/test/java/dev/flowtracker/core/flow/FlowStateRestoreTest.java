package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.TestCaptures.Frame;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpInternals;
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
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static dev.flowtracker.core.flow.CodecTestSupport.MIN_FIELDS;
import static dev.flowtracker.core.flow.CodecTestSupport.NOT_ENCODED;
import static dev.flowtracker.core.flow.CodecTestSupport.decode;
import static dev.flowtracker.core.flow.CodecTestSupport.encode;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link FlowStateCodec} on the rich states of random conversations and real captures: every active connection
 * survives the codec and clears back to a new one, and a tracker stopped midway, its connections restored
 * into a new one (unbounded, and a bounded table that recycles and evicts), emits every record as an
 * uninterrupted run does.
 */
class FlowStateRestoreTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");

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
        tracker.forEachActive(FlowStateRestoreTest::assertRoundTripAndClear);
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
}
