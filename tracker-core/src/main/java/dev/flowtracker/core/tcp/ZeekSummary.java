package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.wire.Tcp;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Zeek's view of one connection, emulated packet by packet: originator and responder (with Zeek's role flips),
 * both endpoint states, the history string, sizes, content gaps and the timers that decide when Zeek removes the
 * connection. It yields {@code conn_state}, {@code history}, {@code orig_bytes}, {@code resp_bytes} and
 * {@code missed_bytes} as Zeek 9.1 writes them into conn.log. The rules, restated from Zeek's source, are in
 * docs/zeek-conn-semantics.md; method names follow the steps described there.
 *
 * <p>State is bounded: two {@link ZeekEndpoint}s, a history of at most {@link #MAX_HISTORY} letters and a few
 * timer instants. Owned by the connection's tracker thread.
 */
public final class ZeekSummary
{
    /** Longest history kept; Zeek's is unbounded, ours stops growing here (and says so in the record). */
    public static final int MAX_HISTORY = 48;

    static final long NO_TIMER = Long.MAX_VALUE;

    private static final int TOO_LARGE_SEQ_DELTA = 1_048_576;
    private static final int MAX_ABOVE_HOLE_WITHOUT_ACKS = 16_384;

    // Once-per-direction history bits (the responder's are shifted left by 16).
    private static final int HIST_SYN = 0x1;
    private static final int HIST_FIN = 0x2;
    private static final int HIST_RST = 0x4;
    private static final int HIST_FIN_RST = 0x8;
    private static final int HIST_DATA = 0x10;
    private static final int HIST_ACK = 0x20;
    private static final int HIST_MULTI_FLAG = 0x40;

    private static final int FIRST_PACKET_ORIG = 1;
    private static final int FIRST_PACKET_RESP = 2;

    /** Endpoint of side A (first packet's sender) and side B; {@link #orig} is one of them. */
    final ZeekEndpoint a = new ZeekEndpoint();
    final ZeekEndpoint b = new ZeekEndpoint();
    ZeekEndpoint orig = a;
    ZeekEndpoint resp = b;

    private final byte[] history = new byte[MAX_HISTORY];
    private int historyLength;
    private boolean historyTruncated;
    private int historySeen;

    /** Whether Zeek would have made this connection (some packets are dropped before the lookup). */
    boolean created;
    private boolean partial;
    private int firstPacketSeen;
    private boolean active = true;
    private boolean closeDeferred;
    private boolean deferredGenEvent;

    long startNanos;
    long lastNanos;

    // Timers (absolute nanoseconds, NO_TIMER when not pending).
    private final long[] expireAt = new long[3];
    private long attemptAt = NO_TIMER;
    private long deleteAt = NO_TIMER;
    private long inactivityAt = NO_TIMER;
    private long inactivityTimeoutNanos;
    boolean removed;

    /** Options that change Zeek's decisions. Shared, read-only. */
    private ZeekOptions options;

    void reset(final ZeekOptions options)
    {
        this.options = options;
    }

    ZeekOptions options()
    {
        return options;
    }

    /** Bytes {@link #encode} writes. */
    static final int ENCODED_BYTES = 14 + MAX_HISTORY + Integer.BYTES + 9 * Long.BYTES + 2 * ZeekEndpoint.ENCODED_BYTES;

    /**
     * Back to the state of a new summary, for a recycled connection; allocates nothing. The options go too:
     * {@link #reset} or {@link ConnectionTracker#restore} binds them again.
     */
    void clear()
    {
        a.clear();
        b.clear();
        orig = a;
        resp = b;
        Arrays.fill(history, (byte)0);
        historyLength = 0;
        historyTruncated = false;
        historySeen = 0;
        created = false;
        partial = false;
        firstPacketSeen = 0;
        active = true;
        closeDeferred = false;
        deferredGenEvent = false;
        startNanos = 0;
        lastNanos = 0;
        // A new summary's chains are 0, not NO_TIMER: create() sets them, and nothing reads them before.
        Arrays.fill(expireAt, 0);
        attemptAt = NO_TIMER;
        deleteAt = NO_TIMER;
        inactivityAt = NO_TIMER;
        inactivityTimeoutNanos = 0;
        removed = false;
        options = null;
        establishedEvent = false;
        doClose = false;
        genEvent = false;
        underflow = false;
    }

    /**
     * Writes every field but the options, in declaration order (see {@link FlowStateCodec}); {@link #orig} and
     * {@link #resp} as whether side A is the originator. The per-packet scratch flags are written too, although
     * each packet sets them before reading them, so that a decoded summary equals the original field for field.
     */
    void encode(final StateBuffer dst)
    {
        a.encode(dst);
        b.encode(dst);
        FlowStateCodec.putBoolean(dst, orig == a);
        dst.put(history);
        FlowStateCodec.putSmall(dst, historyLength);
        FlowStateCodec.putBoolean(dst, historyTruncated);
        dst.putInt(historySeen);
        FlowStateCodec.putBoolean(dst, created);
        FlowStateCodec.putBoolean(dst, partial);
        FlowStateCodec.putSmall(dst, firstPacketSeen);
        FlowStateCodec.putBoolean(dst, active);
        FlowStateCodec.putBoolean(dst, closeDeferred);
        FlowStateCodec.putBoolean(dst, deferredGenEvent);
        dst.putLong(startNanos);
        dst.putLong(lastNanos);
        FlowStateCodec.putLongs(dst, expireAt);
        dst.putLong(attemptAt);
        dst.putLong(deleteAt);
        dst.putLong(inactivityAt);
        dst.putLong(inactivityTimeoutNanos);
        FlowStateCodec.putBoolean(dst, removed);
        FlowStateCodec.putBoolean(dst, establishedEvent);
        FlowStateCodec.putBoolean(dst, doClose);
        FlowStateCodec.putBoolean(dst, genEvent);
        FlowStateCodec.putBoolean(dst, underflow);
    }

    /** Reads what {@link #encode} wrote; the options stay unset. */
    void decode(final StateBuffer src)
    {
        a.decode(src);
        b.decode(src);
        final boolean aIsOrig = FlowStateCodec.getBoolean(src, "ZeekSummary.orig");
        orig = aIsOrig ? a : b;
        resp = aIsOrig ? b : a;
        src.get(history);
        historyLength = FlowStateCodec.getSmall(src, MAX_HISTORY, "ZeekSummary.historyLength");
        historyTruncated = FlowStateCodec.getBoolean(src, "ZeekSummary.historyTruncated");
        historySeen = src.getInt();
        created = FlowStateCodec.getBoolean(src, "ZeekSummary.created");
        partial = FlowStateCodec.getBoolean(src, "ZeekSummary.partial");
        firstPacketSeen = FlowStateCodec.getSmall(
            src, FIRST_PACKET_ORIG | FIRST_PACKET_RESP, "ZeekSummary.firstPacketSeen");
        active = FlowStateCodec.getBoolean(src, "ZeekSummary.active");
        closeDeferred = FlowStateCodec.getBoolean(src, "ZeekSummary.closeDeferred");
        deferredGenEvent = FlowStateCodec.getBoolean(src, "ZeekSummary.deferredGenEvent");
        startNanos = src.getLong();
        lastNanos = src.getLong();
        FlowStateCodec.getLongs(src, expireAt);
        attemptAt = src.getLong();
        deleteAt = src.getLong();
        inactivityAt = src.getLong();
        inactivityTimeoutNanos = src.getLong();
        removed = FlowStateCodec.getBoolean(src, "ZeekSummary.removed");
        establishedEvent = FlowStateCodec.getBoolean(src, "ZeekSummary.establishedEvent");
        doClose = FlowStateCodec.getBoolean(src, "ZeekSummary.doClose");
        genEvent = FlowStateCodec.getBoolean(src, "ZeekSummary.genEvent");
        underflow = FlowStateCodec.getBoolean(src, "ZeekSummary.underflow");
    }

    /**
     * Creates the connection as Zeek would for its first accepted packet, flipping roles when the sender's port
     * looks like a server's and the packet is not a pure SYN.
     */
    void create(final DecodedPacket p, final boolean fromA)
    {
        created = true;
        startNanos = p.timestampNanos;
        lastNanos = p.timestampNanos;
        a.isOrig = fromA;
        b.isOrig = !fromA;
        orig = fromA ? a : b;
        resp = fromA ? b : a;
        for (int i = 0; i < expireAt.length; i++)
        {
            expireAt[i] = NO_TIMER;
        }
        expireAt[0] = p.timestampNanos + options.synTimeoutNanos;
        inactivityTimeoutNanos = options.initialInactivityNanos;
        inactivityAt = p.timestampNanos + inactivityTimeoutNanos;
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

    private void flipRoles()
    {
        final ZeekEndpoint previousOrig = orig;
        orig = resp;
        resp = previousOrig;
        orig.isOrig = true;
        resp.isOrig = false;
        firstPacketSeen = ((firstPacketSeen & FIRST_PACKET_ORIG) != 0 ? FIRST_PACKET_RESP : 0) |
            ((firstPacketSeen & FIRST_PACKET_RESP) != 0 ? FIRST_PACKET_ORIG : 0);
        partial = false;
        addHistory('^');
    }

    /** Whether side A is the originator now. */
    boolean aIsOrig()
    {
        return orig == a;
    }

    /** A packet Zeek finds a connection for but skips for a bad TCP checksum: only the C letter. */
    void onBadChecksum(final boolean fromA)
    {
        scaled(fromA ? a : b, ZeekEndpoint.CHECKSUM);
    }

    /**
     * Zeek's reuse test for a packet on this connection: only a SYN (or a SYN+ACK while the originator is still
     * inactive) can start a new connection, and only with a new sequence number unless a side has closed.
     */
    boolean isReusedBy(final DecodedPacket p)
    {
        if (!p.tcpHeaderComplete || (p.flags & Tcp.SYN) == 0)
        {
            return false;
        }
        ZeekEndpoint compared = orig;
        if ((p.flags & Tcp.ACK) != 0)
        {
            if (orig.state != ZeekEndpoint.INACTIVE)
            {
                return false;
            }
            compared = resp;
        }
        if (!orig.didClose && !resp.didClose)
        {
            final long seq = p.seq & 0xFFFF_FFFFL;
            if (seq == compared.startSeq)
            {
                return false;
            }
            return (p.flags & Tcp.ACK) != 0 || compared.state != ZeekEndpoint.SYN_ACK_SENT ||
                resp.state != ZeekEndpoint.INACTIVE || seq != resp.startSeq;
        }
        return true;
    }

    /** One packet accepted by Zeek (checksum good or not checked). {@code fromA}: sent by side A. */
    void onPacket(final DecodedPacket p, final boolean fromA)
    {
        final ZeekEndpoint endpoint = fromA ? a : b;
        final ZeekEndpoint peer = fromA ? b : a;
        // Zeek reads the role once; a flip inside this packet leaves the local value stale, on purpose.
        final boolean isOrig = endpoint.isOrig;
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
        initEndpoint(endpoint, syn, p.seq, seqOnePast);

        final long relSeq = relativeSeq(endpoint, p.seq, endpoint.lastSeq, endpoint.seqWraps);
        final boolean seqUnderflow = underflow;
        updateHistory(endpoint, syn, fin, rst, ack, relSeq, len);
        if (p.window == 0 && !rst && peer.state != ZeekEndpoint.CLOSED && endpoint.state != ZeekEndpoint.RESET)
        {
            scaled(endpoint, ZeekEndpoint.ZERO_WINDOW);
        }
        if (!orig.didClose || !resp.didClose)
        {
            lastNanos = now;
        }
        if (fin)
        {
            endpoint.finCount++;
            endpoint.finSeq = relSeq + segmentLength;
        }
        if (rst)
        {
            endpoint.rstCount++;
        }

        long relAck = 0;
        if (ack)
        {
            if (peer.state == ZeekEndpoint.INACTIVE)
            {
                relAck = 1;
                peer.initStart(p.ack - 1);
                peer.ackSeq = p.ack - 1;
                peer.lastSeq = p.ack - 1;
            }
            else
            {
                relAck = relativeSeq(peer, p.ack, peer.ackSeq, peer.ackWraps);
                if (underflow)
                {
                    relAck = 0;
                }
                else if (!rst)
                {
                    updateAckSeq(peer, p.ack);
                }
            }
        }

        updateLastSeq(endpoint, seqOnePast, syn, fin, rst, len);
        doClose = false;
        genEvent = false;
        establishedEvent = false;
        updateStateMachine(now, endpoint, peer, p.seq, len, isOrig, syn, fin, rst, ack);
        final boolean closeThisPacket = doClose;
        final boolean genEventThisPacket = genEvent;

        if (ack)
        {
            ackReceived(peer, relAck);
        }
        if (len > 0 && !rst && !seqUnderflow && p.capturedPayloadLength >= len)
        {
            dataSent(endpoint, peer, syn ? relSeq + 1 : relSeq, len);
        }
        checkEof(endpoint);
        if (closeThisPacket)
        {
            connectionClosed(endpoint, endpoint == a ? b : a, genEventThisPacket);
        }
        firstPacketSeen |= isOrig ? FIRST_PACKET_ORIG : FIRST_PACKET_RESP;
        if (establishedEvent)
        {
            onConnectionEstablished(endpoint, p);
        }
    }

    // Results of the state machine for the packet being processed (Zeek's do_close / gen_event out-parameters,
    // and whether a connection_established event was raised).
    private boolean establishedEvent;
    private boolean doClose;
    private boolean genEvent;
    // Set by relativeSeq: the number lies before the endpoint's start.
    private boolean underflow;

    private void setPartialStatus(final boolean syn, final boolean ack, final boolean isOrig)
    {
        if (isOrig)
        {
            if ((firstPacketSeen & FIRST_PACKET_ORIG) == 0)
            {
                partial = !syn || ack;
            }
        }
        else if ((firstPacketSeen & FIRST_PACKET_RESP) == 0 && !partial)
        {
            partial = !syn;
        }
    }

    private static void initEndpoint(final ZeekEndpoint endpoint, final boolean syn, final int seq, final int lastSeq)
    {
        switch (endpoint.state)
        {
            case ZeekEndpoint.INACTIVE ->
            {
                if (syn)
                {
                    endpoint.ackSeq = seq;
                    endpoint.initStart(seq);
                    endpoint.lastSeq = lastSeq;
                }
                else
                {
                    endpoint.ackSeq = seq - 1;
                    endpoint.initStart(seq - 1);
                    endpoint.lastSeq = seq; // the first packet is not a retransmission
                }
            }
            case ZeekEndpoint.SYN_SENT, ZeekEndpoint.SYN_ACK_SENT ->
            {
                if (syn && (seq & 0xFFFF_FFFFL) != endpoint.startSeq)
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
                if (syn && endpoint.previousState == ZeekEndpoint.INACTIVE)
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
        endpoint.ackSeq = seq;
        endpoint.lastSeq = lastSeq;
    }

    /** Zeek's relative sequence number, 64-bit; sets {@link #underflow} when it lies before the start. */
    private long relativeSeq(final ZeekEndpoint endpoint, final int current, final int last, final int wrapsIn)
    {
        underflow = false;
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
            final int fromStart = current - (int)endpoint.startSeq;
            underflow = fromStart < 0;
            return fromStart;
        }
        return endpoint.relative(current, wraps);
    }

    private void updateHistory(
        final ZeekEndpoint endpoint, final boolean syn, final boolean fin, final boolean rst, final boolean ack,
        final long relSeq, final int len)
    {
        final int bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
        if (bits > 1)
        {
            if (fin && rst)
            {
                checkHistory(endpoint, HIST_FIN_RST, 'I');
            }
            else
            {
                checkHistory(endpoint, HIST_MULTI_FLAG, 'Q');
            }
        }
        else if (bits == 1)
        {
            if (syn)
            {
                final char code = ack ? 'H' : 'S';
                if (checkHistory(endpoint, HIST_SYN, code) && relSeq != endpoint.historyLastSyn)
                {
                    addEndpointHistory(endpoint, code);
                }
                endpoint.historyLastSyn = relSeq;
            }
            if (fin)
            {
                if (checkHistory(endpoint, HIST_FIN, 'F') && relSeq + len != endpoint.historyLastFin)
                {
                    addEndpointHistory(endpoint, 'F');
                }
                endpoint.historyLastFin = relSeq + len;
            }
            if (rst)
            {
                if (checkHistory(endpoint, HIST_RST, 'R') && relSeq != endpoint.historyLastRst)
                {
                    addEndpointHistory(endpoint, 'R');
                }
                endpoint.historyLastRst = relSeq;
            }
        }
        else if (len > 0)
        {
            checkHistory(endpoint, HIST_DATA, 'D');
        }
        else if (ack)
        {
            checkHistory(endpoint, HIST_ACK, 'A');
        }
    }

    /** Adds the letter the first time per direction; returns whether it had been seen before. */
    private boolean checkHistory(final ZeekEndpoint endpoint, final int mask, final char code)
    {
        if ((code == 'A' || code == 'D') && historyLength == 1 && history[0] == 'H')
        {
            // A lone SYN+ACK followed by an ACK or data: the SYN+ACK's sender was the responder after all.
            flipRoles();
            historyLength = 0;
            historyTruncated = false;
            addHistory('^');
            addHistory('h');
            firstPacketSeen |= FIRST_PACKET_ORIG;
        }
        final int roleMask = endpoint.isOrig ? mask : mask << 16;
        if ((historySeen & roleMask) == 0)
        {
            historySeen |= roleMask;
            addHistory(endpoint.isOrig ? code : Character.toLowerCase(code));
            return false;
        }
        return true;
    }

    private void addEndpointHistory(final ZeekEndpoint endpoint, final char code)
    {
        addHistory(endpoint.isOrig ? code : Character.toLowerCase(code));
    }

    private void addHistory(final char code)
    {
        if (historyLength < MAX_HISTORY)
        {
            history[historyLength++] = (byte)code;
        }
        else
        {
            historyTruncated = true;
        }
    }

    /** Zeek's scaled letters: added at the 1st, 10th, 100th... occurrence of the event for that endpoint. */
    private void scaled(final ZeekEndpoint endpoint, final int which)
    {
        if (++endpoint.scaledCount[which] == endpoint.scaledThreshold[which])
        {
            addEndpointHistory(endpoint, ZeekEndpoint.SCALED_LETTERS.charAt(which));
            final long next = (long)endpoint.scaledThreshold[which] * 10;
            if (next > Integer.MAX_VALUE)
            {
                endpoint.scaledCount[which] = 0; // Zeek's wrap guard
            }
            else
            {
                endpoint.scaledThreshold[which] = (int)next;
            }
        }
    }

    private static void updateAckSeq(final ZeekEndpoint endpoint, final int ack)
    {
        final int delta = ack - endpoint.ackSeq;
        if (ack == 0 && delta > TOO_LARGE_SEQ_DELTA)
        {
            return; // more likely a broken ACK than a huge connection landing on zero
        }
        if (delta > 0)
        {
            endpoint.updateAckSeq(ack);
        }
    }

    private void updateLastSeq(
        final ZeekEndpoint endpoint, final int lastSeq, final boolean syn, final boolean fin, final boolean rst,
        final int len)
    {
        final int delta = lastSeq - endpoint.lastSeq;
        if ((syn || rst) && (delta > TOO_LARGE_SEQ_DELTA || delta < -TOO_LARGE_SEQ_DELTA))
        {
            return; // not trusted
        }
        if (fin && endpoint.lastSeq == (int)endpoint.startSeq + 1)
        {
            endpoint.updateLastSeq(lastSeq);
        }
        else if (endpoint.state == ZeekEndpoint.RESET)
        {
            return;
        }
        else if (delta > 0)
        {
            endpoint.updateLastSeq(lastSeq);
        }
        else if (len > 0)
        {
            scaled(endpoint, ZeekEndpoint.RETRANSMISSION);
        }
    }

    private void updateStateMachine(
        final long now, final ZeekEndpoint endpoint, final ZeekEndpoint peer, final int seq, final int len,
        final boolean isOrig, final boolean syn, final boolean fin, final boolean rst, final boolean ack)
    {
        switch (endpoint.state)
        {
            case ZeekEndpoint.INACTIVE -> updateInactive(now, endpoint, peer, seq, len, isOrig, syn, fin, rst, ack);
            case ZeekEndpoint.SYN_SENT, ZeekEndpoint.SYN_ACK_SENT -> updateSynSent(endpoint, fin, rst);
            case ZeekEndpoint.ESTABLISHED, ZeekEndpoint.PARTIAL -> updateEstablished(endpoint, peer, syn, fin, rst,
                ack);
            case ZeekEndpoint.CLOSED ->
            {
                // After a FIN exchange a RST changes nothing.
                if (rst && peer.state != ZeekEndpoint.CLOSED)
                {
                    setState(endpoint, ZeekEndpoint.RESET);
                    if (!endpoint.didClose)
                    {
                        doClose = true;
                    }
                }
            }
            default ->
            {
            }
        }
    }

    private void updateInactive(
        final long now, final ZeekEndpoint endpoint, final ZeekEndpoint peer, final int seq, final int len,
        final boolean isOrig, final boolean syn, final boolean fin, final boolean rst, final boolean ack)
    {
        if (syn)
        {
            if (isOrig)
            {
                setState(endpoint, ack ? ZeekEndpoint.SYN_ACK_SENT : ZeekEndpoint.SYN_SENT);
                attemptAt = Math.min(attemptAt, now + options.attemptDelayNanos);
            }
            else
            {
                if (!ack && peer.state == ZeekEndpoint.SYN_ACK_SENT && (seq & 0xFFFF_FFFFL) == endpoint.startSeq)
                {
                    // SYN and SYN+ACK seen in reverse order: flip and establish.
                    partial = false;
                    flipRoles();
                    setState(peer, ZeekEndpoint.ESTABLISHED);
                    firstPacketSeen |= FIRST_PACKET_ORIG;
                }
                if (peer.state == ZeekEndpoint.SYN_SENT)
                {
                    setState(peer, ZeekEndpoint.ESTABLISHED);
                }
                setState(endpoint, ZeekEndpoint.ESTABLISHED);
                establishedEvent |= peer.state != ZeekEndpoint.PARTIAL;
            }
        }
        if (fin)
        {
            setState(endpoint, ZeekEndpoint.CLOSED);
            doClose = true;
            genEvent = true;
        }
        if (rst)
        {
            setState(endpoint, ZeekEndpoint.RESET);
            final boolean reject = isOrig ? peer.state == ZeekEndpoint.ESTABLISHED :
                peer.state == ZeekEndpoint.SYN_SENT || peer.state == ZeekEndpoint.SYN_ACK_SENT;
            doClose = true;
            genEvent = !reject;
        }
        if (endpoint.state == ZeekEndpoint.INACTIVE)
        {
            if (!isOrig && len == 0 && orig.state == ZeekEndpoint.SYN_SENT)
            {
                return; // an ACK of the SYN before the SYN+ACK: not a partial connection
            }
            if (ack && peer.state == ZeekEndpoint.ESTABLISHED)
            {
                setState(endpoint, ZeekEndpoint.ESTABLISHED);
                partial = false;
                firstPacketSeen |= isOrig ? FIRST_PACKET_ORIG : FIRST_PACKET_RESP;
            }
            else
            {
                setState(endpoint, ZeekEndpoint.PARTIAL);
            }
        }
    }

    private void updateSynSent(final ZeekEndpoint endpoint, final boolean fin, final boolean rst)
    {
        if (fin)
        {
            setState(endpoint, ZeekEndpoint.CLOSED);
            doClose = true;
            genEvent = true;
        }
        if (rst)
        {
            setState(endpoint, ZeekEndpoint.RESET);
            active = false; // connection reset
            doClose = true;
        }
    }

    private void updateEstablished(
        final ZeekEndpoint endpoint, final ZeekEndpoint peer, final boolean syn, final boolean fin, final boolean rst,
        final boolean ack)
    {
        if (syn && endpoint.state == ZeekEndpoint.PARTIAL && peer.state == ZeekEndpoint.INACTIVE && !ack)
        {
            setState(endpoint, ZeekEndpoint.SYN_SENT);
        }
        if (fin && !rst)
        {
            setState(endpoint, ZeekEndpoint.CLOSED);
            if (peer.state == ZeekEndpoint.RESET && peer.previousState == ZeekEndpoint.CLOSED)
            {
                // The peer's FIN then RST was a normal close after all.
                setState(peer, ZeekEndpoint.CLOSED);
            }
            doClose = true;
            genEvent = true;
        }
        if (rst)
        {
            setState(endpoint, ZeekEndpoint.RESET);
            doClose = true;
            if (peer.state != ZeekEndpoint.RESET || peer.previousState != ZeekEndpoint.ESTABLISHED)
            {
                active = false; // connection reset
            }
        }
    }

    /** Endpoint state change; leaving the handshake for the first time switches to the long inactivity timeout. */
    private void setState(final ZeekEndpoint endpoint, final int newState)
    {
        if (newState == endpoint.state)
        {
            return;
        }
        final ZeekEndpoint peer = endpoint == a ? b : a;
        if (!ZeekEndpoint.isHandshake(newState) && ZeekEndpoint.isHandshake(endpoint.state) &&
            ZeekEndpoint.isHandshake(peer.state))
        {
            setInactivityTimeout(options.inactivityNanos);
        }
        endpoint.setState(newState);
    }

    private void setInactivityTimeout(final long timeoutNanos)
    {
        if (timeoutNanos == inactivityTimeoutNanos)
        {
            return;
        }
        inactivityTimeoutNanos = timeoutNanos;
        inactivityAt = timeoutNanos == 0 ? NO_TIMER : lastNanos + timeoutNanos;
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
        if (orig.state == ZeekEndpoint.INACTIVE && !options.isLikelyServerPort(respPort) &&
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

    // Reassembly, as far as content gaps need it.

    private void dataSent(final ZeekEndpoint endpoint, final ZeekEndpoint peer, final long relSeq, final int len)
    {
        if (endpoint.skipDeliveries)
        {
            return;
        }
        long seq = relSeq;
        final long upper = relSeq + len;
        final long acked = endpoint.relative(endpoint.ackSeq, endpoint.ackWraps);
        if (seq < acked)
        {
            if (upper <= acked)
            {
                return;
            }
            seq = acked;
        }
        if (upper <= endpoint.trimmed)
        {
            return;
        }
        seq = Math.max(seq, endpoint.trimmed);
        endpoint.addBlock(seq, upper);
        endpoint.deliverContiguous();
        if (endpoint.noDataAcked() && endpoint.undeliveredBytes() > MAX_ABOVE_HOLE_WITHOUT_ACKS)
        {
            endpoint.clearBlocks();
            endpoint.skipDeliveries = true;
        }
        if (options.excessiveDataWithoutAcks > 0 && endpoint.bufferedBytes() > options.excessiveDataWithoutAcks)
        {
            endpoint.clearBlocks();
            endpoint.skipDeliveries = true;
        }
    }

    /** The peer acknowledged up to {@code relAck} of {@code endpoint}'s data: holes below it are gaps. */
    private void ackReceived(final ZeekEndpoint endpoint, final long relAck)
    {
        long seq = relAck;
        if (endpoint.finCount > 0 && seq >= endpoint.finSeq)
        {
            seq = endpoint.finSeq - 1;
        }
        if (seq <= endpoint.trimmed)
        {
            return;
        }
        if (seq > endpoint.lastReassembled)
        {
            undelivered(endpoint, seq);
        }
        endpoint.deliverContiguous();
        endpoint.trimmed = seq;
        checkEof(endpoint);
    }

    private void undelivered(final ZeekEndpoint endpoint, final long upTo)
    {
        if (upTo <= 2 && partial)
        {
            return;
        }
        if (!endpoint.skipDeliveries)
        {
            while (endpoint.blockCount > 0 && endpoint.blockStart[0] < upTo)
            {
                gap(endpoint, endpoint.blockStart[0] - endpoint.lastReassembled);
                endpoint.lastReassembled = endpoint.blockStart[0];
                endpoint.deliverContiguous();
            }
            if (upTo > endpoint.lastReassembled)
            {
                gap(endpoint, upTo - endpoint.lastReassembled);
            }
        }
        if (upTo > endpoint.lastReassembled)
        {
            endpoint.lastReassembled = upTo;
        }
    }

    private void gap(final ZeekEndpoint endpoint, final long length)
    {
        final ZeekEndpoint peer = endpoint == a ? b : a;
        final boolean clean = isClean(endpoint) && isClean(peer);
        if (clean)
        {
            scaled(endpoint, ZeekEndpoint.GAP);
        }
        if (clean || options.reportGapsForPartial)
        {
            endpoint.missedBytes += length;
        }
    }

    private static boolean isClean(final ZeekEndpoint endpoint)
    {
        return endpoint.state == ZeekEndpoint.ESTABLISHED ||
            (endpoint.state == ZeekEndpoint.CLOSED && endpoint.previousState == ZeekEndpoint.ESTABLISHED);
    }

    private boolean dataPending(final ZeekEndpoint endpoint)
    {
        if (endpoint.skipDeliveries)
        {
            return false;
        }
        final long delivered = endpoint.startSeq + endpoint.lastReassembled;
        final long last = ZeekEndpoint.full(endpoint.lastSeq, endpoint.seqWraps);
        if (last < delivered)
        {
            return false;
        }
        if (delivered != last - 1 && delivered != last)
        {
            return true;
        }
        final ZeekEndpoint peer = endpoint == a ? b : a;
        return endpoint.state != ZeekEndpoint.RESET && peer.hasUndeliveredData();
    }

    private void checkEof(final ZeekEndpoint endpoint)
    {
        if (!endpoint.didEof &&
            (endpoint.finCount > 0 || endpoint.state == ZeekEndpoint.CLOSED || endpoint.state == ZeekEndpoint.RESET) &&
            !dataPending(endpoint))
        {
            endpoint.didEof = true;
            if (closeDeferred)
            {
                closeDeferred = false;
                connectionClosed(endpoint, endpoint == a ? b : a, deferredGenEvent);
            }
        }
    }

    private void connectionClosed(final ZeekEndpoint endpoint, final ZeekEndpoint peer, final boolean genEventIn)
    {
        if (dataPending(endpoint))
        {
            closeDeferred = true;
            if (!deferredGenEvent)
            {
                deferredGenEvent = genEventIn;
            }
            return;
        }
        closeDeferred = false;
        if (endpoint.didClose)
        {
            return;
        }
        endpoint.didClose = true;
        final boolean complete = endpoint.state == ZeekEndpoint.RESET || peer.didClose ||
            peer.state == ZeekEndpoint.INACTIVE;
        if (complete)
        {
            boolean genEvent = genEventIn;
            if (endpoint.previousState != ZeekEndpoint.INACTIVE || peer.state != ZeekEndpoint.INACTIVE)
            {
                if (deferredGenEvent)
                {
                    genEvent = true;
                    deferredGenEvent = false;
                }
                if (genEvent)
                {
                    active = false; // connection finished
                }
            }
            // The analyzer's timers are cancelled; the connection goes a close delay after its last packet.
            for (int i = 0; i < expireAt.length; i++)
            {
                expireAt[i] = NO_TIMER;
            }
            attemptAt = NO_TIMER;
            deleteAt = Math.min(deleteAt, lastNanos + options.closeDelayNanos);
        }
        else if (endpoint.previousState != ZeekEndpoint.INACTIVE)
        {
            addExpireTimer(lastNanos + options.sessionTimerNanos);
        }
    }

    private void addExpireTimer(final long at)
    {
        for (int i = 0; i < expireAt.length; i++)
        {
            if (expireAt[i] == NO_TIMER)
            {
                expireAt[i] = at;
                return;
            }
        }
        // Every chain is busy: keep the earliest checks (a later chain adds nothing an earlier one misses).
        int latest = 0;
        for (int i = 1; i < expireAt.length; i++)
        {
            if (expireAt[i] > expireAt[latest])
            {
                latest = i;
            }
        }
        expireAt[latest] = Math.min(expireAt[latest], at);
    }

    // Timers.

    /** The earliest pending timer, or {@link #NO_TIMER}. */
    long nextTimerNanos()
    {
        if (removed || !created)
        {
            return NO_TIMER;
        }
        long next = Math.min(Math.min(attemptAt, deleteAt), inactivityAt);
        for (final long at : expireAt)
        {
            next = Math.min(next, at);
        }
        return next;
    }

    /**
     * Fires the earliest timer due at or before {@code now}, with {@code now} as the time Zeek passes to it
     * (Zeek dispatches timers with the current network time, not their scheduled time).
     *
     * @return whether Zeek would remove the connection now.
     */
    boolean fireNextTimer(final long now)
    {
        final long next = nextTimerNanos();
        if (next > now)
        {
            return false;
        }
        if (deleteAt == next)
        {
            deleteAt = NO_TIMER;
            return removed = true;
        }
        if (attemptAt == next)
        {
            attemptAt = NO_TIMER;
            if (active && (orig.state == ZeekEndpoint.SYN_SENT || orig.state == ZeekEndpoint.SYN_ACK_SENT) &&
                resp.state == ZeekEndpoint.INACTIVE)
            {
                return removed = true;
            }
            return false;
        }
        if (inactivityAt == next)
        {
            if (lastNanos + inactivityTimeoutNanos <= now)
            {
                inactivityAt = NO_TIMER;
                return removed = true;
            }
            inactivityAt = lastNanos + inactivityTimeoutNanos;
            return false;
        }
        for (int i = 0; i < expireAt.length; i++)
        {
            if (expireAt[i] == next)
            {
                expireAt[i] = NO_TIMER;
                return expire(now, i);
            }
        }
        return false;
    }

    private boolean expire(final long now, final int chain)
    {
        if (!active)
        {
            return false;
        }
        if (lastNanos + options.connectionLingerNanos < now)
        {
            if ((orig.didClose || resp.didClose) &&
                ((orig.didClose && resp.didClose) || orig.state == ZeekEndpoint.RESET ||
                    resp.state == ZeekEndpoint.RESET || orig.state == ZeekEndpoint.INACTIVE ||
                    resp.state == ZeekEndpoint.INACTIVE))
            {
                return removed = true;
            }
            if (resp.state == ZeekEndpoint.INACTIVE && orig.state == ZeekEndpoint.INACTIVE)
            {
                return removed = true;
            }
        }
        expireAt[chain] = now + options.sessionTimerNanos;
        return false;
    }

    // Results.

    /** conn.log's conn_state, from both endpoint states (and the history for RSTOS0). */
    public String connState()
    {
        if (!created)
        {
            return null;
        }
        final int os = orig.state;
        final int rs = resp.state;
        final boolean origInactive = orig.isInactiveOrPartial();
        final boolean respInactive = resp.isInactiveOrPartial();
        if (rs == ZeekEndpoint.RESET)
        {
            if (os == ZeekEndpoint.SYN_SENT || os == ZeekEndpoint.SYN_ACK_SENT ||
                (os == ZeekEndpoint.RESET && orig.size(resp) == 0 && resp.size(orig) == 0))
            {
                return "REJ";
            }
            return origInactive ? "RSTRH" : "RSTR";
        }
        if (os == ZeekEndpoint.RESET)
        {
            if (respInactive)
            {
                return isSynThenReset() ? "RSTOS0" : "OTH";
            }
            return "RSTO";
        }
        if (rs == ZeekEndpoint.CLOSED && os == ZeekEndpoint.CLOSED)
        {
            return "SF";
        }
        if (os == ZeekEndpoint.CLOSED)
        {
            return respInactive ? "SH" : "S2";
        }
        if (rs == ZeekEndpoint.CLOSED)
        {
            return origInactive ? "SHR" : "S3";
        }
        if (os == ZeekEndpoint.SYN_SENT && rs == ZeekEndpoint.INACTIVE)
        {
            return "S0";
        }
        if (os == ZeekEndpoint.ESTABLISHED && rs == ZeekEndpoint.ESTABLISHED)
        {
            return "S1";
        }
        return "OTH";
    }

    /** The whole history matches {@code ^?S[^HAFGIQ]*R.*}. */
    private boolean isSynThenReset()
    {
        int i = 0;
        if (i < historyLength && history[i] == '^')
        {
            i++;
        }
        if (i >= historyLength || history[i] != 'S')
        {
            return false;
        }
        for (i++; i < historyLength; i++)
        {
            final byte c = history[i];
            if (c == 'R')
            {
                return true;
            }
            if (c == 'H' || c == 'A' || c == 'F' || c == 'G' || c == 'I' || c == 'Q')
            {
                return false;
            }
        }
        return false;
    }

    /** The history letters, or null when Zeek would log none. */
    public String history()
    {
        if (historyLength == 0)
        {
            return null;
        }
        return new String(history, 0, historyLength, StandardCharsets.US_ASCII);
    }

    /** Letters in {@link #history} (0 for none), for formatting it without a {@code String}. */
    public int historyLength()
    {
        return historyLength;
    }

    /** The history's letter {@code index} (0 to {@link #historyLength} - 1), as an ASCII byte. */
    public byte historyLetter(final int index)
    {
        if (index < 0 || index >= historyLength)
        {
            throw new IndexOutOfBoundsException("history letter " + index + " of " + historyLength);
        }
        return history[index];
    }

    public boolean historyTruncated()
    {
        return historyTruncated;
    }

    public boolean created()
    {
        return created;
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
        return a.missedBytes + b.missedBytes;
    }

    public long startNanos()
    {
        return startNanos;
    }

    /** Zeek's last_time: the last packet's time, frozen once both sides have closed. */
    public long lastNanos()
    {
        return lastNanos;
    }
}
