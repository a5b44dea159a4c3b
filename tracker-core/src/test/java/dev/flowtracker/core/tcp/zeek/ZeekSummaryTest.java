package dev.flowtracker.core.tcp.zeek;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.Segments;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.wire.Tcp;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** Zeek's conn_state, history, sizes and connection boundaries, rule by rule, on small packet sequences. */
class ZeekSummaryTest
{
    private static final long CLIENT_IP = 0x0A00_0001L;
    private static final long SERVER_IP = 0x0A00_0002L;
    private static final int CLIENT_PORT = 51000;
    private static final int SERVER_PORT = 80;
    private static final int C = 1000;
    private static final int S = 5000;
    private static final long MS = 1_000_000L;
    private static final long SECOND = 1_000 * MS;

    private static final int SYN = Tcp.SYN;
    private static final int ACK = Tcp.ACK;
    private static final int FIN = Tcp.FIN;
    private static final int RST = Tcp.RST;
    private static final int PSH = Tcp.PSH;

    /** What Zeek would log for one connection. */
    record Logged(String connState, String history, long origBytes, long respBytes, long missedBytes,
        long origAddress, EndReason reason, boolean truncated)
    {
    }

    private final List<Logged> logged = new ArrayList<>();
    private final ConnectionTracker tracker = new ConnectionTracker(16, c -> logged.add(new Logged(
        c.zeek().connState(), c.zeek().history(), c.zeek().origBytes(), c.zeek().respBytes(), c.zeek().missedBytes(),
        c.originatorAddressLow(), c.endReason(), c.zeek().historyTruncated())), Lifecycle.ZEEK, ZeekOptions.DEFAULTS);

    private DecodedPacket packet(
        final long nanos, final boolean fromClient, final int flags, final int seq, final int ack, final int payload,
        final int window)
    {
        return fromClient ?
            Segments.ipv4(nanos, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, flags, seq, ack, payload, window) :
            Segments.ipv4(nanos, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, flags, seq, ack, payload, window);
    }

    private static DecodedPacket withPorts(final DecodedPacket p, final int srcPort, final int dstPort)
    {
        p.srcPort = srcPort;
        p.dstPort = dstPort;
        return p;
    }

    private void client(final long nanos, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(packet(nanos, true, flags, seq, ack, payload, 65535));
    }

    private void server(final long nanos, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(packet(nanos, false, flags, seq, ack, payload, 65535));
    }

    private void handshake()
    {
        client(0, SYN, C, 0, 0);
        server(MS, SYN | ACK, S, C + 1, 0);
        client(2 * MS, ACK, C + 1, S + 1, 0);
    }

    private List<Logged> finish()
    {
        tracker.finish(EndReason.END_OF_INPUT);
        return logged;
    }

    private Logged only()
    {
        final List<Logged> all = finish();
        assertEquals(1, all.size(), () -> "connections: " + all);
        return all.get(0);
    }

    @Test
    void shouldReportSfAndFullHistoryForCleanExchangeAndClose()
    {
        handshake();
        client(3 * MS, PSH | ACK, C + 1, S + 1, 10);
        server(4 * MS, PSH | ACK, S + 1, C + 11, 20);
        client(5 * MS, FIN | ACK, C + 11, S + 21, 0);
        server(6 * MS, FIN | ACK, S + 21, C + 12, 0);
        client(7 * MS, ACK, C + 12, S + 22, 0);
        final Logged c = only();
        assertEquals("SF", c.connState());
        assertEquals("ShADdFf", c.history());
        assertEquals(10, c.origBytes());
        assertEquals(20, c.respBytes());
    }

    @Test
    void shouldReportRejWhenResponderResetsTheSyn()
    {
        client(0, SYN, C, 0, 0);
        server(MS, RST | ACK, 0, C + 1, 0);
        final Logged c = only();
        assertEquals("REJ", c.connState());
        assertEquals("Sr", c.history());
    }

    @Test
    void shouldReportS0ForUnansweredSyn()
    {
        client(0, SYN, C, 0, 0);
        client(3 * SECOND, SYN, C, 0, 0);
        final Logged c = only();
        assertEquals("S0", c.connState());
        assertEquals("S", c.history(), "a retransmitted SYN with the same sequence number adds no letter");
    }

    @Test
    void shouldReportRstos0WhenOriginatorResetsItsOwnUnansweredSyn()
    {
        client(0, SYN, C, 0, 0);
        client(MS, RST, C + 1, 0, 0);
        final Logged c = only();
        assertEquals("RSTOS0", c.connState());
        assertEquals("SR", c.history());
    }

    @Test
    void shouldReportRstoAndRstrByWhoResets()
    {
        handshake();
        client(3 * MS, RST | ACK, C + 1, S + 1, 0);
        assertEquals("RSTO", only().connState());
    }

    @Test
    void shouldReportS1ForEstablishedConnectionStillOpen()
    {
        handshake();
        final Logged c = only();
        assertEquals("S1", c.connState());
        assertEquals("ShA", c.history());
    }

    @Test
    void shouldReportOthForMidStreamPickup()
    {
        client(0, PSH | ACK, C, S, 100);
        server(MS, ACK, S, C + 100, 0);
        final Logged c = only();
        assertEquals("OTH", c.connState());
        assertEquals("Da", c.history());
        assertEquals(100, c.origBytes());
    }

    @Test
    void shouldSplitHalfDuplexTraceWhenTheAttemptTimerFires()
    {
        // Only the client's side is in the trace: after 5 s without an answer Zeek removes the attempt (S0) and
        // the client's later data starts a new, partial connection.
        client(0, SYN, C, 0, 0);
        client(MS, ACK, C + 1, S + 1, 0);
        client(2 * MS, PSH | ACK, C + 1, S + 1, 50);
        client(7 * SECOND, PSH | ACK, C + 51, S + 1, 50);
        client(8 * SECOND, FIN | ACK, C + 101, S + 1, 0);
        final List<Logged> all = finish();
        assertEquals(2, all.size(), () -> "connections: " + all);
        assertEquals("S0", all.get(0).connState());
        assertEquals("SAD", all.get(0).history());
        assertEquals(EndReason.TIMEOUT, all.get(0).reason());
        assertEquals("SH", all.get(1).connState());
        assertEquals("DF", all.get(1).history());
    }

    @Test
    void shouldStartNewConnectionAfterCloseDelay()
    {
        handshake();
        client(3 * MS, FIN | ACK, C + 1, S + 1, 0);
        server(4 * MS, FIN | ACK, S + 1, C + 2, 0);
        client(5 * MS, ACK, C + 2, S + 2, 0);
        // More than 5 s after the close: the old connection is gone, this ACK starts a partial one.
        client(6 * SECOND, ACK, C + 2, S + 2, 0);
        final List<Logged> all = finish();
        assertEquals(2, all.size());
        assertEquals("SF", all.get(0).connState());
        assertEquals("A", all.get(1).history());
    }

    @Test
    void shouldTreatSynWithNewSequenceNumberOnOpenConnectionAsReuse()
    {
        handshake();
        client(3 * MS, SYN, C + 100_000, 0, 0);
        final List<Logged> all = finish();
        assertEquals(2, all.size());
        assertEquals(EndReason.REUSED, all.get(0).reason());
        assertEquals("S", all.get(1).history());
    }

    @Test
    void shouldScaleRetransmissionLetterByPowersOfTen()
    {
        handshake();
        client(3 * MS, PSH | ACK, C + 1, S + 1, 10);
        for (int i = 0; i < 100; i++)
        {
            client((4 + i) * MS, PSH | ACK, C + 1, S + 1, 10);
        }
        // Retransmissions 1, 10 and 100 each add a T.
        assertEquals("ShADTTT", only().history());
    }

    @Test
    void shouldCountGapAndMissedBytesWhenAckPassesUnseenData()
    {
        handshake();
        client(3 * MS, PSH | ACK, C + 1, S + 1, 100);
        // 100 bytes at C + 101 never appear; the server acknowledges them with the next 100.
        client(4 * MS, PSH | ACK, C + 201, S + 1, 100);
        server(5 * MS, ACK, S + 1, C + 301, 0);
        final Logged c = only();
        assertEquals("ShADaG", c.history());
        assertEquals(100, c.missedBytes());
        assertEquals(300, c.origBytes(), "acknowledged but unseen bytes count in the size");
    }

    @Test
    void shouldAddZeroWindowLetterOnce()
    {
        handshake();
        tracker.onSegment(packet(3 * MS, false, ACK, S + 1, C + 1, 0, 0));
        tracker.onSegment(packet(4 * MS, false, ACK, S + 1, C + 1, 0, 0));
        assertEquals("ShAaw", only().history());
    }

    @Test
    void shouldRecordBadChecksumAndOtherwiseSkipThePacket()
    {
        handshake();
        final DecodedPacket bad = packet(3 * MS, true, PSH | ACK, C + 1, S + 1, 10, 65535);
        bad.tcpChecksum = DecodedPacket.CHECKSUM_BAD;
        tracker.onSegment(bad);
        final Logged c = only();
        assertEquals("ShAC", c.history());
        assertEquals(0, c.origBytes(), "the skipped data is not in Zeek's sizes");
    }

    @Test
    void shouldIgnoreBadChecksumWhenConfiguredLikeZeekMinusC()
    {
        final List<Logged> out = new ArrayList<>();
        final ConnectionTracker ignoring = new ConnectionTracker(16, c -> out.add(new Logged(c.zeek().connState(),
            c.zeek().history(), c.zeek().origBytes(), 0, 0, 0, c.endReason(), false)), Lifecycle.ZEEK,
            ZeekOptions.builder().ignoreChecksums(true).build());
        final DecodedPacket syn = packet(0, true, SYN, C, 0, 0, 65535);
        syn.tcpChecksum = DecodedPacket.CHECKSUM_BAD;
        ignoring.onSegment(syn);
        ignoring.finish(EndReason.END_OF_INPUT);
        assertEquals("S", out.get(0).history());
    }

    @Test
    void shouldStopHistoryAtItsBoundAndSayItWasCut()
    {
        handshake();
        // Every RST with a new sequence number adds an R: far more than the bound.
        for (int i = 0; i < 2 * ZeekSummary.MAX_HISTORY; i++)
        {
            client((3 + i) * MS, RST, C + 1 + i, 0, 0);
        }
        final Logged c = only();
        assertEquals(ZeekSummary.MAX_HISTORY, c.history().length());
        assertTrue(c.truncated());
    }

    @Test
    void shouldKeepOriginatorAfterSynAckReversal()
    {
        // SYN+ACK arrives before the SYN it answers (two capture interfaces). No port looks like a server's, so
        // the SYN+ACK's sender starts as originator; the SYN with the acknowledged sequence number flips it back.
        tracker.onSegment(withPorts(packet(0, false, SYN | ACK, S, C + 1, 0, 65535), 40000, 50000));
        tracker.onSegment(withPorts(packet(MS, true, SYN, C, 0, 0, 65535), 50000, 40000));
        tracker.onSegment(withPorts(packet(2 * MS, true, ACK, C + 1, S + 1, 0, 65535), 50000, 40000));
        final Logged c = only();
        assertEquals(CLIENT_IP, c.origAddress());
        assertEquals("Hs^A", c.history());
        assertEquals("S1", c.connState());
    }
}
