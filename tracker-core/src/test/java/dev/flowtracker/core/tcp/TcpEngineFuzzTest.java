package dev.flowtracker.core.tcp;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.flowtracker.core.SampleCapture;
import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.flow.FlowStateCodec;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Coverage-guided fuzzing of the TCP engine: a small language turns the input into segments on four connections
 * (three IPv4 4-tuples and one IPv6) fed to a {@link ConnectionTracker} with either lifecycle, bounded to 1-3 flows
 * or not. The engine must never throw, and must keep its books: after every segment the live counters follow the
 * table; every record has valid states and non-negative, consistent counters; at the end every connection created
 * was emitted once, every segment was counted once, the live totals equal the records' totals, and (when the
 * header asks) each open connection's checkpoint encoding decodes to the same state.
 *
 * <p>Input: a {@value #HEADER}-byte header, then {@value #STEP}-byte steps.
 * <pre>
 * header: [0] bit 0 tshark lifecycle, bits 1-2 capacity (0 = unbounded, else that many flows), bit 3 ignore
 *             checksums, bit 4 round-trip the open connections' checkpoints at the end; [1..3] ISN base, bits
 *             8-31 (0xFFFFFF puts the first client's ISN 256 bytes before the wrap; each tuple and side adds
 *             0x800 to 0x3800)
 * step:   [0] bits 0-1 tuple, bit 2 from the responder, bit 3 SYN options (MSS, window scale, SACK permitted),
 *             bit 4 timestamps option, bits 5-7 a quirk (see {@link #quirk})
 *         [1] TCP flags
 *         [2..3] sequence number: signed difference from the sender's next sequence number
 *         [4..5] acknowledgement number: signed difference from the peer's next sequence number
 *         [6..7] payload length   [8..9] window   [12] window scale shift and MSS
 *         [10..11] time: bits 14-15 the unit of bits 0-13 (microseconds, milliseconds, seconds forward;
 *                  3 = milliseconds backwards, or above 0x3FF0 one of {@link #EXTREME_TIMES})
 * </pre>
 * The first segment a side sends starts at its ISN plus the difference.
 */
class TcpEngineFuzzTest
{
    static final int HEADER = 4;
    static final int STEP = 13;
    private static final int TUPLES = 4;
    private static final long START_NANOS = 1_000_000_000L;
    /** Capture clocks can say anything (a pcapng if_tsoffset, a broken clock): the engine must survive them all. */
    static final long[] EXTREME_TIMES = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE, Long.MAX_VALUE - 1_000_000_000L,
        Long.MIN_VALUE + 1_000_000_000L, 1L << 62, -(1L << 62), 4_102_444_800_000_000_000L, START_NANOS,
        253_402_300_799L * 1_000_000_000L / 1000, Long.MAX_VALUE / 2, Integer.MAX_VALUE, 0xFFFF_FFFFL * 1_000_000_000L,
        -START_NANOS};

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "60s")
    void anySegmentSequenceKeepsTheBooks(final byte[] input)
    {
        if (input.length < HEADER)
        {
            return;
        }
        final boolean tshark = (input[0] & 1) != 0;
        final int capacity = (input[0] >>> 1) & 3;
        final boolean ignoreChecksums = (input[0] & 8) != 0;
        final boolean checkpoints = (input[0] & 0x10) != 0;
        final int isnBase = ((input[1] & 0xFF) << 24) | ((input[2] & 0xFF) << 16) | ((input[3] & 0xFF) << 8);

        final Books books = new Books();
        final ZeekOptions options = ZeekOptions.builder().ignoreChecksums(ignoreChecksums).build();
        final FlowLimits limits =
            capacity == 0 ? FlowLimits.UNBOUNDED : FlowLimits.builder().maxFlows(capacity).build();
        final ConnectionTracker tracker = new ConnectionTracker(4, books::onRecord,
            tshark ? Lifecycle.TSHARK : Lifecycle.ZEEK, options, limits);
        final List<Long> rtts = new ArrayList<>();
        tracker.onHandshakeRtt(rtts::add);

        final int[][] next = new int[TUPLES][2];
        final boolean[][] sent = new boolean[TUPLES][2];
        final int[][] lastTsVal = new int[TUPLES][2];
        long nanos = START_NANOS;
        long segments = 0;
        final DecodedPacket p = new DecodedPacket();
        for (int at = HEADER; at + STEP <= input.length; at += STEP)
        {
            final int control = input[at] & 0xFF;
            final int tuple = control & 3;
            final int side = (control >>> 2) & 1;
            final int flags = input[at + 1] & 0xFF;
            final int payload = u16(input, at + 6);
            final long before = nanos;
            nanos = advance(nanos, u16(input, at + 10));
            // Capture time may run backwards (and tshark's RTTs with it); only a forward clock promises RTTs >= 0.
            books.clockMonotonic &= nanos >= before;
            final int seq = (sent[tuple][side] ? next[tuple][side] : isn(isnBase, tuple, side)) + s16(input, at + 2);
            final int peer = 1 - side;
            final int peerNext = sent[tuple][peer] ? next[tuple][peer] : isn(isnBase, tuple, peer) + 1;
            final int ack = peerNext + s16(input, at + 4);

            p.resetDecodedFields();
            p.timestampNanos = nanos;
            p.frameNumber = segments + 1;
            address(p, tuple, side);
            p.flags = flags;
            p.seq = seq;
            p.ack = ack;
            p.window = u16(input, at + 8);
            p.tcpHeaderLength = Tcp.MIN_HEADER_LENGTH;
            p.tcpHeaderComplete = true;
            p.payloadLength = payload;
            p.capturedPayloadLength = payload;
            if ((control & 0x08) != 0)
            {
                p.mss = 536 + (input[at + 12] & 0xFF) * 8;
                p.windowScale = input[at + 12] & 0x1F;
                p.sackPermitted = true;
                p.tcpHeaderLength += 12;
            }
            if ((control & 0x10) != 0)
            {
                p.hasTimestamps = true;
                p.tsVal = (int)(nanos / 1_000_000);
                p.tsEcr = lastTsVal[tuple][peer];
                lastTsVal[tuple][side] = p.tsVal;
                p.tcpHeaderLength += 12;
            }
            quirk(p, control >>> 5);
            p.ipLength = (p.ipVersion == 4 ? 20 : 40) + p.tcpHeaderLength + p.payloadLength;
            p.tcpCapturedLength = Math.min(p.tcpCapturedLength == 0 ? Integer.MAX_VALUE : p.tcpCapturedLength,
                p.tcpHeaderLength + p.capturedPayloadLength);
            p.wireLength = p.ipLength;
            p.capturedLength = p.ipLength;

            tracker.onSegment(p);
            segments++;
            sent[tuple][side] = true;
            next[tuple][side] =
                seq + p.payloadLength + ((flags & Tcp.SYN) != 0 ? 1 : 0) + ((flags & Tcp.FIN) != 0 ? 1 : 0);
            books.checkLive(tracker, capacity);
        }

        if (checkpoints)
        {
            roundTripCheckpoints(tracker);
        }
        tracker.finish(EndReason.END_OF_INPUT);
        books.checkEnd(tracker, segments, rtts);
    }

    /** Quirks real captures have: bad checksums, bogus headers, fragments, snaplen, lying IP lengths. */
    private static void quirk(final DecodedPacket p, final int quirk)
    {
        switch (quirk)
        {
            case 1 -> p.tcpChecksum = DecodedPacket.CHECKSUM_BAD;
            case 2 -> p.ipChecksum = DecodedPacket.CHECKSUM_BAD;
            case 3 ->
            {
                // Data offset below 5: tracked for identity only.
                p.tcpHeaderLength = 16;
                p.tcpHeaderComplete = false;
                p.warning = DecodeEvent.TCP_DATA_OFFSET_TOO_SMALL;
                p.payloadLength = 0;
                p.capturedPayloadLength = 0;
            }
            case 4 ->
            {
                // Header longer than the IP payload.
                p.tcpHeaderLength = 60;
                p.tcpHeaderComplete = false;
                p.warning = DecodeEvent.TCP_SHORT_SEGMENT;
                p.payloadLength = 0;
                p.capturedPayloadLength = 0;
                p.tcpCapturedLength = 24;
            }
            case 5 -> p.ipFragmented = true;
            case 6 ->
            {
                // Snaplen cut the payload (and perhaps the options).
                p.capturedPayloadLength = p.payloadLength / 3;
                p.tcpCapturedLength = Math.max(16, p.tcpHeaderLength - 4);
                p.warning = DecodeEvent.TCP_HEADER_CUT_BY_SNAPLEN;
            }
            case 7 ->
            {
                p.ipLengthExceedsFrame = true;
                p.payloadBeyondLinkLength = p.payloadLength / 2;
                p.warning = DecodeEvent.IP_LENGTH_EXCEEDS_FRAME;
            }
            default ->
            {
            }
        }
    }

    private static long advance(final long nanos, final int time)
    {
        final int value = time & 0x3FFF;
        return switch (time >>> 14)
        {
            case 0 -> nanos + value * 1_000L;
            case 1 -> nanos + value * 1_000_000L;
            case 2 -> nanos + value * 1_000_000_000L;
            default -> value >= 0x3FF0 ? EXTREME_TIMES[value - 0x3FF0] : nanos - value * 1_000_000L;
        };
    }

    static int isn(final int base, final int tuple, final int side)
    {
        return base + tuple * 0x1000 + side * 0x800;
    }

    /** Client 10.0.0.1 (or 2001:db8::1) to server 192.0.2.7 (or 2001:db8::7) port 443; tuples differ by port. */
    private static void address(final DecodedPacket p, final int tuple, final int side)
    {
        final boolean v6 = tuple == 3;
        final long clientLow = v6 ? 1 : 0x0A00_0001L;
        final long serverLow = v6 ? 7 : 0xC000_0207L;
        final long high = v6 ? 0x2001_0DB8_0000_0000L : 0;
        final int clientPort = 40_000 + tuple;
        p.ipVersion = v6 ? 6 : 4;
        p.srcHigh = high;
        p.dstHigh = high;
        p.srcLow = side == 0 ? clientLow : serverLow;
        p.dstLow = side == 0 ? serverLow : clientLow;
        p.srcPort = side == 0 ? clientPort : 443;
        p.dstPort = side == 0 ? 443 : clientPort;
    }

    /** Each open connection's checkpoint decodes to a state that encodes to the same bytes. */
    private static void roundTripCheckpoints(final ConnectionTracker tracker)
    {
        tracker.forEachActive(connection ->
        {
            final ByteBuffer first = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES);
            final int length = FlowStateCodec.encode(connection, first);
            final TcpConnection copy = new TcpConnection();
            FlowStateCodec.decode(ByteBuffer.wrap(first.array(), 0, length), copy);
            final ByteBuffer second = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES);
            assertEquals(length, FlowStateCodec.encode(copy, second));
            assertTrue(Arrays.equals(first.array(), second.array()),
                "a checkpointed connection decodes to the same state");
        });
    }

    private static int u16(final byte[] input, final int at)
    {
        return ((input[at] & 0xFF) << 8) | (input[at + 1] & 0xFF);
    }

    private static int s16(final byte[] input, final int at)
    {
        return (short)u16(input, at);
    }

    /** What the records said, checked as each arrives (a bounded table recycles the object afterwards). */
    private static final class Books
    {
        final long[] flagTotals = new long[AnalysisFlag.count()];
        final long[] signalTotals = new long[SecuritySignal.count()];
        final long[] byReason = new long[EndReason.values().length];
        long records;
        long packets;
        long rttRecords;
        boolean clockMonotonic = true;

        void onRecord(final TcpConnection c)
        {
            records++;
            assertNotNull(c.endReason(), "every record says why it ended");
            byReason[c.endReason().ordinal()]++;
            rttRecords += c.initialRttSeen() ? 1 : 0;
            assertTrue(!clockMonotonic || !c.initialRttSeen() || c.initialRttNanos() >= 0, "a measured RTT is >= 0");
            assertTrue(c.zeek().missedBytes() >= 0, "missed bytes");
            for (final TcpEndpoint e : List.of(c.originator(), c.responder()))
            {
                assertNotNull(e.state(), "state");
                packets += e.packets();
                assertTrue(e.packets() >= 0 && e.ipBytes() >= 0 && e.payloadBytes() >= 0, "traffic counters");
                assertTrue(e.payloadBytes() <= e.ipBytes(), "payload is part of the IP bytes");
                assertTrue(e.synCount() >= 0 && e.synCount() <= e.packets() && e.finCount() >= 0 &&
                    e.finCount() <= e.packets() && e.rstCount() >= 0 && e.rstCount() <= e.packets(), "flag counts");
                assertTrue(e.sequenceSpace() >= 0 && e.maxBytesInFlight() >= 0, "sequence space and flight size");
                assertTrue(e.rttSamples() >= 0 && (e.rttSamples() == 0 || (!clockMonotonic || e.rttMinNanos() >= 0) &&
                    e.rttMinNanos() <= e.rttMeanNanos() && e.rttMeanNanos() <= e.rttMaxNanos()),
                    "RTT min <= mean <= max");
                assertTrue(e.outsideWindow() >= 0 && e.rstOutsideWindow() >= 0 && e.dataAfterRst() >= 0, "signals");
                for (final AnalysisFlag flag : AnalysisFlag.values())
                {
                    final long count = e.analysisCount(flag);
                    assertTrue(count >= 0 && count <= e.packets(), flag::label);
                    flagTotals[flag.ordinal()] += count;
                }
                final long retransmissions = e.analysisCount(AnalysisFlag.RETRANSMISSION);
                assertTrue(e.analysisCount(AnalysisFlag.FAST_RETRANSMISSION) <= retransmissions, "fast <= all");
                assertTrue(e.analysisCount(AnalysisFlag.SPURIOUS_RETRANSMISSION) <= retransmissions, "spurious <= all");
                assertTrue(e.analysisCount(AnalysisFlag.FAST_RETRANSMISSION) +
                    e.analysisCount(AnalysisFlag.SPURIOUS_RETRANSMISSION) <= retransmissions, "each one kind");
                for (final SecuritySignal signal : SecuritySignal.values())
                {
                    signalTotals[signal.ordinal()] += signal.of(e);
                }
            }
        }

        void checkLive(final ConnectionTracker tracker, final int capacity)
        {
            final TrafficCounters counters = tracker.counters();
            if (capacity > 0)
            {
                assertTrue(tracker.activeConnections() <= capacity, "the table never holds more than its capacity");
                long phases = 0;
                for (final FlowPhase phase : FlowPhase.values())
                {
                    phases += tracker.activeConnections(phase);
                }
                assertEquals(tracker.activeConnections(), phases, "every held connection is in one phase");
            }
            assertEquals(tracker.activeConnections(), endpoints(counters, TrafficCounters.ORIG), "originators held");
            assertEquals(tracker.activeConnections(), endpoints(counters, TrafficCounters.RESP), "responders held");
            assertEquals(tracker.connectionsCreated(), records + tracker.activeConnections(),
                "every connection created is either held or emitted");
        }

        void checkEnd(final ConnectionTracker tracker, final long segments, final List<Long> rtts)
        {
            final TrafficCounters counters = tracker.counters();
            assertEquals(0, tracker.activeConnections());
            assertEquals(tracker.connectionsCreated(), records, "one record per connection created");
            assertEquals(segments, packets, "every segment counted once");
            assertEquals(segments, counters.segments(TrafficCounters.ORIG) + counters.segments(TrafficCounters.RESP));
            assertEquals(0, endpoints(counters, TrafficCounters.ORIG) + endpoints(counters, TrafficCounters.RESP));
            for (final AnalysisFlag flag : AnalysisFlag.values())
            {
                assertEquals(flagTotals[flag.ordinal()], counters.analysisEvents(flag, TrafficCounters.ORIG) +
                    counters.analysisEvents(flag, TrafficCounters.RESP), flag::label);
            }
            for (final SecuritySignal signal : SecuritySignal.values())
            {
                assertEquals(signalTotals[signal.ordinal()], counters.securityEvents(signal, TrafficCounters.ORIG) +
                    counters.securityEvents(signal, TrafficCounters.RESP), signal::label);
            }
            assertEquals(rttRecords, rtts.size(), "one RTT sample per connection that measured one");
            long removed = 0;
            for (final FlowRemoval removal : FlowRemoval.values())
            {
                for (final FlowPhase phase : FlowPhase.values())
                {
                    assertTrue(tracker.removed(removal, phase) >= 0);
                    removed += tracker.removed(removal, phase);
                }
            }
            assertTrue(removed <= records, "every removal is a record");
            assertTrue(byReason[EndReason.EVICTED.ordinal()] <= removedFor(tracker, FlowRemoval.CAPACITY) +
                removedFor(tracker, FlowRemoval.EMERGENCY_TIMEOUT), "an evicted record was removed by the table");
        }

        private static long removedFor(final ConnectionTracker tracker, final FlowRemoval removal)
        {
            long total = 0;
            for (final FlowPhase phase : FlowPhase.values())
            {
                total += tracker.removed(removal, phase);
            }
            return total;
        }

        private static long endpoints(final TrafficCounters counters, final int side)
        {
            long total = 0;
            for (final TcpState state : TcpState.values())
            {
                total += counters.endpoints(side, state);
            }
            return total;
        }
    }

    // ---------------------------------------------------------------- seeds

    /** Steps for one segment, in the input language. */
    static byte[] step(final int tuple, final int side, final int flags, final int seqDelta, final int ackDelta,
        final int payload, final int time, final int extras)
    {
        return new byte[] {(byte)(tuple | side << 2 | extras), (byte)flags, (byte)(seqDelta >>> 8), (byte)seqDelta,
            (byte)(ackDelta >>> 8), (byte)ackDelta, (byte)(payload >>> 8), (byte)payload, (byte)0xFF, (byte)0xFF,
            (byte)(time >>> 8), (byte)time, 7};
    }

    static byte[] header(final int config, final int isnBase)
    {
        return new byte[] {(byte)config, (byte)(isnBase >>> 24), (byte)(isnBase >>> 16), (byte)(isnBase >>> 8)};
    }

    /** Handmade conversations, and the project's sample capture translated into the language. */
    static Stream<byte[]> seeds()
    {
        final List<byte[]> seeds = new ArrayList<>();
        final int ms = 1 << 14;
        // A clean exchange 256 bytes before the wrap: handshake, data both ways across it, FINs.
        final ByteArrayOutputStream clean = new ByteArrayOutputStream();
        clean.writeBytes(header(0x10, 0xFFFF_FF00));
        clean.writeBytes(step(0, 0, Tcp.SYN, 0, 0, 0, 0, 0x18));
        clean.writeBytes(step(0, 1, Tcp.SYN | Tcp.ACK, 0, 0, 0, ms | 1, 0x18));
        clean.writeBytes(step(0, 0, Tcp.ACK, 0, 0, 0, ms | 1, 0x10));
        clean.writeBytes(step(0, 0, Tcp.ACK | Tcp.PSH, 0, 0, 1000, 100, 0x10));
        clean.writeBytes(step(0, 0, Tcp.ACK | Tcp.PSH, 0, 0, 1000, 100, 0x10));
        clean.writeBytes(step(0, 1, Tcp.ACK, 0, 0, 0, ms | 1, 0x10));
        clean.writeBytes(step(0, 1, Tcp.ACK | Tcp.PSH, 0, 0, 3000, 100, 0x10));
        clean.writeBytes(step(0, 0, Tcp.ACK | Tcp.FIN, 0, 0, 0, ms | 2, 0x10));
        clean.writeBytes(step(0, 1, Tcp.ACK | Tcp.FIN, 0, 0, 0, ms | 1, 0x10));
        clean.writeBytes(step(0, 0, Tcp.ACK, 0, 0, 0, ms | 1, 0x10));
        seeds.add(clean.toByteArray());
        // Loss and recovery: a gap, duplicate ACKs, a fast retransmission, a spurious one, a window probe.
        final ByteArrayOutputStream lossy = new ByteArrayOutputStream();
        lossy.writeBytes(header(2, 0x1234_5600));
        lossy.writeBytes(step(1, 0, Tcp.SYN, 0, 0, 0, 0, 0x08));
        lossy.writeBytes(step(1, 1, Tcp.SYN | Tcp.ACK, 0, 0, 0, ms | 20, 0x08));
        lossy.writeBytes(step(1, 0, Tcp.ACK, 0, 0, 0, ms | 20, 0));
        lossy.writeBytes(step(1, 0, Tcp.ACK, 1448, 0, 1448, 50, 0));
        lossy.writeBytes(step(1, 1, Tcp.ACK, 0, -2896, 0, ms | 20, 0));
        lossy.writeBytes(step(1, 1, Tcp.ACK, 0, -2896, 0, 50, 0));
        lossy.writeBytes(step(1, 1, Tcp.ACK, 0, -2896, 0, 50, 0));
        lossy.writeBytes(step(1, 0, Tcp.ACK, -2896, 0, 1448, 50, 0));
        lossy.writeBytes(step(1, 0, Tcp.ACK, -1448, 0, 1448, ms | 300, 0));
        lossy.writeBytes(step(1, 1, Tcp.ACK, 0, 0, 0, ms | 20, 0));
        lossy.writeBytes(step(1, 0, Tcp.ACK, -1, 0, 1, 2 << 14 | 5, 0));
        lossy.writeBytes(step(1, 1, Tcp.RST | Tcp.ACK, 0, 0, 0, ms | 20, 0));
        seeds.add(lossy.toByteArray());
        // A SYN flood over the three IPv4 tuples and the IPv6 one into a one-flow table, then silence for an hour.
        final ByteArrayOutputStream flood = new ByteArrayOutputStream();
        flood.writeBytes(header(2 | 1 << 3, 0x7FFF_FF00));
        for (int i = 0; i < 8; i++)
        {
            flood.writeBytes(step(i & 3, 0, Tcp.SYN, i * 977, 0, 0, 10, 0x08));
        }
        flood.writeBytes(step(0, 1, Tcp.RST, 0, 0, 0, 2 << 14 | 3600, 0));
        seeds.add(flood.toByteArray());
        seeds.addAll(sampleConversations());
        return seeds.stream();
    }

    /**
     * The sample capture's first connections (up to four) in the language, in both lifecycles: the same relative
     * sequence numbers and timing on the fuzzer's tuples.
     */
    private static List<byte[]> sampleConversations()
    {
        final PacketDecoder decoder = new PacketDecoder();
        final DecodedPacket p = new DecodedPacket();
        final Map<String, Integer> tuples = new HashMap<>();
        final int[][] next = new int[TUPLES][2];
        final boolean[][] sent = new boolean[TUPLES][2];
        final ByteArrayOutputStream steps = new ByteArrayOutputStream();
        long last = -1;
        for (final SampleCapture.Frame frame : SampleCapture.frames())
        {
            final byte[] data = frame.data();
            if (decoder.decode(MemorySegment.ofArray(data), 0, data.length, data.length, frame.linkType(), p) !=
                DecodeEvent.TCP_SEGMENT)
            {
                continue;
            }
            final String forward = p.srcLow + ":" + p.srcPort + ">" + p.dstLow + ":" + p.dstPort;
            final String backward = p.dstLow + ":" + p.dstPort + ">" + p.srcLow + ":" + p.srcPort;
            final String key = tuples.containsKey(backward) ? backward : forward;
            if (!tuples.containsKey(key))
            {
                if (tuples.size() == TUPLES)
                {
                    continue;
                }
                tuples.put(key, tuples.size());
            }
            final int tuple = tuples.get(key);
            final int side = key.equals(forward) ? 0 : 1;
            final int seqDelta = sent[tuple][side] ? p.seq - next[tuple][side] : 0;
            final int ackDelta = sent[tuple][1 - side] ? p.ack - next[tuple][1 - side] : 0;
            final long gapMicros = last < 0 ? 0 : Math.max(0, (frame.timestampNanos() - last) / 1000);
            last = frame.timestampNanos();
            final int time = gapMicros < 0x4000 ? (int)gapMicros :
                gapMicros / 1000 < 0x4000 ? 1 << 14 | (int)(gapMicros / 1000) : 2 << 14 | (int)Math.min(0x3FFF,
                    gapMicros / 1_000_000);
            final int extras = (p.mss >= 0 ? 0x08 : 0) | (p.hasTimestamps ? 0x10 : 0);
            steps.writeBytes(step(tuple, side, p.flags & 0xFF, clamp(seqDelta), clamp(ackDelta),
                Math.min(p.payloadLength, 0xFFFF), time, extras));
            sent[tuple][side] = true;
            next[tuple][side] = p.seq + p.payloadLength + (p.hasFlag(Tcp.SYN) ? 1 : 0) + (p.hasFlag(Tcp.FIN) ? 1 : 0);
        }
        final List<byte[]> conversations = new ArrayList<>();
        for (final int config : new int[] {0x10, 1, 4 | 8})
        {
            final ByteArrayOutputStream seed = new ByteArrayOutputStream();
            seed.writeBytes(header(config, 0xFFFF_C000));
            seed.writeBytes(steps.toByteArray());
            conversations.add(seed.toByteArray());
        }
        return conversations;
    }

    private static int clamp(final int delta)
    {
        return Math.max(Short.MIN_VALUE, Math.min(Short.MAX_VALUE, delta));
    }
}
