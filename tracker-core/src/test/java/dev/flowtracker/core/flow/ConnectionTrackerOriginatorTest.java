package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.Test;

/**
 * Who is the originator (Zeek's rules): the first SYN's sender, flips at creation towards a likely server port,
 * a lone SYN+ACK flipped when its peer answers, and the cases that must not flip; with the history they leave.
 */
class ConnectionTrackerOriginatorTest extends ConnectionTrackerTestSupport
{
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
}
