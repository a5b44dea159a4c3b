package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Interim records: every open connection is reported every interval of packet time from its first packet, with its
 * counts so far; closed, reset and ended connections are not; a jump of the packet clock gives one record, not a
 * burst; and the final records are exactly those of a tracker without interim records.
 */
class InterimRecordsTest
{
    private static final long S = 1_000_000_000L;
    private static final long SERVER = 0xC0A8_0001L;

    /** What a listener saw: the client port (which connection), packet time of the call, and packets so far. */
    record Seen(int port, long atNanos, long packets, EndReason reason)
    {
    }

    @Test
    void shouldReportOpenConnectionsEveryIntervalUntilTheyClose()
    {
        final Recorder withInterims = new Recorder();
        final Recorder without = new Recorder();
        final ConnectionTracker tracker = tracker(withInterims, 10);
        final ConnectionTracker plain = tracker(without, 0);
        for (final DecodedPacket p : traffic())
        {
            withInterims.now = p.timestampNanos;
            tracker.advanceTime(p.timestampNanos);
            tracker.onSegment(p);
            plain.advanceTime(p.timestampNanos);
            plain.onSegment(p);
        }
        tracker.finish(EndReason.END_OF_INPUT);
        plain.finish(EndReason.END_OF_INPUT);

        // Port 1001: open from 0 s to 36 s, a packet every 3 s after the handshake: due at 10, 20 and 30 s, each
        // emitted at the first packet at or after its instant (12, 21, 30 s), with the packets before it; none at
        // 40 s, closed by then. Port 1002: reset at 12.5 s, before its first instant (15 s). Port 1003: open from
        // 1 s and silent: due at 11, 21, 31 s (emitted at 12, 21, 33 s), then the clock jumps from 36 to 100 s:
        // one record then (due 41 s), not six.
        assertEquals(List.of(
            new Seen(1001, 12 * S, 6, null),
            new Seen(1003, 12 * S, 3, null),
            new Seen(1001, 21 * S, 9, null),
            new Seen(1003, 21 * S, 3, null),
            new Seen(1001, 30 * S, 12, null),
            new Seen(1003, 33 * S, 3, null),
            new Seen(1003, 100 * S, 3, null)), withInterims.updates);
        assertEquals(7, tracker.interimRecords());
        assertEquals(without.ends, withInterims.ends, "final records unchanged");
        assertEquals(3, withInterims.ends.size());
        assertEquals(0, plain.interimRecords());
    }

    @Test
    void shouldRefuseANonPositiveInterval()
    {
        final ConnectionTracker tracker = tracker(new Recorder(), 0);
        assertThrows(IllegalArgumentException.class, () -> tracker.emitInterimRecords(0));
    }

    private static ConnectionTracker tracker(final Recorder recorder, final long intervalSeconds)
    {
        final ConnectionTracker tracker = new ConnectionTracker(16, recorder, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
            FlowLimits.UNBOUNDED, false);
        if (intervalSeconds > 0)
        {
            tracker.emitInterimRecords(intervalSeconds * S);
        }
        return tracker;
    }

    private static List<DecodedPacket> traffic()
    {
        final List<DecodedPacket> packets = new ArrayList<>();
        handshake(packets, 0, 1001);
        handshake(packets, S, 1003);
        handshake(packets, 5 * S, 1002);
        for (int second = 3; second <= 33; second += 3)
        {
            packets.add(data(second * S, 1001, second));
        }
        packets.add(data(7 * S, 1002, 0));
        packets.add(segment(12 * S + S / 2, 1002, Tcp.RST, 1001 + 100, 0, 0));
        packets.add(segment(36 * S, 1001, Tcp.FIN | Tcp.ACK, 1001 + 100 * 11, 5001, 0));
        packets.add(segment(36 * S + 1, 1001, Tcp.FIN | Tcp.ACK | 0x1000, 5001, 1001 + 100 * 11 + 1, 0));
        packets.add(segment(36 * S + 2, 1001, Tcp.ACK, 1001 + 100 * 11 + 1, 5002, 0));
        packets.add(segment(100 * S, 1003, Tcp.ACK, 1001, 5001, 0));
        packets.sort((x, y) -> Long.compare(x.timestampNanos, y.timestampNanos));
        return packets;
    }

    private static void handshake(final List<DecodedPacket> packets, final long nanos, final int port)
    {
        packets.add(segment(nanos, port, Tcp.SYN, 1000, 0, 0));
        packets.add(segment(nanos + 1, port, Tcp.SYN | Tcp.ACK | 0x1000, 5000, 1001, 0));
        packets.add(segment(nanos + 2, port, Tcp.ACK, 1001, 5001, 0));
    }

    /** The {@code n}th 100-byte segment from the client. */
    private static DecodedPacket data(final long nanos, final int port, final int n)
    {
        return segment(nanos, port, Tcp.ACK | Tcp.PSH, 1001 + 100 * (n / 3 - 1), 5001, 100);
    }

    /** Flag 0x1000 (not a TCP flag) marks a segment from the server. */
    private static DecodedPacket segment(
        final long nanos, final int port, final int flags, final int seq, final int ack, final int payload)
    {
        final boolean fromServer = (flags & 0x1000) != 0;
        return fromServer ?
            Segments.ipv4(nanos, SERVER, 80, 0x0A00_0000L, port, flags & 0xFFF, seq, ack, payload, 65535) :
            Segments.ipv4(nanos, 0x0A00_0000L, port, SERVER, 80, flags, seq, ack, payload, 65535);
    }

    /** Keeps what it was told, as values (the connections themselves are recycled). */
    private static final class Recorder implements ConnectionListener
    {
        final List<Seen> updates = new ArrayList<>();
        final List<Seen> ends = new ArrayList<>();
        long now;

        @Override
        public void onConnectionEnd(final TcpConnection c)
        {
            ends.add(new Seen(c.originatorPort(), c.lastTimestampNanos(),
                c.originator().packets() + c.responder().packets(), c.endReason()));
        }

        @Override
        public void onConnectionUpdate(final TcpConnection c)
        {
            updates.add(new Seen(c.originatorPort(), now, c.originator().packets() + c.responder().packets(),
                c.endReason()));
        }
    }
}
