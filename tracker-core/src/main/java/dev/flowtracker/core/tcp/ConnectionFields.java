package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.state.Flyweight;
import dev.flowtracker.core.state.StateMemory;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * A {@link TcpConnection}'s own fields (identity, times, handshake RTT, end reason), as a flyweight over memory at
 * {@code (segment, base)}: each field declared once in {@link #LAYOUT} (native byte order and alignment), with its
 * offset and accessors here, so that the connection's logic reads apart from its storage.
 *
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |          Side A's address, high and low 64 bits (16)          |
 *  +---------------------------------------------------------------+
 *  |          Side B's address, high and low 64 bits (16)          |
 *  +-------------------------------+-------------------------------+
 *  |           tunnelId            |             hash              |
 *  +-------------------------------+-------------------------------+
 *  |       Side A port (32)        |       Side B port (32)        |
 *  +-------------------------------+-------------------------------+
 *  |  firstTimestampNanos, lastTimestampNanos, scheduledTimerNanos |
 *  |  idleSinceNanos, generation, lastSynNanos, initialRttNanos    |
 *  |                          (7 x 8 bytes)                        |
 *  +-------------------------------+-------------------------------+
 *  |          pendingFlags         |           ipVersion           |
 *  +-------+-------+-------+-------+-------------------------------+
 *  |reused |lastSyn|rttSeen|endRsn |          padding (4)          |
 *  +-------+-------+-------+-------+-------------------------------+
 * </pre>
 *
 * <p>Owned by the connection's tracker thread.
 */
abstract class ConnectionFields extends Flyweight
{
    /** The connection's own fields, hot ones first; the offsets below are taken from it. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_LONG.withName("aHigh"),
        JAVA_LONG.withName("aLow"),
        JAVA_LONG.withName("bHigh"),
        JAVA_LONG.withName("bLow"),
        JAVA_INT.withName("tunnelId"),
        JAVA_INT.withName("hash"),
        JAVA_INT.withName("aPort"),
        JAVA_INT.withName("bPort"),
        JAVA_LONG.withName("firstTimestampNanos"),
        JAVA_LONG.withName("lastTimestampNanos"),
        JAVA_LONG.withName("scheduledTimerNanos"),
        JAVA_LONG.withName("idleSinceNanos"),
        JAVA_LONG.withName("generation"),
        JAVA_LONG.withName("lastSynNanos"),
        JAVA_LONG.withName("initialRttNanos"),
        JAVA_INT.withName("pendingFlags"),
        JAVA_INT.withName("ipVersion"),
        JAVA_BYTE.withName("reusedPorts"),
        JAVA_BYTE.withName("lastSynSeen"),
        JAVA_BYTE.withName("initialRttSeen"),
        JAVA_BYTE.withName("endReason"),
        MemoryLayout.paddingLayout(4));
    static final int A_HIGH_OFFSET = StateMemory.offset(LAYOUT, "aHigh");
    static final int A_LOW_OFFSET = StateMemory.offset(LAYOUT, "aLow");
    static final int B_HIGH_OFFSET = StateMemory.offset(LAYOUT, "bHigh");
    static final int B_LOW_OFFSET = StateMemory.offset(LAYOUT, "bLow");
    static final int TUNNEL_ID_OFFSET = StateMemory.offset(LAYOUT, "tunnelId");
    static final int HASH_OFFSET = StateMemory.offset(LAYOUT, "hash");
    static final int A_PORT_OFFSET = StateMemory.offset(LAYOUT, "aPort");
    static final int B_PORT_OFFSET = StateMemory.offset(LAYOUT, "bPort");
    static final int FIRST_TIMESTAMP_NANOS_OFFSET = StateMemory.offset(LAYOUT, "firstTimestampNanos");
    static final int LAST_TIMESTAMP_NANOS_OFFSET = StateMemory.offset(LAYOUT, "lastTimestampNanos");
    static final int SCHEDULED_TIMER_NANOS_OFFSET = StateMemory.offset(LAYOUT, "scheduledTimerNanos");
    static final int IDLE_SINCE_NANOS_OFFSET = StateMemory.offset(LAYOUT, "idleSinceNanos");
    static final int GENERATION_OFFSET = StateMemory.offset(LAYOUT, "generation");
    static final int LAST_SYN_NANOS_OFFSET = StateMemory.offset(LAYOUT, "lastSynNanos");
    static final int INITIAL_RTT_NANOS_OFFSET = StateMemory.offset(LAYOUT, "initialRttNanos");
    static final int PENDING_FLAGS_OFFSET = StateMemory.offset(LAYOUT, "pendingFlags");
    static final int IP_VERSION_OFFSET = StateMemory.offset(LAYOUT, "ipVersion");
    static final int REUSED_PORTS_OFFSET = StateMemory.offset(LAYOUT, "reusedPorts");
    static final int LAST_SYN_SEEN_OFFSET = StateMemory.offset(LAYOUT, "lastSynSeen");
    static final int INITIAL_RTT_SEEN_OFFSET = StateMemory.offset(LAYOUT, "initialRttSeen");
    static final int END_REASON_OFFSET = StateMemory.offset(LAYOUT, "endReason");
    /** Bytes of the connection's own fields, before its parts. */
    static final int OWN_BYTES = (int)LAYOUT.byteSize();

    private static final int NO_END_REASON = StateMemory.NULL_ORDINAL;
    static final EndReason[] END_REASONS = EndReason.values();

    /**
     * Whether the packet belongs to the 4-tuple (either direction) of the connection whose state is at
     * {@code (segment, base)}: the table's key check, which reads the record's first cache line and nothing else.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public static boolean recordMatches(final MemorySegment segment, final long base, final DecodedPacket p)
    {
        if (p.tunnelId != segment.get(StateMemory.INT, base + TUNNEL_ID_OFFSET) ||
            p.ipVersion != segment.get(StateMemory.INT, base + IP_VERSION_OFFSET))
        {
            return false;
        }
        final long aHigh = segment.get(StateMemory.LONG, base + A_HIGH_OFFSET);
        final long aLow = segment.get(StateMemory.LONG, base + A_LOW_OFFSET);
        final int aPort = segment.get(StateMemory.INT, base + A_PORT_OFFSET);
        final long bHigh = segment.get(StateMemory.LONG, base + B_HIGH_OFFSET);
        final long bLow = segment.get(StateMemory.LONG, base + B_LOW_OFFSET);
        final int bPort = segment.get(StateMemory.INT, base + B_PORT_OFFSET);
        return p.srcPort == aPort && p.dstPort == bPort && p.srcLow == aLow && p.dstLow == bLow &&
            p.srcHigh == aHigh && p.dstHigh == bHigh ||
            p.srcPort == bPort && p.dstPort == aPort && p.srcLow == bLow && p.dstLow == aLow &&
            p.srcHigh == bHigh && p.dstHigh == aHigh;
    }

    /** The first timestamp of the connection at {@code (segment, base)}. Public for {@code core.flow}. */
    public static long recordFirstTimestampNanos(final MemorySegment segment, final long base)
    {
        return segment.get(StateMemory.LONG, base + FIRST_TIMESTAMP_NANOS_OFFSET);
    }

    /** The flow hash of the connection at {@code (segment, base)}. Public for {@code dev.flowtracker.core.flow}. */
    public static int recordHash(final MemorySegment segment, final long base)
    {
        return segment.get(StateMemory.INT, base + HASH_OFFSET);
    }

    /** The generation of the connection at {@code (segment, base)}. Public for {@code dev.flowtracker.core.flow}. */
    public static long recordGeneration(final MemorySegment segment, final long base)
    {
        return segment.get(StateMemory.LONG, base + GENERATION_OFFSET);
    }

    /**
     * The queued timer of the connection at {@code (segment, base)}. Public for {@code dev.flowtracker.core.flow}.
     */
    public static long recordScheduledTimerNanos(final MemorySegment segment, final long base)
    {
        return segment.get(StateMemory.LONG, base + SCHEDULED_TIMER_NANOS_OFFSET);
    }

    final void wrapFields(final MemorySegment segment, final long base)
    {
        wrapMemory(segment, base, OWN_BYTES);
    }

    /** The own fields whose new value is not zero, on zeroed memory: no timer and no end reason. */
    final void fieldDefaults()
    {
        scheduledTimerNanos(ZeekSummary.NO_TIMER);
        endReason(null);
    }

    int aPort()
    {
        return getInt(A_PORT_OFFSET);
    }

    void aPort(final int port)
    {
        putInt(A_PORT_OFFSET, port);
    }

    int bPort()
    {
        return getInt(B_PORT_OFFSET);
    }

    void bPort(final int port)
    {
        putInt(B_PORT_OFFSET, port);
    }

    long aHigh()
    {
        return getLong(A_HIGH_OFFSET);
    }

    void aHigh(final long value)
    {
        putLong(A_HIGH_OFFSET, value);
    }

    long aLow()
    {
        return getLong(A_LOW_OFFSET);
    }

    void aLow(final long value)
    {
        putLong(A_LOW_OFFSET, value);
    }

    long bHigh()
    {
        return getLong(B_HIGH_OFFSET);
    }

    void bHigh(final long value)
    {
        putLong(B_HIGH_OFFSET, value);
    }

    long bLow()
    {
        return getLong(B_LOW_OFFSET);
    }

    void bLow(final long value)
    {
        putLong(B_LOW_OFFSET, value);
    }

    public int tunnelId()
    {
        return getInt(TUNNEL_ID_OFFSET);
    }

    void tunnelId(final int value)
    {
        putInt(TUNNEL_ID_OFFSET, value);
    }

    public int ipVersion()
    {
        return getInt(IP_VERSION_OFFSET);
    }

    void ipVersion(final int value)
    {
        putInt(IP_VERSION_OFFSET, value);
    }

    /** Symmetric hash of the identity, cached for the table. */
    public int hash()
    {
        return getInt(HASH_OFFSET);
    }

    void hash(final int value)
    {
        putInt(HASH_OFFSET, value);
    }

    /**
     * Time of this connection's live entry in the tracker's timer queue, or {@link ZeekSummary#NO_TIMER}.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public long scheduledTimerNanos()
    {
        return getLong(SCHEDULED_TIMER_NANOS_OFFSET);
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public void scheduledTimerNanos(final long nanos)
    {
        putLong(SCHEDULED_TIMER_NANOS_OFFSET, nanos);
    }

    public long firstTimestampNanos()
    {
        return getLong(FIRST_TIMESTAMP_NANOS_OFFSET);
    }

    void firstTimestampNanos(final long nanos)
    {
        putLong(FIRST_TIMESTAMP_NANOS_OFFSET, nanos);
    }

    public long lastTimestampNanos()
    {
        return getLong(LAST_TIMESTAMP_NANOS_OFFSET);
    }

    void lastTimestampNanos(final long nanos)
    {
        putLong(LAST_TIMESTAMP_NANOS_OFFSET, nanos);
    }

    /**
     * When a bounded table last saw activity on this connection, on the tracker's clock (which never runs
     * backwards, unlike capture order): kept with the state so that a restored connection expires when it would
     * have.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public long idleSinceNanos()
    {
        return getLong(IDLE_SINCE_NANOS_OFFSET);
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public void idleSinceNanos(final long nanos)
    {
        putLong(IDLE_SINCE_NANOS_OFFSET, nanos);
    }

    /** Distinguishes successive connections on one 4-tuple in uids. */
    public long generation()
    {
        return getLong(GENERATION_OFFSET);
    }

    void generation(final long value)
    {
        putLong(GENERATION_OFFSET, value);
    }

    long lastSynNanos()
    {
        return getLong(LAST_SYN_NANOS_OFFSET);
    }

    void lastSynNanos(final long nanos)
    {
        putLong(LAST_SYN_NANOS_OFFSET, nanos);
    }

    /** SYN to first ACK as measured, meaningful only when {@link #initialRttSeen()}. */
    long rawInitialRttNanos()
    {
        return getLong(INITIAL_RTT_NANOS_OFFSET);
    }

    void rawInitialRttNanos(final long nanos)
    {
        putLong(INITIAL_RTT_NANOS_OFFSET, nanos);
    }

    /**
     * Analysis flags decided before the first segment is analysed (reused ports on a new connection).
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public int pendingFlags()
    {
        return getInt(PENDING_FLAGS_OFFSET);
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public void pendingFlags(final int flags)
    {
        putInt(PENDING_FLAGS_OFFSET, flags);
    }

    public boolean reusedPorts()
    {
        return getBoolean(REUSED_PORTS_OFFSET);
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public void reusedPorts(final boolean value)
    {
        putBoolean(REUSED_PORTS_OFFSET, value);
    }

    boolean lastSynSeen()
    {
        return getBoolean(LAST_SYN_SEEN_OFFSET);
    }

    void lastSynSeen(final boolean value)
    {
        putBoolean(LAST_SYN_SEEN_OFFSET, value);
    }

    /** Whether tshark's initial RTT (SYN to first ACK) was measured. */
    public boolean initialRttSeen()
    {
        return getBoolean(INITIAL_RTT_SEEN_OFFSET);
    }

    void initialRttSeen(final boolean value)
    {
        putBoolean(INITIAL_RTT_SEEN_OFFSET, value);
    }

    /** Why the record was emitted; set by the tracker at emission for connections still open. */
    public EndReason endReason()
    {
        final int ordinal = getByte(END_REASON_OFFSET) & 0xFF;
        return ordinal == NO_END_REASON ? null : END_REASONS[ordinal];
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public void endReason(final EndReason reason)
    {
        putByte(END_REASON_OFFSET,
            (byte)(reason == null ? NO_END_REASON : reason.ordinal()));
    }
}
