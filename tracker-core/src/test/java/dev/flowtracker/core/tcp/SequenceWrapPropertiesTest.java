package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.Segments;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;
import dev.flowtracker.core.wire.Tcp;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Assume;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Sequence numbers across the 2^32 wrap: the serial comparisons (RFC 1982) depend only on the distance between two
 * numbers, and so does everything the engine reports: the same conversation gives the same record, analysis
 * counters, Zeek sizes and history wherever its ISNs lie, the wrap included. One exception is inherited from the
 * tools the records follow: tshark takes a next or acknowledged sequence number of 0 for "none yet", and Zeek
 * ignores an acknowledgement of 0 that jumps far, so conversations with a sequence or acknowledgement number of
 * exactly 0 are left out of the comparison. (TcpEnginePropertiesTest holds the comparisons' basic direction and
 * the engine's invariants under arbitrary segments.)
 */
class SequenceWrapPropertiesTest
{
    /** ISNs just before either wrap (unsigned at 2^32, signed at 2^31), or anywhere. */
    @Provide
    Arbitrary<Integer> isns()
    {
        return Arbitraries.oneOf(Arbitraries.integers().between(-70_000, 0),
            Arbitraries.integers().between(Integer.MAX_VALUE - 70_000, Integer.MAX_VALUE), Arbitraries.integers());
    }

    @Property
    void serialComparisonsDependOnlyOnTheDistance(@ForAll final int a, @ForAll final int b, @ForAll final int shift)
    {
        assertEquals(SequenceAnalysis.lt(a, b), SequenceAnalysis.lt(a + shift, b + shift));
        assertEquals(SequenceAnalysis.gt(a, b), SequenceAnalysis.gt(a + shift, b + shift));
        assertEquals(SequenceAnalysis.le(a, b), SequenceAnalysis.le(a + shift, b + shift));
    }

    /** Two numbers exactly 2^31 apart are not ordered (RFC 1982 leaves it undefined), so they are left out. */
    @Property
    void exactlyOneOfBeforeOrAfterUnlessHalfTheSpaceApart(@ForAll final int a, @ForAll final int distance)
    {
        Assume.that(distance != Integer.MIN_VALUE);
        final int b = a + distance;
        assertEquals(!SequenceAnalysis.gt(a, b), SequenceAnalysis.le(a, b), "le is not gt");
        assertEquals(SequenceAnalysis.lt(a, b), SequenceAnalysis.gt(b, a), "lt and gt mirror each other");
        if (distance != 0)
        {
            assertNotEquals(SequenceAnalysis.lt(a, b), SequenceAnalysis.lt(b, a), "one of the two comes first");
        }
        else
        {
            assertTrue(!SequenceAnalysis.lt(a, b) && !SequenceAnalysis.gt(a, b) && SequenceAnalysis.le(a, b));
        }
    }

    /** One segment of a conversation: who sends, how much, and whether it repeats or jumps ahead. */
    record Segment(boolean fromClient, int payload, int kind, int gapMicros)
    {
        static final int IN_ORDER = 0;
        static final int RETRANSMIT_PREVIOUS = 1;
        static final int SKIP_AHEAD = 2;
    }

    @Provide
    Arbitrary<List<Segment>> conversations()
    {
        return Combinators.combine(Arbitraries.of(true, true, false),
                Arbitraries.oneOf(Arbitraries.just(0), Arbitraries.integers().between(1, 1460),
                    Arbitraries.just(65_535)),
                Arbitraries.of(Segment.IN_ORDER, Segment.IN_ORDER, Segment.IN_ORDER, Segment.RETRANSMIT_PREVIOUS,
                    Segment.SKIP_AHEAD),
                Arbitraries.integers().between(1, 300_000))
            .as(Segment::new).list().ofMinSize(1).ofMaxSize(120);
    }

    @Property(tries = 400)
    void aConversationReportsTheSameWhereverItsSequenceNumbersLie(
        @ForAll("conversations") final List<Segment> conversation, @ForAll("isns") final int clientIsn,
        @ForAll("isns") final int serverIsn, @ForAll final boolean tshark)
    {
        final Replay base = replay(conversation, 0x10_0000, 0x20_0000, tshark);
        final Replay shifted = replay(conversation, clientIsn, serverIsn, tshark);
        Assume.that(!base.touchesZero() && !shifted.touchesZero());
        assertEquals(base.records(), shifted.records(), "the records at ISNs 2^20/2^21 and " +
            Integer.toUnsignedString(clientIsn) + "/" + Integer.toUnsignedString(serverIsn));
    }

    @Property(tries = 200)
    void aCleanTransferAcrossTheWrapIsCleanAndCountsEveryByte(
        @ForAll("isns") final int clientIsn, @ForAll("isns") final int serverIsn,
        @ForAll("segmentSizes") final List<Integer> sizes)
    {
        // No sequence number exactly 0 (the tools' "none yet", see the class comment).
        Assume.that(serverIsn != 0 && serverIsn != -1 && clientIsn != 0 && clientIsn != -1);
        int end = clientIsn + 1;
        for (final int size : sizes)
        {
            end += size;
            Assume.that(end != 0 && end + 1 != 0);
        }
        final List<TcpConnection> ended = new ArrayList<>();
        final List<String> records = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(4, c ->
        {
            ended.add(c);
            records.add(describe(c));
        });
        long nanos = 1_000_000_000L;
        int clientNext = clientIsn + 1;
        final int serverNext = serverIsn + 1;
        tracker.onSegment(segment(nanos, true, Tcp.SYN, clientIsn, 0, 0));
        tracker.onSegment(segment(nanos += 1_000_000, false, Tcp.SYN | Tcp.ACK, serverIsn, clientNext, 0));
        tracker.onSegment(segment(nanos += 1_000_000, true, Tcp.ACK, clientNext, serverNext, 0));
        long total = 0;
        for (final int size : sizes)
        {
            tracker.onSegment(segment(nanos += 100_000, true, Tcp.ACK | Tcp.PSH, clientNext, serverNext, size));
            clientNext += size;
            total += size;
            tracker.onSegment(segment(nanos += 1_000_000, false, Tcp.ACK, serverNext, clientNext, 0));
        }
        tracker.onSegment(segment(nanos += 1_000_000, true, Tcp.FIN | Tcp.ACK, clientNext, serverNext, 0));
        tracker.onSegment(segment(nanos += 1_000_000, false, Tcp.FIN | Tcp.ACK, serverNext, clientNext + 1, 0));
        tracker.onSegment(segment(nanos + 1_000_000, true, Tcp.ACK, clientNext + 1, serverNext + 1, 0));
        tracker.finish(EndReason.END_OF_INPUT);

        assertEquals(1, ended.size(), () -> "one connection: " + records);
        final String record = records.get(0);
        assertTrue(record.startsWith("SF ShAD"), record);
        assertTrue(record.contains(" orig_bytes=" + total + " resp_bytes=0 missed=0 "), record);
        assertTrue(record.contains("orig[TIME_WAIT sequence=" + (total + 1) + " "), record);
        assertTrue(!record.contains("retransmission=") && !record.contains("out_of_order=") &&
            !record.contains("lost_segment=") && !record.contains("duplicate_ack="), record);
    }

    @Provide
    Arbitrary<List<Integer>> segmentSizes()
    {
        return Arbitraries.integers().between(1, 1460).list().ofMinSize(1).ofMaxSize(200);
    }

    /** A replay's records, one line each (everything but the ISNs), and whether any number it sent was 0. */
    record Replay(List<String> records, boolean touchesZero)
    {
    }

    /** The conversation with these ISNs. */
    private static Replay replay(
        final List<Segment> conversation, final int clientIsn, final int serverIsn, final boolean tshark)
    {
        final List<String> records = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(4, c -> records.add(describe(c)),
            tshark ? Lifecycle.TSHARK : Lifecycle.ZEEK, ZeekOptions.DEFAULTS);
        long nanos = 1_000_000_000L;
        tracker.onSegment(segment(nanos, true, Tcp.SYN, clientIsn, 0, 0));
        tracker.onSegment(segment(nanos += 1_000_000, false, Tcp.SYN | Tcp.ACK, serverIsn, clientIsn + 1, 0));
        final int[] next = {clientIsn + 1, serverIsn + 1};
        final int[] previous = {clientIsn + 1, serverIsn + 1};
        final int[] previousLength = {0, 0};
        boolean zero = clientIsn == 0 || serverIsn == 0 || clientIsn + 1 == 0 || serverIsn + 1 == 0;
        for (final Segment s : conversation)
        {
            final int side = s.fromClient() ? 0 : 1;
            nanos += s.gapMicros() * 1_000L;
            int seq = next[side];
            switch (s.kind())
            {
                case Segment.RETRANSMIT_PREVIOUS -> seq = previous[side];
                case Segment.SKIP_AHEAD -> seq = next[side] + 1460;
                default ->
                {
                }
            }
            final int payload = s.kind() == Segment.RETRANSMIT_PREVIOUS ? previousLength[side] : s.payload();
            zero |= seq == 0 || seq + payload == 0 || next[1 - side] == 0;
            tracker.onSegment(segment(nanos, s.fromClient(), Tcp.ACK | (payload > 0 ? Tcp.PSH : 0), seq,
                next[1 - side], payload));
            if (SequenceAnalysis.gt(seq + payload, next[side]))
            {
                next[side] = seq + payload;
            }
            previous[side] = seq;
            previousLength[side] = payload;
        }
        tracker.finish(EndReason.END_OF_INPUT);
        return new Replay(records, zero);
    }

    private static DecodedPacket segment(
        final long nanos, final boolean fromClient, final int flags, final int seq, final int ack, final int payload)
    {
        return fromClient ?
            Segments.ipv4(nanos, 0x0A00_0001L, 40_000, 0x0A00_0002L, 443, flags, seq, ack, payload, 65_535) :
            Segments.ipv4(nanos, 0x0A00_0002L, 443, 0x0A00_0001L, 40_000, flags, seq, ack, payload, 65_535);
    }

    /** A record without its ISNs: Zeek's view, then each side's tshark view (non-zero analysis counters only). */
    private static String describe(final TcpConnection c)
    {
        final ZeekSummary zeek = c.zeek();
        final StringBuilder out = new StringBuilder();
        out.append(zeek.connState()).append(' ').append(zeek.history())
            .append(" orig_bytes=").append(Long.toUnsignedString(zeek.origBytes()))
            .append(" resp_bytes=").append(Long.toUnsignedString(zeek.respBytes()))
            .append(" missed=").append(zeek.missedBytes())
            .append(" end=").append(c.endReason()).append(" rtt=").append(c.initialRttNanos());
        side(out.append(" orig"), c.originator());
        side(out.append(" resp"), c.responder());
        return out.toString();
    }

    private static void side(final StringBuilder out, final TcpEndpoint e)
    {
        out.append('[').append(e.state()).append(" sequence=").append(e.sequenceSpace())
            .append(" flight=").append(e.maxBytesInFlight()).append(" packets=").append(e.packets())
            .append(" payload=").append(e.payloadBytes()).append(" rtts=").append(e.rttSamples())
            .append(" outside_window=").append(e.outsideWindow());
        for (final AnalysisFlag flag : AnalysisFlag.values())
        {
            if (e.analysisCount(flag) != 0)
            {
                out.append(' ').append(flag.label()).append('=').append(e.analysisCount(flag));
            }
        }
        out.append(']');
    }
}
