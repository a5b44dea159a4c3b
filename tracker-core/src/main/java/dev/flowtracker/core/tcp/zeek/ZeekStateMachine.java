package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.Flyweight;
import dev.flowtracker.core.state.StateMemory;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * Zeek's per-endpoint TCP state machine and sequence bookkeeping for one connection: the sequence bases, relative
 * sequence numbers, the acked and last sequence numbers (with the T letter), and the endpoint state transitions of
 * one packet, switched on the sender's state before it. Rules in docs/zeek-conn-semantics.md ("Endpoint states").
 *
 * <p>Its own state is the results of the packet being processed, which {@link ZeekSummary} reads after each step;
 * the transitions change the endpoints and, through the {@link ZeekSummary} passed in, the connection's partial
 * status, activity, role and timers. Owned by the connection's tracker thread.
 *
 * <p>A flyweight over {@link #BYTES} bytes of a {@code (MemorySegment, base)} pair (its own memory when made, a
 * region of {@link ZeekSummary}'s when the summary wraps it), one byte (0 or 1) per result:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------+---------------+---------------+---------------+
 *  |estabEvent (1) |  doClose (1)  | genEvent (1)  | underflow (1) |
 *  +---------------+---------------+---------------+---------------+
 *  |                          (padding 4)                          |
 *  +---------------------------------------------------------------+
 * </pre>
 */
final class ZeekStateMachine extends Flyweight
{
    private static final int TOO_LARGE_SEQ_DELTA = 1_048_576;


    // Results of the state machine for the packet being processed (Zeek's do_close / gen_event out-parameters,
    // and whether a connection_established event was raised).
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_BYTE.withName("establishedEvent"),
        JAVA_BYTE.withName("doClose"),
        JAVA_BYTE.withName("genEvent"),
        JAVA_BYTE.withName("underflow"), // set by relativeSeq: the number lies before the endpoint's start
        MemoryLayout.paddingLayout(4));
    static final int ESTABLISHED_EVENT_OFFSET = StateMemory.offset(LAYOUT, "establishedEvent");
    static final int DO_CLOSE_OFFSET = StateMemory.offset(LAYOUT, "doClose");
    static final int GEN_EVENT_OFFSET = StateMemory.offset(LAYOUT, "genEvent");
    static final int UNDERFLOW_OFFSET = StateMemory.offset(LAYOUT, "underflow");
    /** Bytes of the region. */
    static final int BYTES = (int)LAYOUT.byteSize();

    ZeekStateMachine()
    {
        wrap(StateMemory.home(BYTES), 0);
        clear();
    }

    /** A part of a larger state, on its memory: the whole's {@code clear} sets it. */
    ZeekStateMachine(final MemorySegment segment, final long base)
    {
        wrap(segment, base);
    }

    /** Reads and writes the results in {@code segment} from {@code base} on ({@link #BYTES} bytes). */
    void wrap(final MemorySegment segment, final long base)
    {
        wrapMemory(segment, base, BYTES);
    }

    /** Back to the state of a new summary, for a recycled connection. */
    void clear()
    {
        zeroMemory(BYTES);
    }

    /** The sequence bases a packet sets, by the sender's state before it. */
    static void initEndpoint(final ZeekEndpoint endpoint, final boolean syn, final int seq, final int lastSeq)
    {
        switch (endpoint.state())
        {
            case ZeekEndpoint.INACTIVE ->
            {
                if (syn)
                {
                    endpoint.ackSeq(seq);
                    endpoint.initStart(seq);
                    endpoint.lastSeq(lastSeq);
                }
                else
                {
                    endpoint.ackSeq(seq - 1);
                    endpoint.initStart(seq - 1);
                    endpoint.lastSeq(seq); // the first packet is not a retransmission
                }
            }
            case ZeekEndpoint.SYN_SENT, ZeekEndpoint.SYN_ACK_SENT ->
            {
                if (syn && (seq & 0xFFFF_FFFFL) != endpoint.startSeq())
                {
                    reinitialise(endpoint, seq, lastSeq);
                }
            }
            case ZeekEndpoint.ESTABLISHED, ZeekEndpoint.PARTIAL ->
            {
                if (syn)
                {
                    reinitialise(endpoint, seq, lastSeq);
                }
            }
            case ZeekEndpoint.RESET ->
            {
                if (syn && endpoint.previousState() == ZeekEndpoint.INACTIVE)
                {
                    reinitialise(endpoint, seq, lastSeq);
                }
            }
            default ->
            {
            }
        }
    }

    private static void reinitialise(final ZeekEndpoint endpoint, final int seq, final int lastSeq)
    {
        endpoint.initStart(seq);
        endpoint.ackSeq(seq);
        endpoint.lastSeq(lastSeq);
    }

    /** Zeek's relative sequence number, 64-bit; sets {@link #underflow} when it lies before the start. */
    long relativeSeq(final ZeekEndpoint endpoint, final int current, final int last, final int wrapsIn)
    {
        underflow(false);
        int wraps = wrapsIn;
        final int delta = current - last;
        if (delta < 0)
        {
            if (wraps != 0 && Integer.compareUnsigned(current, last) > 0)
            {
                wraps--;
            }
        }
        else if (delta > 0)
        {
            if (Integer.compareUnsigned(current, last) < 0)
            {
                wraps++;
            }
        }
        if (wraps == 0)
        {
            final int fromStart = current - (int)endpoint.startSeq();
            underflow(fromStart < 0);
            return fromStart;
        }
        return endpoint.relative(current, wraps);
    }

    static void updateAckSeq(final ZeekEndpoint endpoint, final int ack)
    {
        final int delta = ack - endpoint.ackSeq();
        if (ack == 0 && delta > TOO_LARGE_SEQ_DELTA)
        {
            return; // more likely a broken ACK than a huge connection landing on zero
        }
        if (delta > 0)
        {
            endpoint.updateAckSeq(ack);
        }
    }

    /** Zeek's update_last_seq: moves the last sequence number on, or counts a retransmission (T). */
    static void updateLastSeq(
        final ZeekEndpoint endpoint, final int lastSeq, final boolean syn, final boolean fin, final boolean rst,
        final int len, final ZeekHistory history)
    {
        final int delta = lastSeq - endpoint.lastSeq();
        if ((syn || rst) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
        {
            return; // not trusted
        }
        if (fin && endpoint.lastSeq() == (int)endpoint.startSeq() + 1)
        {
            endpoint.updateLastSeq(lastSeq);
        }
        else if (endpoint.state() == ZeekEndpoint.RESET)
        {
            return;
        }
        else if (delta > 0)
        {
            endpoint.updateLastSeq(lastSeq);
        }
        else if (len > 0)
        {
            history.scaled(endpoint, ZeekEndpoint.RETRANSMISSION);
        }
    }

    /** The transitions of one packet from {@code endpoint}; sets {@link #doClose}, {@link #genEvent} and co. */
    void update(
        final ZeekSummary connection, final long now, final ZeekEndpoint endpoint, final ZeekEndpoint peer,
        final int seq, final int len, final boolean isOrig, final boolean syn, final boolean fin, final boolean rst,
        final boolean ack)
    {
        doClose(false);
        genEvent(false);
        establishedEvent(false);
        switch (endpoint.state())
        {
            case ZeekEndpoint.INACTIVE ->
                updateInactive(connection, now, endpoint, peer, seq, len, isOrig, syn, fin, rst, ack);
            case ZeekEndpoint.SYN_SENT, ZeekEndpoint.SYN_ACK_SENT -> updateSynSent(connection, endpoint, fin, rst);
            case ZeekEndpoint.ESTABLISHED, ZeekEndpoint.PARTIAL ->
                updateEstablished(connection, endpoint, peer, syn, fin, rst, ack);
            case ZeekEndpoint.CLOSED ->
            {
                // After a FIN exchange a RST changes nothing.
                if (rst && peer.state() != ZeekEndpoint.CLOSED)
                {
                    setState(connection, endpoint, ZeekEndpoint.RESET);
                    if (!endpoint.didClose())
                    {
                        doClose(true);
                    }
                }
            }
            default ->
            {
            }
        }
    }

    private void updateInactive(
        final ZeekSummary connection, final long now, final ZeekEndpoint endpoint, final ZeekEndpoint peer,
        final int seq, final int len, final boolean isOrig, final boolean syn, final boolean fin, final boolean rst,
        final boolean ack)
    {
        if (syn)
        {
            if (isOrig)
            {
                setState(connection, endpoint, ack ? ZeekEndpoint.SYN_ACK_SENT : ZeekEndpoint.SYN_SENT);
                connection.timers.startAttempt(now + connection.options().attemptDelayNanos);
            }
            else
            {
                if (!ack && peer.state() == ZeekEndpoint.SYN_ACK_SENT && (seq & 0xFFFF_FFFFL) == endpoint.startSeq())
                {
                    // SYN and SYN+ACK seen in reverse order: flip and establish.
                    connection.partial(false);
                    connection.flipRoles();
                    setState(connection, peer, ZeekEndpoint.ESTABLISHED);
                    connection.firstPacketSeen(connection.firstPacketSeen() | ZeekSummary.FIRST_PACKET_ORIG);
                }
                if (peer.state() == ZeekEndpoint.SYN_SENT)
                {
                    setState(connection, peer, ZeekEndpoint.ESTABLISHED);
                }
                setState(connection, endpoint, ZeekEndpoint.ESTABLISHED);
                establishedEvent(establishedEvent() | peer.state() != ZeekEndpoint.PARTIAL);
            }
        }
        if (fin)
        {
            setState(connection, endpoint, ZeekEndpoint.CLOSED);
            doClose(true);
            genEvent(true);
        }
        if (rst)
        {
            setState(connection, endpoint, ZeekEndpoint.RESET);
            final boolean reject = isOrig ? peer.state() == ZeekEndpoint.ESTABLISHED :
                peer.state() == ZeekEndpoint.SYN_SENT || peer.state() == ZeekEndpoint.SYN_ACK_SENT;
            doClose(true);
            genEvent(!reject);
        }
        if (endpoint.state() == ZeekEndpoint.INACTIVE)
        {
            if (!isOrig && len == 0 && connection.orig.state() == ZeekEndpoint.SYN_SENT)
            {
                return; // an ACK of the SYN before the SYN+ACK: not a partial connection
            }
            if (ack && peer.state() == ZeekEndpoint.ESTABLISHED)
            {
                setState(connection, endpoint, ZeekEndpoint.ESTABLISHED);
                connection.partial(false);
                connection.firstPacketSeen(connection.firstPacketSeen() |
                    (isOrig ? ZeekSummary.FIRST_PACKET_ORIG : ZeekSummary.FIRST_PACKET_RESP));
            }
            else
            {
                setState(connection, endpoint, ZeekEndpoint.PARTIAL);
            }
        }
    }

    private void updateSynSent(
        final ZeekSummary connection, final ZeekEndpoint endpoint, final boolean fin, final boolean rst)
    {
        if (fin)
        {
            setState(connection, endpoint, ZeekEndpoint.CLOSED);
            doClose(true);
            genEvent(true);
        }
        if (rst)
        {
            setState(connection, endpoint, ZeekEndpoint.RESET);
            connection.active(false); // connection reset
            doClose(true);
        }
    }

    private void updateEstablished(
        final ZeekSummary connection, final ZeekEndpoint endpoint, final ZeekEndpoint peer, final boolean syn,
        final boolean fin, final boolean rst, final boolean ack)
    {
        if (syn && endpoint.state() == ZeekEndpoint.PARTIAL && peer.state() == ZeekEndpoint.INACTIVE && !ack)
        {
            setState(connection, endpoint, ZeekEndpoint.SYN_SENT);
        }
        if (fin && !rst)
        {
            setState(connection, endpoint, ZeekEndpoint.CLOSED);
            if (peer.state() == ZeekEndpoint.RESET && peer.previousState() == ZeekEndpoint.CLOSED)
            {
                // The peer's FIN then RST was a normal close after all.
                setState(connection, peer, ZeekEndpoint.CLOSED);
            }
            doClose(true);
            genEvent(true);
        }
        if (rst)
        {
            setState(connection, endpoint, ZeekEndpoint.RESET);
            doClose(true);
            if (peer.state() != ZeekEndpoint.RESET || peer.previousState() != ZeekEndpoint.ESTABLISHED)
            {
                connection.active(false); // connection reset
            }
        }
    }

    /** Endpoint state change; leaving the handshake for the first time switches to the long inactivity timeout. */
    private static void setState(final ZeekSummary connection, final ZeekEndpoint endpoint, final int newState)
    {
        if (newState == endpoint.state())
        {
            return;
        }
        final ZeekEndpoint peer = connection.peerOf(endpoint);
        if (!ZeekEndpoint.isHandshake(newState) && ZeekEndpoint.isHandshake(endpoint.state()) &&
            ZeekEndpoint.isHandshake(peer.state()))
        {
            connection.setInactivityTimeout(connection.options().inactivityNanos);
        }
        endpoint.setState(newState);
    }

    // Accessors of the region's fields.

    boolean establishedEvent()
    {
        return getBoolean(ESTABLISHED_EVENT_OFFSET);
    }

    void establishedEvent(final boolean value)
    {
        putBoolean(ESTABLISHED_EVENT_OFFSET, value);
    }

    boolean doClose()
    {
        return getBoolean(DO_CLOSE_OFFSET);
    }

    void doClose(final boolean value)
    {
        putBoolean(DO_CLOSE_OFFSET, value);
    }

    boolean genEvent()
    {
        return getBoolean(GEN_EVENT_OFFSET);
    }

    void genEvent(final boolean value)
    {
        putBoolean(GEN_EVENT_OFFSET, value);
    }

    boolean underflow()
    {
        return getBoolean(UNDERFLOW_OFFSET);
    }

    void underflow(final boolean value)
    {
        putBoolean(UNDERFLOW_OFFSET, value);
    }

    /** Rejects bytes read from elsewhere (a checkpoint) whose bounded fields are out of range. */
    void check()
    {
        checkFlag(ESTABLISHED_EVENT_OFFSET, "ZeekStateMachine.establishedEvent");
        checkFlag(DO_CLOSE_OFFSET, "ZeekStateMachine.doClose");
        checkFlag(GEN_EVENT_OFFSET, "ZeekStateMachine.genEvent");
        checkFlag(UNDERFLOW_OFFSET, "ZeekStateMachine.underflow");
    }

}
