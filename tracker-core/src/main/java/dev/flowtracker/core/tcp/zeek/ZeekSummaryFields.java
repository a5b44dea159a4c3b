package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.Flyweight;
import dev.flowtracker.core.state.StateMemory;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * {@link ZeekSummary}'s own connection-wide fields (roles, partial status, activity, deferred close, times), read
 * and written in place: the first {@link #OWN_BYTES} bytes of the summary's region, before the parts it composes.
 * Native byte order, booleans one byte (0 or 1):
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                         lastNanos (8)                         |
 *  +---------------------------------------------------------------+
 *  |                        startNanos (8)                         |
 *  +---------------+---------------+---------------+---------------+
 *  |  created (1)  |  partial (1)  | firstPacket-  |  active (1)   |
 *  |               |               |   Seen (1)    |               |
 *  +---------------+---------------+---------------+---------------+
 *  | closeDeferred | deferredGen-  |  removed (1)  |  aIsOrig (1)  |
 *  |      (1)      |   Event (1)   |               |               |
 *  +---------------+---------------+---------------+---------------+
 * </pre>
 *
 * <p>The whole summary's region, its parts after these fields:
 *
 * <pre>
 *  offset  bytes  what
 *     0     24    these fields
 *    24     56    {@link ZeekHistory} ({@link #HISTORY_OFFSET})
 *    80     56    {@link ZeekTimers} ({@link #TIMERS_OFFSET})
 *   136      8    {@link ZeekStateMachine} ({@link #MACHINE_OFFSET})
 *   144    224    {@link ZeekEndpoint} of side A ({@link #A_OFFSET})
 *   368    224    {@link ZeekEndpoint} of side B ({@link #B_OFFSET})
 *   592           end ({@link #BYTES})
 * </pre>
 *
 * <p>{@code firstPacketSeen} holds {@link ZeekSummary#FIRST_PACKET_ORIG} and {@link ZeekSummary#FIRST_PACKET_RESP}
 * (0 to 3); {@code aIsOrig} is whether side A is the originator, from which the summary derives its {@code orig}
 * and {@code resp} endpoints. A class of its own so that the summary's steps stay readable; owned by the
 * connection's tracker thread.
 */
abstract sealed class ZeekSummaryFields extends Flyweight permits ZeekSummary
{
    /** The fields, declared once: the offsets below are taken from it, and the state tests walk it. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_LONG.withName("lastNanos"),
        JAVA_LONG.withName("startNanos"),
        JAVA_BYTE.withName("created"),
        JAVA_BYTE.withName("partial"),
        JAVA_BYTE.withName("firstPacketSeen"),
        JAVA_BYTE.withName("active"),
        JAVA_BYTE.withName("closeDeferred"),
        JAVA_BYTE.withName("deferredGenEvent"),
        JAVA_BYTE.withName("removed"),
        JAVA_BYTE.withName("aIsOrig"));
    static final int LAST_NANOS_OFFSET = StateMemory.offset(LAYOUT, "lastNanos");
    static final int START_NANOS_OFFSET = StateMemory.offset(LAYOUT, "startNanos");
    static final int CREATED_OFFSET = StateMemory.offset(LAYOUT, "created");
    static final int PARTIAL_OFFSET = StateMemory.offset(LAYOUT, "partial");
    static final int FIRST_PACKET_SEEN_OFFSET = StateMemory.offset(LAYOUT, "firstPacketSeen");
    static final int ACTIVE_OFFSET = StateMemory.offset(LAYOUT, "active");
    static final int CLOSE_DEFERRED_OFFSET = StateMemory.offset(LAYOUT, "closeDeferred");
    static final int DEFERRED_GEN_EVENT_OFFSET = StateMemory.offset(LAYOUT, "deferredGenEvent");
    static final int REMOVED_OFFSET = StateMemory.offset(LAYOUT, "removed");
    static final int A_IS_ORIG_OFFSET = StateMemory.offset(LAYOUT, "aIsOrig");
    /** Bytes of the own fields. */
    static final int OWN_BYTES = StateMemory.align8((int)LAYOUT.byteSize());
    static final int HISTORY_OFFSET = OWN_BYTES;
    static final int TIMERS_OFFSET = HISTORY_OFFSET + ZeekHistory.BYTES;
    static final int MACHINE_OFFSET = TIMERS_OFFSET + ZeekTimers.BYTES;
    static final int A_OFFSET = MACHINE_OFFSET + ZeekStateMachine.BYTES;
    static final int B_OFFSET = A_OFFSET + ZeekEndpoint.BYTES;
    /** Bytes of the summary's region, the parts included. Public for {@code dev.flowtracker.core.tcp}. */
    public static final int BYTES = StateMemory.align8(B_OFFSET + ZeekEndpoint.BYTES);

    /** Options that change Zeek's decisions: shared, read-only, not flow state. */
    ZeekOptions options;

    /** Public for {@code dev.flowtracker.core.flow}, {@code dev.flowtracker.core.tcp}. */
    public final void reset(final ZeekOptions options)
    {
        this.options = options;
    }

    /** Public for {@code dev.flowtracker.core.tcp}. */
    public final ZeekOptions options()
    {
        return options;
    }

    /** Reads and writes the own fields in {@code segment} from {@code base} on. */
    final void wrapFields(final MemorySegment segment, final long base)
    {
        wrapMemory(segment, base, OWN_BYTES);
    }

    /** Zeek's last_time: the last packet's time, frozen once both sides have closed. */
    public final long lastNanos()
    {
        return getLong(LAST_NANOS_OFFSET);
    }

    final void lastNanos(final long value)
    {
        putLong(LAST_NANOS_OFFSET, value);
    }

    public final long startNanos()
    {
        return getLong(START_NANOS_OFFSET);
    }

    final void startNanos(final long value)
    {
        putLong(START_NANOS_OFFSET, value);
    }

    /** Whether Zeek would have made this connection (some packets are dropped before the lookup). */
    public final boolean created()
    {
        return getBoolean(CREATED_OFFSET);
    }

    final void created(final boolean value)
    {
        putBoolean(CREATED_OFFSET, value);
    }

    final boolean partial()
    {
        return getBoolean(PARTIAL_OFFSET);
    }

    final void partial(final boolean value)
    {
        putBoolean(PARTIAL_OFFSET, value);
    }

    final int firstPacketSeen()
    {
        return getByte(FIRST_PACKET_SEEN_OFFSET) & 0xFF;
    }

    final void firstPacketSeen(final int value)
    {
        putByte(FIRST_PACKET_SEEN_OFFSET, (byte)value);
    }

    final boolean active()
    {
        return getBoolean(ACTIVE_OFFSET);
    }

    final void active(final boolean value)
    {
        putBoolean(ACTIVE_OFFSET, value);
    }

    final boolean closeDeferred()
    {
        return getBoolean(CLOSE_DEFERRED_OFFSET);
    }

    final void closeDeferred(final boolean value)
    {
        putBoolean(CLOSE_DEFERRED_OFFSET, value);
    }

    final boolean deferredGenEvent()
    {
        return getBoolean(DEFERRED_GEN_EVENT_OFFSET);
    }

    final void deferredGenEvent(final boolean value)
    {
        putBoolean(DEFERRED_GEN_EVENT_OFFSET, value);
    }

    final boolean removed()
    {
        return getBoolean(REMOVED_OFFSET);
    }

    final void removed(final boolean value)
    {
        putBoolean(REMOVED_OFFSET, value);
    }

    /** Whether side A is the originator now. Public for {@code dev.flowtracker.core.tcp}. */
    public final boolean aIsOrig()
    {
        return getBoolean(A_IS_ORIG_OFFSET);
    }

    /** Sets which side is the originator; {@link ZeekSummary} also points its {@code orig} and {@code resp} there. */
    void aIsOrig(final boolean value)
    {
        putBoolean(A_IS_ORIG_OFFSET, value);
    }
}
