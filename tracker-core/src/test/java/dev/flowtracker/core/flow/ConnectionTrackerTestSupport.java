package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;

import java.util.ArrayList;
import java.util.List;

/**
 * What the {@link ConnectionTracker} tests share: one client and one server (ISNs above 2^31), a tracker with
 * tshark's stream rules per test and the records it emitted, copied as values ({@link Ended}), and the helpers
 * that send a segment from either side, run a handshake, and pick the one record or check who is the originator.
 * The tests are split by theme: states and close, originator rules, port reuse, initial RTT, identity and finish.
 */
abstract class ConnectionTrackerTestSupport
{
    static final long CLIENT_IP = 0x0A00_0001L;
    static final long SERVER_IP = 0xC0A8_0102L;
    static final int CLIENT_PORT = 51000;
    static final int SERVER_PORT = 80;
    /** ISNs above 2^31 check that {@link TcpEndpoint#isn()} is unsigned. */
    static final int CLIENT_ISN = 0xF000_0000;
    static final int SERVER_ISN = 0x1000_0000;
    static final long MS = 1_000_000L;

    static final int SYN = Tcp.SYN;
    static final int ACK = Tcp.ACK;
    static final int FIN = Tcp.FIN;
    static final int RST = Tcp.RST;
    static final int PSH = Tcp.PSH;

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

    final List<Ended> ended = new ArrayList<>();
    /** tshark's stream rules: these tests pin connection identity the way tcp.stream defines it. */
    final ConnectionTracker tracker =
        new ConnectionTracker(16, c -> ended.add(Ended.of(c)), Lifecycle.TSHARK, ZeekOptions.DEFAULTS);

    // ================================================================ helpers

    static DecodedPacket segment(
        final long nanos, final long srcIp, final int srcPort, final long dstIp, final int dstPort,
        final int flags, final int seq, final int ack, final int payload)
    {
        return Segments.ipv4(nanos, srcIp, srcPort, dstIp, dstPort, flags, seq, ack, payload, 65535);
    }

    void client(final long ms, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(segment(ms * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, flags, seq, ack, payload));
    }

    void server(final long ms, final int flags, final int seq, final int ack, final int payload)
    {
        tracker.onSegment(segment(ms * MS, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, flags, seq, ack, payload));
    }

    /** SYN at t, SYN+ACK at t+10 ms, ACK at t+25 ms. */
    void handshake(final long ms)
    {
        client(ms, SYN, CLIENT_ISN, 0, 0);
        server(ms + 10, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(ms + 25, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
    }

    Ended only()
    {
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(1, ended.size(), () -> "connections: " + ended);
        return ended.get(0);
    }

    static void assertClientIsOriginator(final Ended c)
    {
        assertAll(
            () -> assertEquals(CLIENT_IP, c.origLow()),
            () -> assertEquals(CLIENT_PORT, c.origPort()),
            () -> assertEquals(SERVER_IP, c.respLow()),
            () -> assertEquals(SERVER_PORT, c.respPort()));
    }

    static void assertServerIsOriginator(final Ended c)
    {
        assertAll(
            () -> assertEquals(SERVER_IP, c.origLow()),
            () -> assertEquals(SERVER_PORT, c.origPort()),
            () -> assertEquals(CLIENT_IP, c.respLow()),
            () -> assertEquals(CLIENT_PORT, c.respPort()));
    }
}
