package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Connection identity and finish: what tells connections apart (tunnel, IP version, both IPv6 address halves),
 * finding every connection after the table grows, timestamps at the last instant, and what {@code finish} emits:
 * open connections oldest first, close reasons kept, nothing before it while no port is reused, a fresh start.
 */
class ConnectionTrackerTest extends ConnectionTrackerTestSupport
{
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
}
