package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.Segments;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Properties of serial-number arithmetic and of the engine under arbitrary segment sequences. */
class TcpEnginePropertiesTest
{
    @Property
    void serialComparisonsHoldAcrossTheWrap(
        @ForAll final int base, @ForAll @IntRange(min = 1, max = Integer.MAX_VALUE) final int distance)
    {
        final int ahead = base + distance; // wraps past 2^32 freely
        assertTrue(SequenceAnalysis.gt(ahead, base));
        assertTrue(SequenceAnalysis.lt(base, ahead));
        assertTrue(SequenceAnalysis.le(base, ahead));
        assertTrue(!SequenceAnalysis.gt(base, ahead));
        assertTrue(SequenceAnalysis.le(base, base));
    }

    /** One segment of a random conversation on one or two 4-tuples. */
    record Step(boolean fromClient, int flags, int seqDelta, int ackDelta, int payload, int window, int gapMicros,
        boolean otherTuple)
    {
    }

    @Provide
    Arbitrary<List<Step>> conversations()
    {
        final Arbitrary<Integer> flags = Arbitraries.of(
            Tcp.SYN, Tcp.SYN | Tcp.ACK, Tcp.ACK, Tcp.ACK | Tcp.PSH, Tcp.FIN | Tcp.ACK, Tcp.RST, Tcp.RST | Tcp.ACK,
            Tcp.SYN | Tcp.FIN, 0, Tcp.FIN | Tcp.RST | Tcp.ACK);
        final Arbitrary<Step> step = Combinators.combine(
            Arbitraries.of(true, false), flags,
            Arbitraries.oneOf(Arbitraries.integers().between(-3000, 3000), Arbitraries.integers()),
            Arbitraries.oneOf(Arbitraries.integers().between(-3000, 3000), Arbitraries.integers()),
            Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.just(1), Arbitraries.integers().between(0, 1460)),
            Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(0, 65535)),
            Arbitraries.integers().between(0, 50_000),
            Arbitraries.of(false, false, false, true))
            .as(Step::new);
        return step.list().ofMinSize(1).ofMaxSize(200);
    }

    @Property(tries = 500)
    void anySegmentSequenceKeepsEveryEndpointValidAndCountsConsistent(
        @ForAll("conversations") @Size(max = 200) final List<Step> steps,
        @ForAll final int clientIsn, @ForAll final int serverIsn)
    {
        final List<TcpConnection> ended = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(4, ended::add);
        final int[] nextSeq = {clientIsn, serverIsn};
        long nanos = 1_000_000_000L;
        long sent = 0;
        for (final Step s : steps)
        {
            final int side = s.fromClient() ? 0 : 1;
            nextSeq[side] += s.seqDelta();
            nanos += s.gapMicros() * 1000L;
            final DecodedPacket p = new DecodedPacket();
            p.resetDecodedFields();
            p.timestampNanos = nanos;
            p.ipVersion = 4;
            p.srcLow = s.fromClient() ? 1 : 2;
            p.dstLow = s.fromClient() ? 2 : 1;
            p.srcPort = s.fromClient() ? (s.otherTuple() ? 5000 : 4000) : 80;
            p.dstPort = s.fromClient() ? 80 : (s.otherTuple() ? 5000 : 4000);
            p.flags = s.flags();
            p.seq = nextSeq[side];
            p.ack = nextSeq[1 - side] + s.ackDelta();
            p.payloadLength = s.payload();
            p.window = s.window();
            p.tcpHeaderLength = 20;
            p.tcpHeaderComplete = true;
            p.ipLength = 40 + s.payload();
            p.tcpCapturedLength = 20 + s.payload();
            p.capturedPayloadLength = s.payload();
            tracker.onSegment(p);
            sent++;
        }
        tracker.finish(EndReason.END_OF_INPUT);

        final EnumSet<TcpState> states = EnumSet.allOf(TcpState.class);
        long counted = 0;
        for (final TcpConnection c : ended)
        {
            assertTrue(c.endReason() != null);
            for (final TcpEndpoint e : List.of(c.originator(), c.responder()))
            {
                assertTrue(states.contains(e.state()));
                counted += e.packets();
                for (final AnalysisFlag flag : AnalysisFlag.values())
                {
                    assertTrue(e.analysisCount(flag) >= 0 && e.analysisCount(flag) <= e.packets(), flag::label);
                }
                assertTrue(e.analysisCount(AnalysisFlag.FAST_RETRANSMISSION) +
                    e.analysisCount(AnalysisFlag.SPURIOUS_RETRANSMISSION) <=
                    e.analysisCount(AnalysisFlag.RETRANSMISSION));
                assertTrue(e.sequenceSpace() >= 0 && e.maxBytesInFlight() >= 0 && e.rttSamples() >= 0);
            }
        }
        assertEquals(sent, counted, "every segment counted exactly once");
    }

    @Property(tries = 300)
    void liveCountersAgreeWithTheRecordsAndFollowTheTable(
        @ForAll("conversations") @Size(max = 200) final List<Step> steps,
        @ForAll final int clientIsn, @ForAll final int serverIsn,
        @ForAll @IntRange(min = 1, max = 3) final int capacity)
    {
        final long[] flagTotals = new long[AnalysisFlag.count()];
        final long[] signalTotals = new long[SecuritySignal.count()];
        final long[] rttRecords = new long[1];
        final ConnectionTracker tracker = new ConnectionTracker(4, c ->
        {
            for (final TcpEndpoint e : List.of(c.originator(), c.responder()))
            {
                for (final AnalysisFlag flag : AnalysisFlag.values())
                {
                    flagTotals[flag.ordinal()] += e.analysisCount(flag);
                }
                for (final SecuritySignal signal : SecuritySignal.values())
                {
                    signalTotals[signal.ordinal()] += signal.of(e);
                }
            }
            rttRecords[0] += c.initialRttSeen() ? 1 : 0;
        }, Lifecycle.ZEEK, ZeekOptions.builder().build(), FlowLimits.builder().maxFlows(capacity).build());
        final List<Long> rtts = new ArrayList<>();
        tracker.onHandshakeRtt(rtts::add);
        final TrafficCounters counters = tracker.counters();
        final int[] nextSeq = {clientIsn, serverIsn};
        long nanos = 1_000_000_000L;
        long sent = 0;
        for (final Step s : steps)
        {
            final int side = s.fromClient() ? 0 : 1;
            nextSeq[side] += s.seqDelta();
            nanos += s.gapMicros() * 1000L;
            tracker.onSegment(Segments.ipv4(nanos, s.fromClient() ? 1 : 2,
                s.fromClient() ? (s.otherTuple() ? 5000 : 4000) : 80, s.fromClient() ? 2 : 1,
                s.fromClient() ? 80 : (s.otherTuple() ? 5000 : 4000), s.flags(), nextSeq[side],
                nextSeq[1 - side] + s.ackDelta(), s.payload(), s.window()));
            sent++;
            long phases = 0;
            for (final FlowPhase phase : FlowPhase.values())
            {
                phases += tracker.activeConnections(phase);
            }
            assertEquals(tracker.activeConnections(), phases, "every held connection is in one phase");
            assertEquals(tracker.activeConnections(), endpoints(counters, TrafficCounters.ORIG), "originators held");
            assertEquals(tracker.activeConnections(), endpoints(counters, TrafficCounters.RESP), "responders held");
        }
        tracker.finish(EndReason.END_OF_INPUT);

        assertEquals(0, endpoints(counters, TrafficCounters.ORIG) + endpoints(counters, TrafficCounters.RESP));
        assertEquals(sent, counters.segments(TrafficCounters.ORIG) + counters.segments(TrafficCounters.RESP));
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
        assertEquals(rttRecords[0], rtts.size(), "one RTT sample per connection that measured one");
        assertTrue(rtts.stream().allMatch(rtt -> rtt >= 0));
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
