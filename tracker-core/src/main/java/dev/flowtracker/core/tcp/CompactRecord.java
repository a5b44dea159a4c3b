package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.state.CompactWidths;
import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.tcp.zeek.ZeekCompact;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * The compact form of one connection's whole state, the body of its {@code FlowStateStore} record: every field of
 * the tree that {@link TcpConnection#encode} writes ({@code FlowStateCodec}'s wide form, which checkpoints keep), each
 * in the width its values take on real traffic, so that a decoded connection equals the original field for field.
 * A value that does not fit its width is never cut or saturated: {@link #encode} says so, and the store keeps that
 * connection in the wide form instead ({@code FlowStateStore}'s spilled records). Little-endian, hot fields first:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |             Side A's address, high and low 64 bits            |
 *  +                             (16)                              +
 *  +---------------------------------------------------------------+
 *  |             Side B's address, high and low 64 bits            |
 *  +                             (16)                              +
 *  +---------------------------------------------------------------+
 *  |     firstTimestampNanos (8), base of the instants near it     |
 *  +---------------------------------------------------------------+
 *  |      lastTimestampNanos (8), base of the other instants       |
 *  +---------------------------------------------------------------+
 *  |                         generation (8)                        |
 *  +---------------------------------------------------------------+
 *  |                           tunnelId                            |
 *  +---------------------------------------------------------------+
 *  |                             hash                              |
 *  +-------------------------------+-------------------------------+
 *  |          Side A port          |          Side B port          |
 *  +---------------+---------------+---------------+---------------+
 *  |   ipVersion   |  flags (3)    |   endReason   |
 *  +---------------+---------------+---------------+
 *  |  the rest of TcpConnection (20), TcpEndpoint a and b (227 each),
 *  |  ZeekSummary (307: its own 14, ZeekEndpoint a and b (109 each),
 *  |  ZeekHistory 33, ZeekTimers 42)                            ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Widths, and what does not fit them (the connection is then spilled, see above):
 * <ul>
 * <li>Instants (packet times, Zeek timer deadlines, the idle clock): signed 48-bit nanosecond offsets from
 *     {@code lastTimestampNanos} (from {@code firstTimestampNanos} for the last SYN and Zeek's start), so within
 *     about 39 hours of it. {@link Long#MAX_VALUE} (no timer, no RTT yet) and 0 (not set) have codes of their own.
 *     Durations (RTTs, the inactivity timeout) signed 48-bit nanoseconds; the RTT sum stays 64-bit.</li>
 * <li>Counts of segments, SYNs, FINs, RSTs, analysis flags, security signals, wraps and scaled history letters:
 *     unsigned 16-bit up to 65,535; packets, RTT samples and missed bytes unsigned 32-bit; byte counts and
 *     sequence space unsigned 48-bit (256 TiB).</li>
 * <li>Relative sequence numbers of Zeek's model (FIN, history marks, reassembly points and blocks) and the largest
 *     bytes in flight: signed 32-bit. Wire sequence numbers stay 32-bit, Zeek's start sequence unsigned 32-bit.</li>
 * <li>Windows, MSS: their 16 wire bits, with a bit for "not seen yet" (-1); the window scale a signed byte; ports
 *     16-bit; booleans, states and small bounded fields packed into bits and bytes; Zeek's scaled-letter thresholds
 *     as powers of ten (4 bits each); the {@value ZeekSummary#MAX_HISTORY} history letters 5 bits each, over the
 *     26 letters Zeek's history can hold (and 0 for a slot not yet used).</li>
 * </ul>
 *
 * <p>Owned by the thread of the store that holds it; {@link #encode} and {@link #decode} allocate nothing.
 *
 * <p>Public for {@code dev.flowtracker.core.flow}.
 */
public final class CompactRecord extends CompactWidths
{
    static final int A_HIGH_OFFSET = 0;
    static final int A_LOW_OFFSET = 8;
    static final int B_HIGH_OFFSET = 16;
    static final int B_LOW_OFFSET = 24;
    static final int FIRST_TIMESTAMP_OFFSET = 32;
    static final int GENERATION_OFFSET = 48;
    static final int TUNNEL_ID_OFFSET = 56;
    static final int A_PORT_OFFSET = 64;
    static final int B_PORT_OFFSET = 66;
    static final int IP_VERSION_OFFSET = 68;

    private static final int CONNECTION_BYTES = 91;
    private static final int ENDPOINT_BYTES = 227;
    private static final int ZEEK_ENDPOINT_BYTES = 109;
    private static final int ZEEK_BYTES = 14 + 2 * ZEEK_ENDPOINT_BYTES + 33 + 42;
    /** Bytes {@link #encode} writes. Public for {@code dev.flowtracker.core.flow}. */
    public static final int BYTES = CONNECTION_BYTES + 2 * ENDPOINT_BYTES + ZEEK_BYTES;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LONG =
        ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfChar CHAR =
        ValueLayout.JAVA_CHAR_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);


    private static final TcpState[] STATES = TcpState.values();
    private static final EndReason[] END_REASONS = EndReason.values();

    private final ZeekCompact zeekCompact = new ZeekCompact();
    private long firstNanos;
    private long lastNanos;

    /**
     * Writes {@code c} at {@code dst}'s position, which moves {@link #BYTES} on.
     *
     * @return whether every value fitted its width; if not, the bytes written hold only the identity, times and
     *     generation that {@link #encodedMatches} and the other direct readers read (they always fit), and the
     *     connection must be kept in its wide form.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public boolean encode(final TcpConnection c, final StateBuffer dst)
    {
        final int start = dst.position();
        buf = dst;
        fits = true;
        firstNanos = c.firstTimestampNanos();
        lastNanos = c.lastTimestampNanos();
        writeConnection(c);
        writeEndpoint(c.a);
        writeEndpoint(c.b);
        fits &= zeekCompact.write(c.zeek, dst, firstNanos, lastNanos);
        buf = null;
        if (dst.position() - start != BYTES)
        {
            throw new IllegalStateException("compact record took " + (dst.position() - start) + " bytes, not " +
                BYTES);
        }
        return fits;
    }

    /**
     * Reads what {@link #encode} wrote (when it returned true) into {@code c}, every encoded field assigned.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void decode(final StateBuffer src, final TcpConnection c)
    {
        buf = src;
        readConnection(c);
        readEndpoint(c.a);
        readEndpoint(c.b);
        zeekCompact.read(c.zeek, src, firstNanos, lastNanos);
        buf = null;
    }

    /** {@link TcpConnection#matches} on a record at {@code offset}. Public for {@code dev.flowtracker.core.flow}. */
    public static boolean encodedMatches(final MemorySegment record, final long offset, final DecodedPacket p)
    {
        if (p.tunnelId != record.get(INT, offset + TUNNEL_ID_OFFSET) ||
            p.ipVersion != (record.get(ValueLayout.JAVA_BYTE, offset + IP_VERSION_OFFSET) & 0xFF))
        {
            return false;
        }
        final long aHigh = record.get(LONG, offset + A_HIGH_OFFSET);
        final long aLow = record.get(LONG, offset + A_LOW_OFFSET);
        final int aPort = record.get(CHAR, offset + A_PORT_OFFSET);
        final long bHigh = record.get(LONG, offset + B_HIGH_OFFSET);
        final long bLow = record.get(LONG, offset + B_LOW_OFFSET);
        final int bPort = record.get(CHAR, offset + B_PORT_OFFSET);
        return p.srcPort == aPort && p.dstPort == bPort && p.srcLow == aLow && p.dstLow == bLow &&
            p.srcHigh == aHigh && p.dstHigh == bHigh ||
            p.srcPort == bPort && p.dstPort == aPort && p.srcLow == bLow && p.dstLow == aLow &&
            p.srcHigh == bHigh && p.dstHigh == aHigh;
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public static long encodedFirstTimestampNanos(final MemorySegment record, final long offset)
    {
        return record.get(LONG, offset + FIRST_TIMESTAMP_OFFSET);
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public static long encodedGeneration(final MemorySegment record, final long offset)
    {
        return record.get(LONG, offset + GENERATION_OFFSET);
    }

    // ================================================================ TcpConnection

    private void writeConnection(final TcpConnection c)
    {
        buf.putLong(c.aHigh());
        buf.putLong(c.aLow());
        buf.putLong(c.bHigh());
        buf.putLong(c.bLow());
        buf.putLong(c.firstTimestampNanos());
        buf.putLong(c.lastTimestampNanos());
        buf.putLong(c.generation());
        buf.putInt(c.tunnelId());
        buf.putInt(c.hash());
        u16(c.aPort());
        u16(c.bPort());
        u8(c.ipVersion());
        buf.put((byte)(bit(c.reusedPorts(), 0) | bit(c.lastSynSeen(), 1) | bit(c.initialRttSeen(), 2)));
        buf.put(c.endReason() == null ? (byte)-1 : (byte)c.endReason().ordinal());
        instant(c.idleSinceNanos(), lastNanos);
        u16(c.pendingFlags());
        instant(c.lastSynNanos(), firstNanos);
        duration(c.rawInitialRttNanos());
    }

    private void readConnection(final TcpConnection c)
    {
        c.aHigh(buf.getLong());
        c.aLow(buf.getLong());
        c.bHigh(buf.getLong());
        c.bLow(buf.getLong());
        c.firstTimestampNanos(buf.getLong());
        c.lastTimestampNanos(buf.getLong());
        c.generation(buf.getLong());
        firstNanos = c.firstTimestampNanos();
        lastNanos = c.lastTimestampNanos();
        c.tunnelId(buf.getInt());
        c.hash(buf.getInt());
        c.aPort(u16());
        c.bPort(u16());
        c.ipVersion(u8());
        final int flags = u8();
        c.reusedPorts((flags & 1) != 0);
        c.lastSynSeen((flags & 2) != 0);
        c.initialRttSeen((flags & 4) != 0);
        final int reason = u8();
        c.endReason(reason == 0xFF ? null : END_REASONS[reason]);
        c.idleSinceNanos(instant(lastNanos));
        c.pendingFlags(u16());
        c.lastSynNanos(instant(firstNanos));
        c.rawInitialRttNanos(duration());
    }

    // ================================================================ TcpEndpoint

    private void writeEndpoint(final TcpEndpoint e)
    {
        u32(e.packets());
        u48(e.ipBytes());
        u48(e.payloadBytes());
        u16(e.synCount());
        u16(e.finCount());
        u16(e.rstCount());
        buf.putInt(e.baseSeq());
        buf.putInt(e.isnRaw());
        buf.putInt(e.lastSynSeq());
        buf.putInt(e.finEndSeq());
        buf.putInt(e.nextSeq());
        buf.putInt(e.maxSeqToBeAcked());
        buf.putInt(e.lastAck());
        final boolean windowKnown = e.window() != -1;
        final boolean mssKnown = e.mss() != -1;
        buf.putShort((short)(bit(e.baseSeqSet(), 0) | bit(e.isnSeen(), 1) | bit(e.finSeen(), 2) |
            bit(e.rstSeen(), 3) | bit(e.firstAck(), 4) | bit(e.lastAckSeen(), 5) | bit(e.sackPermitted(), 6) |
            bit(e.timestampsOffered(), 7) | bit(windowKnown, 8) | bit(mssKnown, 9)));
        u8(e.state().ordinal());
        instant(e.nextSeqTime(), lastNanos);
        instant(e.lastAckTime(), lastNanos);
        u16(windowKnown ? e.window() : 0);
        u16(mssKnown ? e.mss() : 0);
        i8(e.windowScaleRaw());
        i16(e.dupAckNum());
        u16(e.lastSegmentFlags());
        u16(e.unackedSegments());
        for (int i = 0; i < TcpEndpoint.FLAGS; i++)
        {
            u16(Integer.toUnsignedLong(e.analysisCounts(i)));
        }
        u48(e.sequenceSpace());
        i32(e.maxInFlight());
        for (int i = 0; i < TcpEndpoint.RTT_RING; i++)
        {
            buf.putInt(e.segmentEnds(i));
        }
        for (int i = 0; i < TcpEndpoint.RTT_RING; i++)
        {
            instant(e.segmentTimes(i), lastNanos);
        }
        nibbles(e.ringSize(), e.ringHead());
        u32(e.rttSamples());
        duration(e.rttMinNanosRaw());
        duration(e.rttMaxNanosRaw());
        buf.putLong(e.rttSumNanos());
        u16(e.outsideWindow());
        u16(e.rstOutsideWindow());
        u16(e.dataAfterRst());
    }

    private void readEndpoint(final TcpEndpoint e)
    {
        e.packets(u32());
        e.ipBytes(u48());
        e.payloadBytes(u48());
        e.synCount(u16());
        e.finCount(u16());
        e.rstCount(u16());
        e.baseSeq(buf.getInt());
        e.isnRaw(buf.getInt());
        e.lastSynSeq(buf.getInt());
        e.finEndSeq(buf.getInt());
        e.nextSeq(buf.getInt());
        e.maxSeqToBeAcked(buf.getInt());
        e.lastAck(buf.getInt());
        final int bits = u16();
        e.baseSeqSet((bits & 1) != 0);
        e.isnSeen((bits & 1 << 1) != 0);
        e.finSeen((bits & 1 << 2) != 0);
        e.rstSeen((bits & 1 << 3) != 0);
        e.firstAck((bits & 1 << 4) != 0);
        e.lastAckSeen((bits & 1 << 5) != 0);
        e.sackPermitted((bits & 1 << 6) != 0);
        e.timestampsOffered((bits & 1 << 7) != 0);
        e.state(STATES[u8()]);
        e.nextSeqTime(instant(lastNanos));
        e.lastAckTime(instant(lastNanos));
        final int window = u16();
        e.window((bits & 1 << 8) != 0 ? window : -1);
        final int mss = u16();
        e.mss((bits & 1 << 9) != 0 ? mss : -1);
        e.windowScaleRaw(buf.get());
        e.dupAckNum(buf.getShort());
        e.lastSegmentFlags(u16());
        e.unackedSegments(u16());
        for (int i = 0; i < TcpEndpoint.FLAGS; i++)
        {
            e.analysisCounts(i, u16());
        }
        e.sequenceSpace(u48());
        e.maxInFlight(buf.getInt());
        for (int i = 0; i < TcpEndpoint.RTT_RING; i++)
        {
            e.segmentEnds(i, buf.getInt());
        }
        for (int i = 0; i < TcpEndpoint.RTT_RING; i++)
        {
            e.segmentTimes(i, instant(lastNanos));
        }
        final int ring = u8();
        e.ringSize(ring >>> 4);
        e.ringHead(ring & 0xF);
        e.rttSamples(u32());
        e.rttMinNanosRaw(duration());
        e.rttMaxNanosRaw(duration());
        e.rttSumNanos(buf.getLong());
        e.outsideWindow(u16());
        e.rstOutsideWindow(u16());
        e.dataAfterRst(u16());
    }
}
