package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.TrafficCounters;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ConnectionTrackerTest
{
    private static final long CLIENT_IP = 0x0A00_0001L;
    private static final long SERVER_IP = 0xC0A8_0102L;
    private static final int CLIENT_PORT = 51000;
    private static final int SERVER_PORT = 80;
    /** ISNs above 2^31 check that {@link TcpEndpoint#isn()} is unsigned. */
    private static final int CLIENT_ISN = 0xF000_0000;
    private static final int SERVER_ISN = 0x1000_0000;
    private static final long MS = 1_000_000L;

    private static final int SYN = Tcp.SYN;
    private static final int ACK = Tcp.ACK;
    private static final int FIN = Tcp.FIN;
    private static final int RST = Tcp.RST;
    private static final int PSH = Tcp.PSH;

    /** What one endpoint looked like when its connection was emitted (the listener must not keep the connection). */
    record Side(long packets, long ipBytes, long payloadBytes, int syn, int fin, int rst, boolean isnSeen, long isn,
        TcpState state)
    {
        static Side of(final TcpEndpoint e)
        {
            return new Side(e.packets(), e.ipBytes(), e.payloadBytes(), e.synCount(), e.finCount(), e.rstCount(),
                e.isnSeen(), e.isn(), e.state());
        }
    }

    record Ended(long origHigh, long origLow, int origPort, long respHigh, long respLow, int respPort, int ipVersion,
        int tunnelId, String history, String connState, EndReason reason, boolean reusedPorts, long generation,
        long initialRttNanos, long firstNanos, long lastNanos, Side orig, Side resp)
    {
        static Ended of(final TcpConnection c)
        {
            return new Ended(c.originatorAddressHigh(), c.originatorAddressLow(), c.originatorPort(),
                c.responderAddressHigh(), c.responderAddressLow(), c.responderPort(), c.ipVersion(), c.tunnelId(),
                c.zeek().history(), c.zeek().connState(), c.endReason(), c.reusedPorts(), c.generation(),
                c.initialRttNanos(), c.firstTimestampNanos(), c.lastTimestampNanos(), Side.of(c.originator()),
                Side.of(c.responder()));
        }
    }

    private final List<Ended> ended = new ArrayList<>();
    /** tshark's stream rules: these tests pin connection identity the way tcp.stream defines it. */
    private final ConnectionTracker tracker =
        new ConnectionTracker(16, c -> ended.add(Ended.of(c)), Lifecycle.TSHARK, ZeekOptions.DEFAULTS);

    // ================================================================ helpers

    private static DecodedPacket segment(
        final long nanos, final long srcIp, final int srcPort, final long dstIp, final int dstPort,
        final int flags, final int seq, final int ack, final int payload)
    {
        return Segments.ipv4(nanos, srcIp, srcPort, dstIp, dstPort, flags, seq, ack, payload, 65535);
    }

    private void client(final long ms, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(segment(ms * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, flags, seq, ack, payload));
    }

    private void server(final long ms, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(segment(ms * MS, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, flags, seq, ack, payload));
    }

    /** SYN at t, SYN+ACK at t+10 ms, ACK at t+25 ms. */
    private void handshake(final long ms)
    {
        client(ms, SYN, CLIENT_ISN, 0, 0);
        server(ms + 10, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(ms + 25, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
    }

    private Ended only()
    {
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(1, ended.size(), () -> "connections: " + ended);
        return ended.get(0);
    }

    private static void assertClientIsOriginator(final Ended c)
    {
        assertAll(
            () -> assertEquals(CLIENT_IP, c.origLow()),
            () -> assertEquals(CLIENT_PORT, c.origPort()),
            () -> assertEquals(SERVER_IP, c.respLow()),
            () -> assertEquals(SERVER_PORT, c.respPort()));
    }

    private static void assertServerIsOriginator(final Ended c)
    {
        assertAll(
            () -> assertEquals(SERVER_IP, c.origLow()),
            () -> assertEquals(SERVER_PORT, c.origPort()),
            () -> assertEquals(CLIENT_IP, c.respLow()),
            () -> assertEquals(CLIENT_PORT, c.respPort()));
    }

    // ================================================================ open and close

    @Test
    void shouldFollowThreeWayOpenAndFourWayClose()
    {
        handshake(0);
        client(30, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 100);
        server(40, ACK, SERVER_ISN + 1, CLIENT_ISN + 101, 0);
        server(50, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 101, 200);
        client(60, ACK, CLIENT_ISN + 101, SERVER_ISN + 201, 0);
        client(70, FIN | ACK, CLIENT_ISN + 101, SERVER_ISN + 201, 0);
        server(80, ACK, SERVER_ISN + 201, CLIENT_ISN + 102, 0);
        server(90, FIN | ACK, SERVER_ISN + 201, CLIENT_ISN + 102, 0);
        client(100, ACK, CLIENT_ISN + 102, SERVER_ISN + 202, 0);

        final Ended c = only();
        assertClientIsOriginator(c);
        assertAll(
            () -> assertEquals(EndReason.FIN, c.reason()),
            () -> assertEquals(TcpState.TIME_WAIT, c.orig().state()),
            () -> assertEquals(TcpState.CLOSED, c.resp().state()),
            () -> assertEquals(6, c.orig().packets()),
            () -> assertEquals(5, c.resp().packets()),
            () -> assertEquals(100, c.orig().payloadBytes()),
            () -> assertEquals(200, c.resp().payloadBytes()),
            () -> assertEquals(6 * 40 + 100, c.orig().ipBytes()),
            () -> assertEquals(5 * 40 + 200, c.resp().ipBytes()),
            () -> assertEquals(1, c.orig().syn()),
            () -> assertEquals(1, c.resp().syn()),
            () -> assertEquals(1, c.orig().fin()),
            () -> assertEquals(1, c.resp().fin()),
            () -> assertEquals(0, c.orig().rst() + c.resp().rst()),
            () -> assertTrue(c.orig().isnSeen()),
            () -> assertEquals(0xF000_0000L, c.orig().isn()),
            () -> assertEquals(0x1000_0000L, c.resp().isn()),
            () -> assertEquals(25 * MS, c.initialRttNanos()),
            () -> assertEquals(0, c.firstNanos()),
            () -> assertEquals(100 * MS, c.lastNanos()),
            () -> assertFalse(c.reusedPorts()),
            () -> assertEquals(0, c.generation()));
        assertEquals(0, tracker.activeConnections());
        assertEquals(1, tracker.connectionsCreated());
        assertEquals(0, tracker.connectionsReused());
    }

    @Test
    void shouldPassThroughRfc793StatesStepByStep()
    {
        // White box (same package): drive one connection directly to look at the states between segments.
        final DecodedPacket syn = segment(0, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, SYN, CLIENT_ISN, 0, 0);
        final TcpConnection c = new TcpConnection();
        c.reset(syn, FlowHash.of(syn), 0, ZeekOptions.DEFAULTS);
        step(c, syn);
        assertStates(c, TcpState.SYN_SENT, TcpState.LISTEN);
        step(c, segment(10, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0));
        assertStates(c, TcpState.ESTABLISHED, TcpState.SYN_RECEIVED);
        step(c, segment(20, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0));
        assertStates(c, TcpState.ESTABLISHED, TcpState.ESTABLISHED);
        step(c, segment(30, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 1,
            0));
        assertStates(c, TcpState.FIN_WAIT_1, TcpState.CLOSE_WAIT);
        step(c, segment(40, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 0));
        assertStates(c, TcpState.FIN_WAIT_2, TcpState.CLOSE_WAIT);
        step(c, segment(50, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, FIN | ACK, SERVER_ISN + 1, CLIENT_ISN + 2,
            0));
        assertStates(c, TcpState.TIME_WAIT, TcpState.LAST_ACK);
        assertEquals(EndReason.FIN, c.endReason(), "FIN seen from both sides");
        step(c, segment(60, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 2, SERVER_ISN + 2, 0));
        assertStates(c, TcpState.TIME_WAIT, TcpState.CLOSED);
    }

    private static void step(final TcpConnection c, final DecodedPacket p)
    {
        assertTrue(c.matches(p));
        c.onSegment(p, c.isFromA(p));
    }

    private static void assertStates(final TcpConnection c, final TcpState client, final TcpState server)
    {
        assertEquals(client, c.a.state(), "client state");
        assertEquals(server, c.b.state(), "server state");
    }

    @Test
    void shouldCloseWithFinAndAckCombined()
    {
        handshake(0);
        client(30, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        server(40, FIN | ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 0);
        client(50, ACK, CLIENT_ISN + 2, SERVER_ISN + 2, 0);
        final Ended c = only();
        assertEquals(EndReason.FIN, c.reason());
        assertEquals(TcpState.TIME_WAIT, c.orig().state());
        assertEquals(TcpState.CLOSED, c.resp().state());
    }

    @Test
    void shouldEndWithRstAndCloseBothSides()
    {
        handshake(0);
        client(30, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 50);
        server(40, RST | ACK, SERVER_ISN + 1, CLIENT_ISN + 51, 0);
        final Ended c = only();
        assertAll(
            () -> assertEquals(EndReason.RST, c.reason()),
            () -> assertEquals(TcpState.CLOSED, c.orig().state()),
            () -> assertEquals(TcpState.CLOSED, c.resp().state()),
            () -> assertEquals(0, c.orig().rst()),
            () -> assertEquals(1, c.resp().rst()),
            () -> assertEquals(3, c.orig().packets()),
            () -> assertEquals(2, c.resp().packets()));
    }

    @Test
    void shouldKeepBothSidesClosedWhenSegmentsArriveAfterRst()
    {
        handshake(0);
        server(40, RST | ACK, SERVER_ISN + 1, CLIENT_ISN + 1, 0);
        client(50, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 100);
        final Ended c = only();
        assertEquals(EndReason.RST, c.reason());
        assertEquals(TcpState.CLOSED, c.orig().state());
        assertEquals(TcpState.CLOSED, c.resp().state());
    }

    @Test
    void shouldKeepRstEndReasonWhenFinsFollow()
    {
        handshake(0);
        client(30, RST, CLIENT_ISN + 1, 0, 0);
        server(40, FIN | ACK, SERVER_ISN + 1, CLIENT_ISN + 1, 0);
        client(50, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 2, 0);
        assertEquals(EndReason.RST, only().reason());
    }

    @Test
    void shouldKeepCountingDataAfterPeerFin()
    {
        handshake(0);
        client(30, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        server(40, ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 0);
        server(50, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 500);
        client(60, ACK, CLIENT_ISN + 2, SERVER_ISN + 501, 0);
        server(70, PSH | ACK, SERVER_ISN + 501, CLIENT_ISN + 2, 700);
        client(80, ACK, CLIENT_ISN + 2, SERVER_ISN + 1201, 0);

        final Ended c = only();
        assertAll(
            () -> assertEquals(EndReason.END_OF_INPUT, c.reason()),
            () -> assertEquals(TcpState.FIN_WAIT_2, c.orig().state()),
            () -> assertEquals(TcpState.CLOSE_WAIT, c.resp().state()),
            () -> assertEquals(5, c.orig().packets()),
            () -> assertEquals(4, c.resp().packets()),
            () -> assertEquals(1200, c.resp().payloadBytes()),
            () -> assertEquals(0, c.orig().payloadBytes()),
            () -> assertEquals(80 * MS, c.lastNanos()));
    }

    @Test
    void shouldCloseAfterHalfCloseOnceServerFinishes()
    {
        handshake(0);
        client(30, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        server(40, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 300);
        client(50, ACK, CLIENT_ISN + 2, SERVER_ISN + 301, 0);
        server(60, FIN | ACK, SERVER_ISN + 301, CLIENT_ISN + 2, 0);
        client(70, ACK, CLIENT_ISN + 2, SERVER_ISN + 302, 0);
        final Ended c = only();
        assertEquals(EndReason.FIN, c.reason());
        assertEquals(TcpState.TIME_WAIT, c.orig().state());
        assertEquals(TcpState.CLOSED, c.resp().state());
        assertEquals(300, c.resp().payloadBytes());
    }

    @Test
    void shouldTreatConnectionPickedUpMidStreamAsEstablished()
    {
        client(0, PSH | ACK, 1000, 2000, 10);
        server(5, ACK, 2000, 1010, 0);
        final Ended c = only();
        assertAll(
            () -> assertEquals(TcpState.ESTABLISHED, c.orig().state()),
            () -> assertEquals(TcpState.ESTABLISHED, c.resp().state()),
            () -> assertFalse(c.orig().isnSeen()),
            () -> assertFalse(c.resp().isnSeen()),
            () -> assertEquals(-1, c.initialRttNanos()),
            () -> assertEquals(EndReason.END_OF_INPUT, c.reason()));
    }

    @Test
    void shouldTreatSimultaneousOpenAsOneConnection()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        server(1, SYN, SERVER_ISN, 0, 0);
        client(2, SYN | ACK, CLIENT_ISN, SERVER_ISN + 1, 0);
        server(3, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        final Ended c = only();
        assertClientIsOriginator(c);
        assertAll(
            () -> assertEquals(2, c.orig().syn()),
            () -> assertEquals(2, c.resp().syn()),
            () -> assertEquals(TcpState.ESTABLISHED, c.orig().state()),
            () -> assertEquals(TcpState.ESTABLISHED, c.resp().state()));
    }

    // ================================================================ originator rules (Zeek's)

    @Test
    void shouldMakeFirstSynSenderTheOriginator()
    {
        handshake(0);
        final Ended c = only();
        assertClientIsOriginator(c);
        assertEquals("ShA", c.history());
    }

    @Test
    void shouldFlipAtCreationWhenFirstSenderUsesLikelyServerPort()
    {
        // Port 80 is a likely server port and 51000 is not: the ACK's receiver is the originator ("^" first).
        server(0, ACK, SERVER_ISN + 1, CLIENT_ISN + 1, 0);
        client(1, SYN, CLIENT_ISN, 0, 0);
        final Ended c = only();
        assertClientIsOriginator(c);
        assertEquals("^aS", c.history());
    }

    @Test
    void shouldFlipAtCreationOnSynAckFromLikelyServerPort()
    {
        server(0, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(10, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        final Ended c = only();
        assertClientIsOriginator(c);
        assertEquals("^hA", c.history());
        assertFalse(c.orig().isnSeen());
        assertEquals(0x1000_0000L, c.resp().isn());
    }

    @Test
    void shouldKeepFirstSenderAsOriginatorWhenNoPortLooksLikeAServer()
    {
        tracker.onSegment(segment(0, SERVER_IP, 40000, CLIENT_IP, 50000, PSH | ACK, SERVER_ISN, CLIENT_ISN, 20));
        tracker.onSegment(segment(MS, CLIENT_IP, 50000, SERVER_IP, 40000, ACK, CLIENT_ISN, SERVER_ISN + 20, 0));
        final Ended c = only();
        assertEquals(SERVER_IP, c.origLow());
        assertEquals(40000, c.origPort());
        assertEquals("Da", c.history());
        assertEquals("OTH", c.connState());
    }

    @Test
    void shouldFlipLoneSynAckWhenItsPeerAnswers()
    {
        // No likely server port, so the SYN+ACK's sender starts as originator ("H"); the peer's ACK shows it was
        // the responder: Zeek rewrites the history to "^h" and adds the ACK in the new roles.
        tracker.onSegment(segment(0, SERVER_IP, 40000, CLIENT_IP, 50000, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0));
        tracker.onSegment(segment(MS, CLIENT_IP, 50000, SERVER_IP, 40000, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0));
        final Ended c = only();
        assertEquals(CLIENT_IP, c.origLow());
        assertEquals(50000, c.origPort());
        assertEquals("^hA", c.history());
    }

    @Test
    void shouldNotLetSynAckOverrideSynDecision()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        client(1, SYN | ACK, CLIENT_ISN, SERVER_ISN + 1, 0);
        final Ended c = only();
        assertClientIsOriginator(c);
    }

    @Test
    void shouldNotFlipWhenDataPrecedesTheSynAck()
    {
        client(0, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 10);
        server(1, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        final Ended c = only();
        assertClientIsOriginator(c);
        assertEquals("Dh", c.history());
    }

    // ================================================================ port reuse

    @Test
    void shouldStartNewConnectionWhenSynWithNewSeqReusesPorts()
    {
        handshake(0);
        client(30, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 10);
        client(1000, SYN, 0x0000_7777, 0, 0);

        assertEquals(1, ended.size(), "the old connection is emitted when the new SYN arrives");
        final Ended old = ended.get(0);
        assertAll(
            () -> assertEquals(EndReason.REUSED, old.reason()),
            () -> assertFalse(old.reusedPorts()),
            () -> assertEquals(0, old.generation()),
            () -> assertEquals(3, old.orig().packets()),
            () -> assertEquals(30 * MS, old.lastNanos()));

        server(1010, SYN | ACK, 0x0000_8888, 0x0000_7778, 0);
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(2, ended.size());
        final Ended successor = ended.get(1);
        assertClientIsOriginator(successor);
        assertAll(
            () -> assertTrue(successor.reusedPorts()),
            () -> assertEquals(1, successor.generation()),
            () -> assertEquals(EndReason.END_OF_INPUT, successor.reason()),
            () -> assertEquals(0x7777L, successor.orig().isn()),
            () -> assertEquals(0x8888L, successor.resp().isn()),
            () -> assertEquals(1, successor.orig().packets()),
            () -> assertEquals(1, successor.resp().packets()),
            () -> assertEquals(1000 * MS, successor.firstNanos()));
        assertEquals(2, tracker.connectionsCreated());
        assertEquals(1, tracker.connectionsReused());
    }

    @Test
    void shouldKeepFinEndReasonWhenClosedConnectionIsReused()
    {
        handshake(0);
        client(30, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        server(40, FIN | ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 0);
        client(50, ACK, CLIENT_ISN + 2, SERVER_ISN + 2, 0);
        client(5000, SYN, CLIENT_ISN + 100_000, 0, 0);
        assertEquals(1, ended.size());
        assertEquals(EndReason.FIN, ended.get(0).reason());
        assertEquals(1, tracker.activeConnections());
    }

    @Test
    void shouldStartNewConnectionWhenOtherSideSendsSynWithNewSeq()
    {
        handshake(0);
        server(100, SYN, 0x0BAD_0000, 0, 0);
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(2, ended.size());
        assertEquals(EndReason.REUSED, ended.get(0).reason());
        assertServerIsOriginator(ended.get(1));
        assertTrue(ended.get(1).reusedPorts());
    }

    @Test
    void shouldNotSplitOnRetransmittedSyn()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        client(1000, SYN, CLIENT_ISN, 0, 0);
        client(3000, SYN, CLIENT_ISN, 0, 0);
        final Ended c = only();
        assertEquals(3, c.orig().syn());
        assertEquals(3, c.orig().packets());
        assertEquals(1, tracker.connectionsCreated());
    }

    @Test
    void shouldNotSplitOnSynRetransmittedAfterFin()
    {
        handshake(0);
        client(30, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        server(40, FIN | ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 0);
        client(50, ACK, CLIENT_ISN + 2, SERVER_ISN + 2, 0);
        client(60, SYN, CLIENT_ISN, 0, 0);
        final Ended c = only();
        assertAll(
            () -> assertEquals(EndReason.FIN, c.reason()),
            () -> assertEquals(2, c.orig().syn()),
            () -> assertEquals(5, c.orig().packets()),
            () -> assertFalse(c.reusedPorts()));
        assertEquals(0, tracker.connectionsReused());
    }

    @Test
    void shouldNotSplitOnSynRetransmittedAfterRst()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        server(1, RST | ACK, 0, CLIENT_ISN + 1, 0);
        client(1000, SYN, CLIENT_ISN, 0, 0);
        final Ended c = only();
        assertAll(
            () -> assertEquals(EndReason.RST, c.reason()),
            () -> assertEquals(2, c.orig().syn()),
            () -> assertEquals(1, c.resp().rst()),
            () -> assertEquals(2, c.orig().packets()));
        assertEquals(1, tracker.connectionsCreated());
    }

    @Test
    void shouldNotSplitOnSynAckWithDifferentSeq()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        server(10, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        server(20, SYN | ACK, SERVER_ISN + 5000, CLIENT_ISN + 1, 0);
        client(30, ACK, CLIENT_ISN + 1, SERVER_ISN + 5001, 0);
        final Ended c = only();
        assertAll(
            () -> assertEquals(2, c.resp().syn()),
            () -> assertEquals(2, c.resp().packets()),
            () -> assertEquals(0x1000_0000L, c.resp().isn(), "the ISN is the first SYN's"),
            () -> assertFalse(c.reusedPorts()));
        assertEquals(1, tracker.connectionsCreated());
    }

    @Test
    void shouldEstablishServerWhenClientAcksSecondSynAckWithNewSeq()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        server(10, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        server(20, SYN | ACK, SERVER_ISN + 5000, CLIENT_ISN + 1, 0);
        client(30, ACK, CLIENT_ISN + 1, SERVER_ISN + 5001, 0);
        final Ended c = only();
        assertEquals(TcpState.ESTABLISHED, c.orig().state());
        assertEquals(TcpState.ESTABLISHED, c.resp().state());
    }

    @Test
    void shouldEstablishServerWhenClientAckCoversSynAndData()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        server(10, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        server(30, PSH | ACK, SERVER_ISN + 1, CLIENT_ISN + 1, 20);
        client(40, ACK, CLIENT_ISN + 1, SERVER_ISN + 21, 0);
        final Ended c = only();
        assertEquals(TcpState.ESTABLISHED, c.resp().state());
    }

    @Test
    void shouldNotSetSequenceBaseFromFirstFragment()
    {
        final DecodedPacket fragment = segment(0, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, SYN, CLIENT_ISN, 0,
            0);
        fragment.ipFragmented = true;
        tracker.onSegment(fragment);
        client(10, SYN, CLIENT_ISN + 1000, 0, 0);
        final Ended c = only();
        assertEquals(2, c.orig().syn());
        assertEquals(0xF000_0000L, c.orig().isn(), "the ISN still comes from the first SYN");
        assertEquals(1, tracker.connectionsCreated());
    }

    @Test
    void shouldSplitOnSynWhoseSeqDiffersFromBaseSetBySynAck()
    {
        // The SYN+ACK's ack sets the client's base to ISN; a SYN with another seq is a new connection.
        server(0, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(10, SYN, CLIENT_ISN + 99, 0, 0);
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(2, ended.size());
        assertEquals(EndReason.REUSED, ended.get(0).reason());
        assertTrue(ended.get(1).reusedPorts());
    }

    // ================================================================ initial RTT

    @Test
    void shouldMeasureInitialRttFromLastSynToFirstAck()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        client(1000, SYN, CLIENT_ISN, 0, 0);
        server(1010, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(1030, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        client(1040, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 10);
        assertEquals(30 * MS, only().initialRttNanos());
    }

    @Test
    void shouldNotMeasureInitialRttWithoutSyn()
    {
        server(0, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(10, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        assertEquals(-1, only().initialRttNanos());
    }

    @Test
    void shouldNotMeasureInitialRttBeforeAnyAck()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        server(10, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        assertEquals(-1, only().initialRttNanos());
    }

    @Test
    void shouldKeepFirstInitialRttMeasurement()
    {
        handshake(0);
        client(100, SYN, CLIENT_ISN, 0, 0); // retransmitted SYN after the handshake
        client(150, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        assertEquals(25 * MS, only().initialRttNanos());
    }

    // ================================================================ identity and finish

    @Test
    void shouldEmitOpenConnectionsOldestFirstAtFinish()
    {
        final int count = 200;
        for (int i = 0; i < count; i++)
        {
            tracker.onSegment(segment(i * MS, CLIENT_IP, 1024 + i * 7, SERVER_IP, SERVER_PORT, SYN, i, 0, 0));
        }
        for (int i = 0; i < count; i++)
        {
            tracker.onSegment(segment((count + i) * MS, SERVER_IP, SERVER_PORT, CLIENT_IP, 1024 + (count - 1 - i) * 7,
                SYN | ACK, 5000 + i, count - i, 0));
        }
        assertEquals(count, tracker.activeConnections());
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(count, ended.size());
        for (int i = 0; i < count; i++)
        {
            final Ended c = ended.get(i);
            assertEquals(i * MS, c.firstNanos(), "position " + i);
            assertEquals(1024 + i * 7, c.origPort());
            assertEquals(EndReason.END_OF_INPUT, c.reason());
            assertEquals(1, c.orig().packets());
            assertEquals(1, c.resp().packets());
        }
        assertEquals(0, tracker.activeConnections());
    }

    /** Found by TcpEngineFuzzTest: Long.MAX_VALUE is also the empty timer queue's instant, so it popped nothing. */
    @Test
    void shouldTrackSegmentsStampedAtTheLastRepresentableInstant()
    {
        for (final FlowLimits limits : List.of(FlowLimits.UNBOUNDED, FlowLimits.builder().maxFlows(2).build()))
        {
            final List<Ended> records = new ArrayList<>();
            final ConnectionTracker zeek = new ConnectionTracker(4, c -> records.add(Ended.of(c)), Lifecycle.ZEEK,
                ZeekOptions.DEFAULTS, limits);
            zeek.onSegment(segment(Long.MAX_VALUE, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, SYN, CLIENT_ISN, 0,
                0));
            zeek.onSegment(segment(Long.MAX_VALUE, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, SYN | ACK,
                SERVER_ISN, CLIENT_ISN + 1, 0));
            assertEquals(0, zeek.timerCapHits());
            zeek.finish(EndReason.END_OF_INPUT);
            assertEquals(zeek.connectionsCreated(), records.size(), "one record per connection");
            assertEquals(2, records.stream().mapToLong(r -> r.orig().packets() + r.resp().packets()).sum());
        }
    }

    @Test
    void shouldKeepCloseReasonAndUseGivenReasonForOthersAtFinish()
    {
        handshake(0);
        client(30, RST, CLIENT_ISN + 1, 0, 0);
        tracker.onSegment(segment(40 * MS, CLIENT_IP, 60000, SERVER_IP, SERVER_PORT, SYN, 1, 0, 0));
        tracker.finish(EndReason.SHUTDOWN);
        assertEquals(2, ended.size());
        assertEquals(EndReason.RST, ended.get(0).reason());
        assertEquals(EndReason.SHUTDOWN, ended.get(1).reason());
    }

    @Test
    void shouldEmitNothingBeforeFinishWhileNoPortIsReused()
    {
        handshake(0);
        client(30, FIN | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        server(40, FIN | ACK, SERVER_ISN + 1, CLIENT_ISN + 2, 0);
        assertTrue(ended.isEmpty());
        assertEquals(1, tracker.activeConnections());
    }

    @Test
    void shouldStartAfreshAfterFinish()
    {
        handshake(0);
        tracker.finish(EndReason.END_OF_INPUT);
        client(100, SYN, CLIENT_ISN, 0, 0);
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(2, ended.size());
        assertEquals(1, ended.get(1).orig().packets());
        assertFalse(ended.get(1).reusedPorts());
    }

    @Test
    void shouldKeepConnectionsOfDifferentTunnelsApart()
    {
        for (final int tunnel : new int[] {-1, 100, 200})
        {
            final DecodedPacket p = segment(tunnel + 1000, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, SYN,
                CLIENT_ISN, 0, 0);
            p.tunnelId = tunnel;
            tracker.onSegment(p);
        }
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(3, ended.size());
        assertEquals(-1, ended.get(0).tunnelId());
        assertEquals(100, ended.get(1).tunnelId());
        assertEquals(200, ended.get(2).tunnelId());
        assertTrue(ended.stream().noneMatch(Ended::reusedPorts));
    }

    @Test
    void shouldKeepIpv4AndIpv6WithEqualLowBitsApart()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        final DecodedPacket v6 = segment(MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, SYN, CLIENT_ISN + 1, 0, 0);
        v6.ipVersion = 6;
        tracker.onSegment(v6);
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(2, ended.size());
        assertEquals(4, ended.get(0).ipVersion());
        assertEquals(6, ended.get(1).ipVersion());
        assertFalse(ended.get(1).reusedPorts());
    }

    @Test
    void shouldMatchIpv6PacketsOnBothAddressHalves()
    {
        final long clientHigh = 0x2001_0DB8_0000_0000L;
        final long serverHigh = 0xFD00_0000_0000_0001L;
        final DecodedPacket syn = segment(0, 1, CLIENT_PORT, 2, SERVER_PORT, SYN, CLIENT_ISN, 0, 0);
        syn.ipVersion = 6;
        syn.srcHigh = clientHigh;
        syn.dstHigh = serverHigh;
        final DecodedPacket synAck = segment(MS, 2, SERVER_PORT, 1, CLIENT_PORT, SYN | ACK, SERVER_ISN,
            CLIENT_ISN + 1, 0);
        synAck.ipVersion = 6;
        synAck.srcHigh = serverHigh;
        synAck.dstHigh = clientHigh;
        final DecodedPacket otherHigh = segment(2 * MS, 2, SERVER_PORT, 1, CLIENT_PORT, SYN | ACK, SERVER_ISN,
            CLIENT_ISN + 1, 0);
        otherHigh.ipVersion = 6;
        otherHigh.srcHigh = serverHigh + 1;
        otherHigh.dstHigh = clientHigh;
        tracker.onSegment(syn);
        tracker.onSegment(synAck);
        tracker.onSegment(otherHigh);
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(2, ended.size());
        final Ended c = ended.get(0);
        assertAll(
            () -> assertEquals(clientHigh, c.origHigh()),
            () -> assertEquals(1L, c.origLow()),
            () -> assertEquals(serverHigh, c.respHigh()),
            () -> assertEquals(2L, c.respLow()),
            () -> assertEquals(1, c.orig().packets()),
            () -> assertEquals(1, c.resp().packets()));
    }

    @Test
    void shouldFindEveryConnectionAfterTableGrows()
    {
        final ConnectionTracker small = new ConnectionTracker(1, c -> ended.add(Ended.of(c)));
        final int count = 5000;
        for (int i = 0; i < count; i++)
        {
            small.onSegment(segment(i, CLIENT_IP + i % 50, 1024 + i, SERVER_IP, SERVER_PORT, SYN, i, 0, 0));
        }
        for (int i = 0; i < count; i++)
        {
            small.onSegment(segment(count + i, SERVER_IP, SERVER_PORT, CLIENT_IP + i % 50, 1024 + i, SYN | ACK, -i,
                i + 1, 0));
        }
        assertEquals(count, small.activeConnections());
        assertEquals(count, small.connectionsCreated());
        small.finish(EndReason.END_OF_INPUT);
        assertEquals(count, ended.size());
        for (final Ended c : ended)
        {
            assertEquals(1, c.orig().packets());
            assertEquals(1, c.resp().packets());
        }
    }

    @Test
    void shouldCountSegmentsFlagsStatesAndHandshakeRttLiveAsSegmentsArrive()
    {
        final ConnectionTracker tracker = new ConnectionTracker(4, c -> { }, Lifecycle.ZEEK,
            ZeekOptions.builder().build(), FlowLimits.builder().maxFlows(16).build());
        final List<Long> rtts = new ArrayList<>();
        tracker.onHandshakeRtt(rtts::add);
        final TrafficCounters counters = tracker.counters();
        tracker.onSegment(Segments.ipv4(0, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT,
            SYN, CLIENT_ISN, 0, 0, 1000));
        assertEquals(1, counters.endpoints(TrafficCounters.ORIG, TcpState.SYN_SENT));
        assertEquals(1, tracker.activeConnections(FlowPhase.OPENING));
        tracker.onSegment(Segments.ipv4(3 * MS, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, SYN | ACK, SERVER_ISN,
            CLIENT_ISN + 1, 0, 1000));
        tracker.onSegment(Segments.ipv4(5 * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1,
            SERVER_ISN + 1, 0, 1000));
        assertEquals(List.of(5 * MS), rtts, "last SYN to first ACK, once");
        assertEquals(1, counters.endpoints(TrafficCounters.ORIG, TcpState.ESTABLISHED));
        assertEquals(1, counters.endpoints(TrafficCounters.RESP, TcpState.ESTABLISHED));
        assertEquals(0, counters.endpoints(TrafficCounters.ORIG, TcpState.SYN_SENT));
        tracker.onSegment(Segments.ipv4(6 * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1,
            SERVER_ISN + 1, 100, 1000));
        tracker.onSegment(Segments.ipv4(300 * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1,
            SERVER_ISN + 1, 100, 1000));
        assertAll(
            () -> assertEquals(4, counters.segments(TrafficCounters.ORIG)),
            () -> assertEquals(1, counters.segments(TrafficCounters.RESP)),
            () -> assertEquals(1, counters.analysisEvents(AnalysisFlag.RETRANSMISSION, TrafficCounters.ORIG)),
            () -> assertEquals(0, counters.analysisEvents(AnalysisFlag.RETRANSMISSION, TrafficCounters.RESP)),
            () -> assertEquals(1, tracker.activeConnections(FlowPhase.ESTABLISHED)));
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(0, counters.endpoints(TrafficCounters.ORIG, TcpState.ESTABLISHED));
        assertEquals(0, tracker.activeConnections(FlowPhase.ESTABLISHED));
    }
}
