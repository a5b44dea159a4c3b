package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.Segments;
import dev.flowtracker.core.wire.Tcp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class EndpointExtrasTest
{
    private static final long CLIENT = 0x0A000001L;
    private static final long SERVER = 0x0A000002L;
    private static final long MS = 1_000_000L;

    private final List<TcpConnection> ended = new ArrayList<>();
    private final ConnectionTracker tracker = new ConnectionTracker(16, ended::add);

    private DecodedPacket segment(final long nanos, final boolean fromClient, final int flags, final int seq,
        final int ack, final int payload, final int window)
    {
        return fromClient ? Segments.ipv4(nanos, CLIENT, 40000, SERVER, 80, flags, seq, ack, payload, window) :
            Segments.ipv4(nanos, SERVER, 80, CLIENT, 40000, flags, seq, ack, payload, window);
    }

    private TcpConnection finish()
    {
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(1, ended.size());
        return ended.getFirst();
    }

    private void handshake(final int clientIsn, final int serverIsn)
    {
        final DecodedPacket syn = segment(0, true, Tcp.SYN, clientIsn, 0, 0, 65535);
        syn.mss = 1460;
        syn.sackPermitted = true;
        syn.hasTimestamps = true;
        syn.windowScale = 7;
        tracker.onSegment(syn);
        final DecodedPacket synAck = segment(10 * MS, false, Tcp.SYN | Tcp.ACK, serverIsn, clientIsn + 1, 0, 65535);
        synAck.mss = 1400;
        tracker.onSegment(synAck);
        tracker.onSegment(segment(20 * MS, true, Tcp.ACK, clientIsn + 1, serverIsn + 1, 0, 65535));
    }

    @Test
    void shouldRecordOptionsNegotiatedOnTheSyns()
    {
        handshake(1000, 5000);
        final TcpConnection c = finish();
        assertEquals(1460, c.originator().mss());
        assertTrue(c.originator().sackPermitted());
        assertTrue(c.originator().timestampsOffered());
        assertEquals(1400, c.responder().mss());
        assertEquals(-1, c.responder().windowScale(), "scaling needs both SYNs to offer it");
    }

    @Test
    void shouldTakeAnRttSampleWhenAckCoversASegmentExactly()
    {
        handshake(1000, 5000);
        tracker.onSegment(segment(30 * MS, true, Tcp.ACK | Tcp.PSH, 1001, 5001, 100, 65535));
        tracker.onSegment(segment(45 * MS, false, Tcp.ACK, 5001, 1101, 0, 65535));
        final TcpConnection c = finish();
        // The SYN is acknowledged by the SYN+ACK (10 ms), the data by the ACK (15 ms).
        assertEquals(2, c.originator().rttSamples());
        assertEquals(10 * MS, c.originator().rttMinNanos());
        assertEquals(15 * MS, c.originator().rttMaxNanos());
        assertEquals(1, c.responder().rttSamples(), "the SYN+ACK, acknowledged by the handshake ACK");
    }

    /** Found by TcpEngineFuzzTest in CI: RTTs near 2^62 ns overflowed the sum, so the mean fell below the minimum. */
    @Test
    void shouldKeepTheRttMeanBetweenMinAndMaxWhateverTheTimestamps()
    {
        final TcpEndpoint huge = new TcpEndpoint();
        huge.rememberSegmentEnd(100, 0);
        huge.sampleRtt(100, Long.MAX_VALUE - 1);
        huge.rememberSegmentEnd(200, 0);
        huge.sampleRtt(200, Long.MAX_VALUE - 3);
        assertEquals(2, huge.rttSamples());
        assertTrue(huge.rttMinNanos() <= huge.rttMeanNanos() && huge.rttMeanNanos() <= huge.rttMaxNanos(),
            huge.rttMinNanos() + " <= " + huge.rttMeanNanos() + " <= " + huge.rttMaxNanos());

        final TcpEndpoint pastTwoToThe63 = new TcpEndpoint();
        pastTwoToThe63.rememberSegmentEnd(100, Long.MIN_VALUE);
        pastTwoToThe63.sampleRtt(100, 1);
        assertEquals(0, pastTwoToThe63.rttSamples(), "a difference past 2^63 ns is no RTT");

        final TcpEndpoint ordinary = new TcpEndpoint();
        ordinary.rememberSegmentEnd(100, 0);
        ordinary.sampleRtt(100, 10 * MS);
        ordinary.rememberSegmentEnd(200, 20 * MS);
        ordinary.sampleRtt(200, 50 * MS);
        assertEquals(20 * MS, ordinary.rttMeanNanos(), "the mean is exact when nothing saturates");
    }

    @Test
    void shouldCountSequenceSpaceBeyondFourGibibytesAcrossTheWrap()
    {
        handshake(0xFFFF_0000, 5000);
        int seq = 0xFFFF_0001;
        long nanos = 30 * MS;
        final int chunk = 60_000;
        final long chunks = (5L << 30) / chunk; // more than 4 GiB of payload
        for (long i = 0; i < chunks; i++)
        {
            tracker.onSegment(segment(nanos, true, Tcp.ACK, seq, 5001, chunk, 65535));
            seq += chunk;
            nanos += 1000;
        }
        final TcpConnection c = finish();
        assertEquals(chunks * chunk, c.originator().sequenceSpace());
        assertEquals(chunks * chunk, c.originator().payloadBytes());
        assertTrue(c.originator().sequenceSpace() > (4L << 30));
    }

    @Test
    void shouldFlagRstOutsideTheReceiversWindowAsLikelyInjected()
    {
        handshake(1000, 5000);
        // Server window 65535 from ack 1001: a RST from the client far away is out of window.
        tracker.onSegment(segment(30 * MS, true, Tcp.RST, 1001 + 1_000_000, 0, 0, 0));
        final TcpConnection c = finish();
        assertEquals(1, c.originator().rstOutsideWindow());
    }

    @Test
    void shouldAcceptRstInsideTheWindow()
    {
        handshake(1000, 5000);
        tracker.onSegment(segment(30 * MS, true, Tcp.RST, 1001, 0, 0, 0));
        assertEquals(0, finish().originator().rstOutsideWindow());
    }

    @Test
    void shouldCountDataBeyondTheWindowAndDataAfterRst()
    {
        handshake(1000, 5000);
        tracker.onSegment(segment(30 * MS, true, Tcp.ACK, 1001 + 200_000, 5001, 100, 65535));
        tracker.onSegment(segment(40 * MS, false, Tcp.RST | Tcp.ACK, 5001, 1001, 0, 0));
        tracker.onSegment(segment(50 * MS, true, Tcp.ACK, 1001, 5001, 50, 65535));
        final TcpConnection c = finish();
        assertEquals(1, c.originator().outsideWindow());
        assertEquals(1, c.originator().dataAfterRst());
        assertEquals(0, c.responder().dataAfterRst());
    }

    @Test
    void shouldTrackTheLargestBytesInFlight()
    {
        handshake(1000, 5000);
        tracker.onSegment(segment(30 * MS, true, Tcp.ACK, 1001, 5001, 1000, 65535));
        tracker.onSegment(segment(31 * MS, true, Tcp.ACK, 2001, 5001, 1000, 65535));
        tracker.onSegment(segment(40 * MS, false, Tcp.ACK, 5001, 3001, 0, 65535));
        tracker.onSegment(segment(41 * MS, true, Tcp.ACK, 3001, 5001, 500, 65535));
        assertEquals(2000, finish().originator().maxBytesInFlight());
    }
}
