package dev.flowtracker.core.tcp;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.Segments;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * tshark's analysis flags on small hand-made conversations. Each expectation was checked by running the same
 * segments, written as a capture, through tshark 4.0.17.
 */
class SequenceAnalysisTest
{
    private static final long CLIENT_IP = 0x0A00_0001L;
    private static final long SERVER_IP = 0x0A00_0002L;
    private static final int CLIENT_PORT = 40000;
    private static final int SERVER_PORT = 80;
    private static final int CLIENT_ISN = 1000;
    private static final int SERVER_ISN = 500_000;
    private static final long MS = 1_000_000L;
    private static final long US = 1_000L;

    private static final int SYN = Tcp.SYN;
    private static final int ACK = Tcp.ACK;
    private static final int FIN = Tcp.FIN;
    private static final int RST = Tcp.RST;
    private static final int PSH = Tcp.PSH;

    private final List<TcpConnection> ended = new ArrayList<>();
    private final ConnectionTracker tracker =
        new ConnectionTracker(16, ended::add, Lifecycle.TSHARK, ZeekOptions.DEFAULTS);

    // ================================================================ helpers

    private static DecodedPacket segment(
        final long nanos, final boolean fromClient, final int flags, final int seq, final int ack, final int payload)
    {
        return fromClient ?
            Segments.ipv4(nanos, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, flags, seq, ack, payload, 8192) :
            Segments.ipv4(nanos, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, flags, seq, ack, payload, 8192);
    }

    private void client(final long nanos, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(segment(nanos, true, flags, seq, ack, payload));
    }

    private void server(final long nanos, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(segment(nanos, false, flags, seq, ack, payload));
    }

    /** SYN at 1 s, SYN+ACK 10 ms later, ACK 10 ms after that. */
    private void handshake()
    {
        client(1000 * MS, SYN, CLIENT_ISN, 0, 0);
        server(1010 * MS, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(1020 * MS, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
    }

    private TcpConnection only()
    {
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(1, ended.size(), "connections");
        return ended.get(0);
    }

    // ================================================================ link length shorter than the IP datagram

    @Test
    void shouldNotCountPppoePaddingAsPayloadInTheAnalysis()
    {
        handshake();
        client(1030 * MS, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 100);
        // The server's pure ACK claims 6 bytes by its IP length that its PPPoE length leaves out.
        final DecodedPacket padded = segment(1040 * MS, false, ACK, SERVER_ISN + 1, CLIENT_ISN + 101, 6);
        padded.payloadBeyondLinkLength = 6;
        tracker.onSegment(padded);
        server(1050 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 101, 200);
        client(1060 * MS, ACK, CLIENT_ISN + 101, SERVER_ISN + 201, 0);

        final TcpConnection c = only();
        assertAll(
            () -> assertEquals(0, c.responder().analysisCount(AnalysisFlag.RETRANSMISSION), "retransmission"),
            () -> assertEquals(0, c.responder().analysisCount(AnalysisFlag.OUT_OF_ORDER), "out_of_order"),
            () -> assertEquals(0, c.originator().analysisCount(AnalysisFlag.ACK_LOST_SEGMENT), "ack_lost_segment"),
            () -> assertEquals(206, c.responder().payloadBytes(), "payload bytes still count the IP length"));
    }

    // ================================================================ TCP header cut by the snapshot length

    /**
     * A pure ACK whose 32-byte TCP header (12 bytes of options: a SACK block) was captured only up to byte 24, as a
     * 96-byte snapshot length cuts an IPv6 ACK with timestamps and SACK.
     */
    private void cutAck(final long nanos, final boolean fromClient, final int seq, final int ack, final int window)
    {
        final DecodedPacket p = fromClient ?
            Segments.ipv4(nanos, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, seq, ack, 0, window) :
            Segments.ipv4(nanos, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, ACK, seq, ack, 0, window);
        p.tcpHeaderLength = 32;
        p.ipLength = 52;
        p.tcpCapturedLength = 24;
        tracker.onSegment(p);
    }

    private void clientAck(final long nanos, final int ack, final int window)
    {
        tracker.onSegment(Segments.ipv4(nanos, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1,
            ack, 0, window));
    }

    @Test
    void shouldJudgeAcksAfterACutHeaderAgainstItsWindowButReportNothingOnIt()
    {
        handshake();
        server(1030 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 1, 100);
        clientAck(1040 * MS, SERVER_ISN + 101, 8192);
        cutAck(1050 * MS, true, CLIENT_ISN + 1, SERVER_ISN + 101, 16384); // a window update, not reported
        clientAck(1060 * MS, SERVER_ISN + 101, 16384);                  // so this is duplicate ACK #1
        cutAck(1070 * MS, true, CLIENT_ISN + 1, SERVER_ISN + 101, 16384); // #2, not reported
        clientAck(1080 * MS, SERVER_ISN + 101, 16384);                  // #3

        final TcpEndpoint clientSide = only().originator();
        assertAll(
            () -> assertEquals(2, clientSide.analysisCount(AnalysisFlag.DUPLICATE_ACK), "duplicate_ack"),
            () -> assertEquals(0, clientSide.analysisCount(AnalysisFlag.WINDOW_UPDATE), "window_update"),
            () -> assertEquals(7, clientSide.packets(), "the cut ACKs still count as packets"));
    }

    @Test
    void shouldCountCutDuplicateAcksTowardsAFastRetransmission()
    {
        handshake();
        server(1030 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 1, 100);
        server(1031 * MS, PSH | ACK, SERVER_ISN + 101, CLIENT_ISN + 1, 100);
        server(1032 * MS, PSH | ACK, SERVER_ISN + 201, CLIENT_ISN + 1, 100);
        clientAck(1040 * MS, SERVER_ISN + 101, 8192);
        cutAck(1041 * MS, true, CLIENT_ISN + 1, SERVER_ISN + 101, 8192);
        cutAck(1042 * MS, true, CLIENT_ISN + 1, SERVER_ISN + 101, 8192);
        server(1045 * MS, PSH | ACK, SERVER_ISN + 101, CLIENT_ISN + 1, 100);

        final TcpConnection c = only();
        assertAll(
            () -> assertEquals(0, c.originator().analysisCount(AnalysisFlag.DUPLICATE_ACK), "duplicate_ack"),
            () -> assertEquals(1, c.responder().analysisCount(AnalysisFlag.FAST_RETRANSMISSION), "fast"),
            () -> assertEquals(1, c.responder().analysisCount(AnalysisFlag.RETRANSMISSION), "retransmission"));
    }

    @Test
    void shouldAnswerACutKeepAliveWithAKeepAliveAck()
    {
        handshake();
        server(1030 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 1, 100);
        clientAck(1040 * MS, SERVER_ISN + 101, 8192);
        cutAck(1050 * MS, false, SERVER_ISN + 100, CLIENT_ISN + 1, 8192);
        clientAck(1060 * MS, SERVER_ISN + 101, 8192);

        final TcpConnection c = only();
        assertAll(
            () -> assertEquals(0, c.responder().analysisCount(AnalysisFlag.KEEP_ALIVE), "keep_alive"),
            () -> assertEquals(1, c.originator().analysisCount(AnalysisFlag.KEEP_ALIVE_ACK), "keep_alive_ack"));
    }

    // ================================================================ a SYN again on a known stream

    @Test
    void shouldMoveNextSeqBackOnANewSynOnAnExistingStream()
    {
        // The client's SYN gets a stale ACK, the client resets at that ACK's number (far ahead of its ISN), then
        // sends its SYN again and the connection starts over.
        final int stale = 9_000_000;
        final int far = CLIENT_ISN + 1 + 100_000;
        client(1000 * MS, SYN, CLIENT_ISN, 0, 0);
        server(1500 * MS, ACK, stale, far, 0);
        client(1501 * MS, RST, far, far, 0);
        // 1 ms after the RST, well inside the 500 ms initial RTT: without the move back this is out of order.
        client(1502 * MS, SYN, CLIENT_ISN, 0, 0);
        server(1600 * MS, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(1700 * MS, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        client(1800 * MS, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 10);

        final TcpEndpoint clientSide = only().originator();
        assertAll(
            () -> assertEquals(1, clientSide.analysisCount(AnalysisFlag.RETRANSMISSION), "the SYN only"),
            () -> assertEquals(0, clientSide.analysisCount(AnalysisFlag.OUT_OF_ORDER), "out_of_order"));
    }

    // ================================================================ fast retransmission

    @Test
    void shouldCountFastRetransmissionAfterAnAckedUnseenReport()
    {
        handshake();
        client(1030 * MS, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 10);
        // Acknowledges 10 client bytes never seen: the client's duplicate-ACK counter becomes "already reported".
        server(1035 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 21, 100);
        server(1040 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 21, 100);

        final TcpEndpoint serverSide = only().responder();
        assertAll(
            () -> assertEquals(1, serverSide.analysisCount(AnalysisFlag.ACK_LOST_SEGMENT), "ack_lost_segment"),
            () -> assertEquals(1, serverSide.analysisCount(AnalysisFlag.FAST_RETRANSMISSION), "fast"),
            () -> assertEquals(1, serverSide.analysisCount(AnalysisFlag.RETRANSMISSION), "retransmission"));
    }

    @Test
    void shouldCountPlainRetransmissionWithoutDuplicateAcksOrAnAckedUnseenReport()
    {
        handshake();
        client(1030 * MS, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 10);
        server(1035 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 11, 100);
        server(1040 * MS, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 11, 100);

        final TcpEndpoint serverSide = only().responder();
        assertAll(
            () -> assertEquals(0, serverSide.analysisCount(AnalysisFlag.FAST_RETRANSMISSION), "fast"),
            () -> assertEquals(1, serverSide.analysisCount(AnalysisFlag.RETRANSMISSION), "retransmission"));
    }

    // ================================================================ tshark's list of unacknowledged segments

    /**
     * The client sends {@code segments} one-byte segments the server never acknowledges, optionally one server
     * segment without the ACK flag that covers them, then its FIN; the server answers with a FIN+ACK that covers the
     * FIN. Returns how often the server's segments acknowledged something unseen.
     */
    private long ackedUnseenAfterUnackedSegments(final int segments, final boolean serverSpeaksInBetween)
    {
        handshake();
        long nanos = 1030 * MS;
        for (int i = 0; i < segments; i++)
        {
            client(nanos, PSH | ACK, CLIENT_ISN + 1 + i, SERVER_ISN + 1, 1);
            nanos += 100 * US;
        }
        int serverSeq = SERVER_ISN + 1;
        if (serverSpeaksInBetween)
        {
            server(nanos, PSH, serverSeq, CLIENT_ISN + 1 + segments, 1);
            serverSeq++;
            nanos += MS;
        }
        client(nanos, FIN | ACK, CLIENT_ISN + 1 + segments, serverSeq, 0);
        server(nanos + MS, FIN | ACK, serverSeq, CLIENT_ISN + 1 + segments + 1, 0);
        return only().responder().analysisCount(AnalysisFlag.ACK_LOST_SEGMENT);
    }

    @Test
    void shouldSkipTheSynFinIncrementOnceTenThousandSegmentsAreUnacked()
    {
        assertEquals(1, ackedUnseenAfterUnackedSegments(SequenceAnalysis.UNACKED_SEGMENT_LIMIT, false));
    }

    @Test
    void shouldCountTheFinWhileFewerThanTenThousandSegmentsAreUnacked()
    {
        assertEquals(0, ackedUnseenAfterUnackedSegments(SequenceAnalysis.UNACKED_SEGMENT_LIMIT - 1, false));
    }

    @Test
    void shouldForgetUnackedSegmentsOnAnySegmentFromThePeerEvenWithoutAck()
    {
        assertEquals(0, ackedUnseenAfterUnackedSegments(SequenceAnalysis.UNACKED_SEGMENT_LIMIT, true));
    }
}
