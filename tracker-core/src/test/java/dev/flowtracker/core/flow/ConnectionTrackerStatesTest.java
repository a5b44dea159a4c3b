package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import org.junit.jupiter.api.Test;

/**
 * Open and close: the RFC 793 states of both endpoints through the handshake, FIN and RST closes, half-close,
 * connections picked up mid-stream and simultaneous open, with the counts and end reason each record carries.
 */
class ConnectionTrackerStatesTest extends ConnectionTrackerTestSupport
{
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
}
