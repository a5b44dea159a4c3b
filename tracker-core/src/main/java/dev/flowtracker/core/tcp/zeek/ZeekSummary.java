package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.state.StateMemory;
import dev.flowtracker.core.wire.Tcp;
import java.lang.foreign.MemorySegment;

/**
 * Zeek's view of one connection, emulated packet by packet: originator and responder (with Zeek's role flips),
 * both endpoint states, the history string, sizes, content gaps and the timers that decide when Zeek removes the
 * connection. It yields {@code conn_state}, {@code history}, {@code orig_bytes}, {@code resp_bytes} and
 * {@code missed_bytes} as Zeek 9.1 writes them into conn.log. The rules, restated from Zeek's source, are in
 * docs/zeek-conn-semantics.md; method names follow the steps described there.
 *
 * <p>This class runs the steps of a packet in Zeek's order and keeps the connection-wide state (roles, partial
 * status, activity, deferred close, times). The steps live beside it, along Zeek's seams:
 * {@link ZeekStateMachine} (sequence bookkeeping and endpoint transitions), {@link ZeekHistory} (the letters),
 * {@link ZeekContentGaps} (reassembly, as far as gaps need it), {@link ZeekTimers} (removal) and
 * {@link ZeekConnState} (the result).
 *
 * <p>State is bounded: two {@link ZeekEndpoint}s, a history of at most {@link #MAX_HISTORY} letters and a few
 * timer instants, all created with the summary. Owned by the connection's tracker thread.
 *
 * <p>A flyweight over {@link #BYTES} bytes of a {@code (MemorySegment, base)} pair, its own memory when made: its
 * own fields and then the parts it composes, each wrapped around its region (drawn in {@link ZeekSummaryFields}).
 */
public final class ZeekSummary extends ZeekSummaryFields
{
    /** Longest history kept; Zeek's is unbounded, ours stops growing here (and says so in the record). */
    public static final int MAX_HISTORY = 48;

    /** Public for {@code dev.flowtracker.core.flow}, {@code dev.flowtracker.core.tcp}. */
    public static final long NO_TIMER = ZeekTimers.NO_TIMER;

    static final int FIRST_PACKET_ORIG = 1;
    static final int FIRST_PACKET_RESP = 2;

    /** Endpoint of side A (first packet's sender) and side B; {@link #orig} is one of them. */
    final ZeekEndpoint a;
    final ZeekEndpoint b;
    // Derived from aIsOrig() whenever it is set or the summary is wrapped.
    ZeekEndpoint orig;
    ZeekEndpoint resp;

    final ZeekHistory history;
    final ZeekTimers timers;
    /** Sequence bookkeeping and transitions; its fields, the packet's results, are the last encoded. */
    final ZeekStateMachine machine;

    /** Public for {@code dev.flowtracker.core.tcp}. */
    public ZeekSummary()
    {
        this(StateMemory.home(BYTES), 0);
        clear();
    }

    /**
     * A connection's summary, on the connection's memory: the connection's {@code clear} sets it. Public for
     * {@code dev.flowtracker.core.tcp}.
     */
    public ZeekSummary(final MemorySegment segment, final long base)
    {
        history = new ZeekHistory(segment, base + HISTORY_OFFSET);
        timers = new ZeekTimers(segment, base + TIMERS_OFFSET);
        machine = new ZeekStateMachine(segment, base + MACHINE_OFFSET);
        a = new ZeekEndpoint(segment, base + A_OFFSET);
        b = new ZeekEndpoint(segment, base + B_OFFSET);
        wrap(segment, base);
    }

    /**
     * Reads and writes the summary, own fields and parts, in {@code segment} from {@code base} on ({@link #BYTES}
     * bytes); the originator and responder follow the side stored there. Public for {@code dev.flowtracker.core.tcp}.
     */
    public void wrap(final MemorySegment segment, final long base)
    {
        wrapFields(segment, base);
        history.wrap(segment, base + HISTORY_OFFSET);
        timers.wrap(segment, base + TIMERS_OFFSET);
        machine.wrap(segment, base + MACHINE_OFFSET);
        a.wrap(segment, base + A_OFFSET);
        b.wrap(segment, base + B_OFFSET);
        deriveRoles();
    }

    @Override
    void aIsOrig(final boolean value)
    {
        super.aIsOrig(value);
        deriveRoles();
    }

    private void deriveRoles()
    {
        final boolean aIsOrig = aIsOrig();
        orig = aIsOrig ? a : b;
        resp = aIsOrig ? b : a;
    }


    /**
     * The layouts of the summary and its parts, as text: part of the record's {@code TcpConnection#LAYOUT_FINGERPRINT},
     * so that a checkpoint is only read by a build that lays the state out the same way. Public for
     * {@code dev.flowtracker.core.tcp}.
     */
    public static String layouts()
    {
        return LAYOUT + "|" + ZeekHistory.LAYOUT + "|" + ZeekTimers.LAYOUT + "|" + ZeekStateMachine.LAYOUT + "|" +
            ZeekEndpoint.LAYOUT + "|" + BYTES;
    }

    /**
     * Back to the state of a new summary, for a recycled connection; allocates nothing. The options go too:
     * {@link #reset} or {@link dev.flowtracker.core.flow.ConnectionTracker#restore} binds them again.
     *
     * <p>Public for {@code dev.flowtracker.core.tcp}.
     */
    public void clear()
    {
        zeroMemory(BYTES);
        defaults();
    }

    /**
     * The fields whose new value is not zero, parts included, on zeroed memory (a connection zeroes all its parts at
     * once); the options go. Public for {@code dev.flowtracker.core.tcp}.
     */
    public void defaults()
    {
        a.defaults();
        b.defaults();
        aIsOrig(true);
        active(true);
        timers.defaults();
        reset(null);
    }

    /**
     * Rejects state bytes read from elsewhere (a checkpoint) whose bounded fields, parts included, are out of range:
     * an {@link IllegalArgumentException} naming the first such field.
     *
     * <p>Public for {@code dev.flowtracker.core.tcp}.
     */
    public void check()
    {
        a.check();
        b.check();
        checkFlag(A_IS_ORIG_OFFSET, "ZeekSummary.orig");
        history.check();
        checkFlag(CREATED_OFFSET, "ZeekSummary.created");
        checkFlag(PARTIAL_OFFSET, "ZeekSummary.partial");
        checkAtMost(FIRST_PACKET_SEEN_OFFSET, FIRST_PACKET_ORIG | FIRST_PACKET_RESP, "ZeekSummary.firstPacketSeen");
        checkFlag(ACTIVE_OFFSET, "ZeekSummary.active");
        checkFlag(CLOSE_DEFERRED_OFFSET, "ZeekSummary.closeDeferred");
        checkFlag(DEFERRED_GEN_EVENT_OFFSET, "ZeekSummary.deferredGenEvent");
        checkFlag(REMOVED_OFFSET, "ZeekSummary.removed");
        machine.check();
    }

    /**
     * Creates the connection as Zeek would for its first accepted packet, flipping roles when the sender's port
     * looks like a server's and the packet is not a pure SYN.
     *
     * <p>Public for {@code dev.flowtracker.core.tcp}.
     */
    public void create(final DecodedPacket p, final boolean fromA)
    {
        created(true);
        startNanos(p.timestampNanos);
        lastNanos(p.timestampNanos);
        a.isOrig(fromA);
        b.isOrig(!fromA);
        aIsOrig(fromA);
        timers.start(p.timestampNanos, options);
        if (shouldFlipAtCreation(p))
        {
            flipRoles();
        }
    }

    private boolean shouldFlipAtCreation(final DecodedPacket p)
    {
        final int flags = p.flags;
        if ((flags & Tcp.SYN) != 0 && (flags & Tcp.ACK) == 0)
        {
            return false;
        }
        if (p.ipVersion == 4 && p.dstLow == 0xFFFF_FFFFL)
        {
            return false; // never towards the broadcast address
        }
        if (!options.isLikelyServerPort(p.srcPort))
        {
            return false;
        }
        if (options.isLikelyServerPort(p.dstPort))
        {
            return (flags & Tcp.SYN) == 0 && p.srcPort < p.dstPort;
        }
        return true;
    }

    void flipRoles()
    {
        aIsOrig(!aIsOrig());
        orig.isOrig(true);
        resp.isOrig(false);
        final int firstPacketSeen = firstPacketSeen();
        firstPacketSeen(((firstPacketSeen & FIRST_PACKET_ORIG) != 0 ? FIRST_PACKET_RESP : 0) |
            ((firstPacketSeen & FIRST_PACKET_RESP) != 0 ? FIRST_PACKET_ORIG : 0));
        partial(false);
        history.add('^');
    }

    ZeekEndpoint peerOf(final ZeekEndpoint endpoint)
    {
        return endpoint == a ? b : a;
    }

    /**
     * A packet Zeek finds a connection for but skips for a bad TCP checksum: only the C letter.
     *
     * <p>Public for {@code dev.flowtracker.core.tcp}.
     */
    public void onBadChecksum(final boolean fromA)
    {
        history.scaled(fromA ? a : b, ZeekEndpoint.CHECKSUM);
    }

    /**
     * Zeek's reuse test for a packet on this connection: only a SYN (or a SYN+ACK while the originator is still
     * inactive) can start a new connection, and only with a new sequence number unless a side has closed.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public boolean isReusedBy(final DecodedPacket p)
    {
        if (!p.tcpHeaderComplete || (p.flags & Tcp.SYN) == 0)
        {
            return false;
        }
        ZeekEndpoint compared = orig;
        if ((p.flags & Tcp.ACK) != 0)
        {
            if (orig.state() != ZeekEndpoint.INACTIVE)
            {
                return false;
            }
            compared = resp;
        }
        if (!orig.didClose() && !resp.didClose())
        {
            final long seq = p.seq & 0xFFFF_FFFFL;
            if (seq == compared.startSeq())
            {
                return false;
            }
            return (p.flags & Tcp.ACK) != 0 || compared.state() != ZeekEndpoint.SYN_ACK_SENT ||
                resp.state() != ZeekEndpoint.INACTIVE || seq != resp.startSeq();
        }
        return true;
    }

    /**
     * One packet accepted by Zeek (checksum good or not checked). {@code fromA}: sent by side A.
     *
     * <p>Public for {@code dev.flowtracker.core.tcp}.
     */
    public void onPacket(final DecodedPacket p, final boolean fromA)
    {
        final ZeekEndpoint endpoint = fromA ? a : b;
        final ZeekEndpoint peer = fromA ? b : a;
        // Zeek reads the role once; a flip inside this packet leaves the local value stale, on purpose.
        final boolean isOrig = endpoint.isOrig();
        final int flags = p.flags;
        final boolean syn = (flags & Tcp.SYN) != 0;
        final boolean fin = (flags & Tcp.FIN) != 0;
        final boolean rst = (flags & Tcp.RST) != 0;
        final boolean ack = (flags & Tcp.ACK) != 0;
        final int len = p.payloadLength;
        final long now = p.timestampNanos;

        setPartialStatus(syn, ack, isOrig);
        final int segmentLength = len + (syn ? 1 : 0) + (fin ? 1 : 0) - (rst ? len : 0);
        final int seqOnePast = p.seq + segmentLength;
        ZeekStateMachine.initEndpoint(endpoint, syn, p.seq, seqOnePast);

        final long relSeq = machine.relativeSeq(endpoint, p.seq, endpoint.lastSeq(), endpoint.seqWraps());
        final boolean seqUnderflow = machine.underflow();
        if (!syn && !fin && !rst && (len > 0 || ack) && history.isLoneSynAck())
        {
            // A lone SYN+ACK followed by an ACK or data: the SYN+ACK's sender was the responder after all.
            flipRoles();
            history.restartAsFlippedSynAck();
            firstPacketSeen(firstPacketSeen() | FIRST_PACKET_ORIG);
        }
        history.addPacketLetter(endpoint, syn, fin, rst, ack, relSeq, len);
        if (p.window == 0 && !rst && peer.state() != ZeekEndpoint.CLOSED && endpoint.state() != ZeekEndpoint.RESET)
        {
            history.scaled(endpoint, ZeekEndpoint.ZERO_WINDOW);
        }
        if (!orig.didClose() || !resp.didClose())
        {
            lastNanos(now);
        }
        if (fin)
        {
            endpoint.finCount(endpoint.finCount() + 1);
            endpoint.finSeq(relSeq + segmentLength);
        }
        if (rst)
        {
            endpoint.rstCount(endpoint.rstCount() + 1);
        }

        long relAck = 0;
        if (ack)
        {
            if (peer.state() == ZeekEndpoint.INACTIVE)
            {
                relAck = 1;
                peer.initStart(p.ack - 1);
                peer.ackSeq(p.ack - 1);
                peer.lastSeq(p.ack - 1);
            }
            else
            {
                relAck = machine.relativeSeq(peer, p.ack, peer.ackSeq(), peer.ackWraps());
                if (machine.underflow())
                {
                    relAck = 0;
                }
                else if (!rst)
                {
                    ZeekStateMachine.updateAckSeq(peer, p.ack);
                }
            }
        }

        ZeekStateMachine.updateLastSeq(endpoint, seqOnePast, syn, fin, rst, len, history);
        machine.update(this, now, endpoint, peer, p.seq, len, isOrig, syn, fin, rst, ack);
        final boolean closeThisPacket = machine.doClose();
        final boolean genEventThisPacket = machine.genEvent();

        if (ack)
        {
            ackReceived(peer, relAck);
        }
        if (len > 0 && !rst && !seqUnderflow && p.capturedPayloadLength >= len)
        {
            ZeekContentGaps.dataSent(endpoint, syn ? relSeq + 1 : relSeq, len, options);
        }
        checkEof(endpoint);
        if (closeThisPacket)
        {
            connectionClosed(endpoint, endpoint == a ? b : a, genEventThisPacket);
        }
        firstPacketSeen(firstPacketSeen() | (isOrig ? FIRST_PACKET_ORIG : FIRST_PACKET_RESP));
        if (machine.establishedEvent())
        {
            onConnectionEstablished(endpoint, p);
        }
    }

    private void setPartialStatus(final boolean syn, final boolean ack, final boolean isOrig)
    {
        if (isOrig)
        {
            if ((firstPacketSeen() & FIRST_PACKET_ORIG) == 0)
            {
                partial(!syn || ack);
            }
        }
        else if ((firstPacketSeen() & FIRST_PACKET_RESP) == 0 && !partial())
        {
            partial(!syn);
        }
    }

    /**
     * Zeek's SetInactivityTimeout, counted from the last packet; package-private for the state machine, which
     * switches to the long timeout when the handshake ends.
     */
    void setInactivityTimeout(final long timeoutNanos)
    {
        timers.setInactivityTimeout(timeoutNanos, lastNanos());
    }

    /**
     * conn/inactivity.zeek's connection_established handler, run after the packet: interactive services get a
     * longer inactivity timeout. The service port is the responder's, or the originator's when the originator
     * never sent and only its port looks like a server's.
     */
    private void onConnectionEstablished(final ZeekEndpoint sender, final DecodedPacket p)
    {
        final int respPort = resp == sender ? p.srcPort : p.dstPort;
        final int origPort = orig == sender ? p.srcPort : p.dstPort;
        int servicePort = respPort;
        if (orig.state() == ZeekEndpoint.INACTIVE && !options.isLikelyServerPort(respPort) &&
            options.isLikelyServerPort(origPort))
        {
            servicePort = origPort;
        }
        final long timeout = options.portInactivityNanos(servicePort);
        if (timeout > 0)
        {
            setInactivityTimeout(timeout);
        }
    }

    /** The peer acknowledged up to {@code relAck} of {@code endpoint}'s data. */
    private void ackReceived(final ZeekEndpoint endpoint, final long relAck)
    {
        if (ZeekContentGaps.ackReceived(endpoint, peerOf(endpoint), relAck, partial(), history, options))
        {
            checkEof(endpoint);
        }
    }

    /** At {@code endpoint}'s end of data a close that waited for it goes ahead. */
    private void checkEof(final ZeekEndpoint endpoint)
    {
        if (ZeekContentGaps.reachEof(endpoint, peerOf(endpoint)) && closeDeferred())
        {
            closeDeferred(false);
            connectionClosed(endpoint, peerOf(endpoint), deferredGenEvent());
        }
    }

    private void connectionClosed(final ZeekEndpoint endpoint, final ZeekEndpoint peer, final boolean genEventIn)
    {
        if (ZeekContentGaps.dataPending(endpoint, peer))
        {
            closeDeferred(true);
            if (!deferredGenEvent())
            {
                deferredGenEvent(genEventIn);
            }
            return;
        }
        closeDeferred(false);
        if (endpoint.didClose())
        {
            return;
        }
        endpoint.didClose(true);
        final boolean complete = endpoint.state() == ZeekEndpoint.RESET || peer.didClose() ||
            peer.state() == ZeekEndpoint.INACTIVE;
        if (complete)
        {
            boolean genEvent = genEventIn;
            if (endpoint.previousState() != ZeekEndpoint.INACTIVE || peer.state() != ZeekEndpoint.INACTIVE)
            {
                if (deferredGenEvent())
                {
                    genEvent = true;
                    deferredGenEvent(false);
                }
                if (genEvent)
                {
                    active(false); // connection finished
                }
            }
            // The analyzer's timers are cancelled; the connection goes a close delay after its last packet.
            timers.closed(lastNanos() + options.closeDelayNanos);
        }
        else if (endpoint.previousState() != ZeekEndpoint.INACTIVE)
        {
            timers.addExpireTimer(lastNanos() + options.sessionTimerNanos);
        }
    }

    // Timers.

    /**
     * The earliest pending timer, or {@link #NO_TIMER}.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public long nextTimerNanos()
    {
        if (removed() || !created())
        {
            return NO_TIMER;
        }
        return timers.next();
    }

    /**
     * Fires the earliest timer due at or before {@code now}, with {@code now} as the time Zeek passes to it
     * (Zeek dispatches timers with the current network time, not their scheduled time).
     *
     * @return whether Zeek would remove the connection now.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public boolean fireNextTimer(final long now)
    {
        final long next = nextTimerNanos();
        if (next > now)
        {
            return false;
        }
        if (timers.fire(next, now, this))
        {
            removed(true);
            return true;
        }
        return false;
    }

    // Results.

    /** conn.log's conn_state, from both endpoint states (and the history for RSTOS0). */
    public String connState()
    {
        if (!created())
        {
            return null;
        }
        return ZeekConnState.of(orig, resp, history);
    }

    /** The history letters, or null when Zeek would log none. */
    public String history()
    {
        return history.asString();
    }

    /** Letters in {@link #history} (0 for none), for formatting it without a {@code String}. */
    public int historyLength()
    {
        return history.length();
    }

    /** The history's letter {@code index} (0 to {@link #historyLength} - 1), as an ASCII byte. */
    public byte historyLetter(final int index)
    {
        return history.letter(index);
    }

    public boolean historyTruncated()
    {
        return history.truncated();
    }

    /** Zeek's orig_bytes: sequence-space size of what the originator sent, acknowledged-but-unseen included. */
    public long origBytes()
    {
        return orig.size(resp);
    }

    public long respBytes()
    {
        return resp.size(orig);
    }

    public long missedBytes()
    {
        return a.missedBytes() + b.missedBytes();
    }
}
