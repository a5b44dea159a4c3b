package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.wire.Tcp;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * What the {@link FlowStateCodec} tests share: a connection's bytes and back, a handshaken connection, and what
 * a round trip may leave different. The tests are split into the byte-level format and corrupt input
 * ({@code FlowStateCodecTest}), the walk of every field ({@code FlowStateFieldWalkTest}) and the restore of
 * checkpointed trackers that must continue as if never stopped ({@code FlowStateRestoreTest}).
 */
final class CodecTestSupport
{
    /** Fields that legitimately differ after a round trip: the tracker's queue entry and the shared options. */
    static final String[] NOT_ENCODED = {"TcpConnection.scheduledTimerNanos", "ZeekSummary.options"};
    /** A walk that sees fewer fields than this did not walk the tree. */
    static final int MIN_FIELDS = 100;

    private CodecTestSupport()
    {
    }

    static byte[] encode(final TcpConnection connection)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES);
        final int written = FlowStateCodec.encode(connection, buffer);
        assertEquals(FlowStateCodec.MAX_ENCODED_BYTES, written);
        return buffer.array();
    }

    static TcpConnection decode(final byte[] bytes)
    {
        final TcpConnection connection = new TcpConnection();
        FlowStateCodec.decode(ByteBuffer.wrap(bytes), connection);
        return connection;
    }

    /** A connection after a handshake and some data, not in any tracker any more. */
    static TcpConnection handshaken()
    {
        final List<TcpConnection> ended = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(4, ended::add);
        final int[][] packets = {
            {1, Tcp.SYN, 1000, 0, 0}, {0, Tcp.SYN | Tcp.ACK, 5000, 1001, 0}, {1, Tcp.ACK, 1001, 5001, 0},
            {1, Tcp.ACK | Tcp.PSH, 1001, 5001, 100}, {0, Tcp.ACK, 5001, 1101, 0}};
        long nanos = 1_000_000_000L;
        for (final int[] s : packets)
        {
            final DecodedPacket p = new DecodedPacket();
            p.resetDecodedFields();
            p.timestampNanos = nanos += 1_000_000L;
            p.ipVersion = 4;
            p.srcLow = s[0] == 1 ? 1 : 2;
            p.dstLow = s[0] == 1 ? 2 : 1;
            p.srcPort = s[0] == 1 ? 40_000 : 80;
            p.dstPort = s[0] == 1 ? 80 : 40_000;
            p.flags = s[1];
            p.seq = s[2];
            p.ack = s[3];
            p.payloadLength = s[4];
            p.capturedPayloadLength = s[4];
            p.window = 65535;
            p.mss = 1460;
            p.tcpHeaderLength = 20;
            p.tcpHeaderComplete = true;
            p.ipLength = 40 + s[4];
            p.tcpCapturedLength = 20 + s[4];
            tracker.onSegment(p);
        }
        tracker.finish(EndReason.END_OF_INPUT);
        return ended.get(0);
    }
}
