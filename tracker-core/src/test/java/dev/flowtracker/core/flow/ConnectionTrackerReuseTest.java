package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpState;

import org.junit.jupiter.api.Test;

/**
 * Port reuse: a SYN with a new sequence number from either side ends the connection and starts its successor;
 * retransmitted SYNs (also after FIN or RST), SYN+ACKs with another sequence number and fragments do not split.
 */
class ConnectionTrackerReuseTest extends ConnectionTrackerTestSupport
{
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
}
