package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.state.StateMemory;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;
import dev.flowtracker.core.wire.Tcp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32C;

/**
 * One TCP connection as seen on the wire: its identity, both endpoints' counters, inferred states and tshark
 * analysis, and Zeek's summary of it. Side "A" is the sender of the first packet seen; which of A and B is the
 * originator follows Zeek (first sender, flipped for likely server ports, a SYN+ACK seen first, or SYN and
 * SYN+ACK in reverse order), so that {@code id.orig_h} and the history letters agree.
 *
 * <p>A flyweight: its own fields live in memory (see {@link ConnectionFields}); the endpoints and the Zeek summary
 * are flyweights of their own. A new connection has memory of its own; a flow store wraps one around each flow's
 * record in turn.
 *
 * <p>Owned by one tracker thread; never shared.
 */
public final class TcpConnection extends ConnectionFields
{
    // The parts, after the connection's own fields: side A's endpoint, side B's, Zeek's summary.
    static final int A_OFFSET = OWN_BYTES;
    static final int B_OFFSET = A_OFFSET + TcpEndpoint.BYTES;
    static final int ZEEK_OFFSET = B_OFFSET + TcpEndpoint.BYTES;
    /**
     * Bytes of the whole state at {@code (segment, base)}, the parts included. Public for
     * {@code dev.flowtracker.core.flow}.
     */
    public static final int BYTES = ZEEK_OFFSET + ZeekSummary.BYTES;

    /**
     * A checksum of everything that gives the record's bytes their meaning: each part's layout (field names, widths,
     * order), the enums stored as ordinals, the byte order. A checkpoint carries it, and a build whose layout differs
     * refuses the checkpoint instead of misreading it. Public for {@code dev.flowtracker.core.flow}.
     */
    public static final int LAYOUT_FINGERPRINT = layoutFingerprint();

    /** {@link ZeekSummary#NO_TIMER} as the record holds it. */
    private static final MemorySegment NO_TIMER_BYTES = noTimerBytes();

    private static MemorySegment noTimerBytes()
    {
        final MemorySegment bytes = Arena.global().allocate(Long.BYTES);
        bytes.set(StateMemory.LONG, 0, ZeekSummary.NO_TIMER);
        return bytes;
    }

    private static int layoutFingerprint()
    {
        final String layouts = ConnectionFields.LAYOUT + "|" + EndpointLayout.LAYOUT + "|" + ZeekSummary.layouts() +
            "|" + Arrays.toString(TcpState.values()) + Arrays.toString(EndReason.values()) +
            Arrays.toString(AnalysisFlag.values()) + "|" + BYTES + "|" + ByteOrder.nativeOrder();
        final CRC32C crc = new CRC32C();
        crc.update(layouts.getBytes(StandardCharsets.US_ASCII));
        return (int)crc.getValue();
    }

    /**
     * The flow-table slot this flyweight is wrapped around, or -1: table bookkeeping, not connection state.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public int slot = -1;

    /** Public for {@code dev.flowtracker.core.flow}. */
    public final TcpEndpoint a;
    /** Public for {@code dev.flowtracker.core.flow}. */
    public final TcpEndpoint b;
    /**
     * Zeek's view: roles, conn_state, history, sizes, gaps and removal timers.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public final ZeekSummary zeek;

    /** A new connection in memory of its own, equal to a cleared one. */
    public TcpConnection()
    {
        final MemorySegment home = StateMemory.home(BYTES);
        a = new TcpEndpoint(home, A_OFFSET);
        b = new TcpEndpoint(home, B_OFFSET);
        zeek = new ZeekSummary(home, ZEEK_OFFSET);
        wrapFields(home, 0);
        clear();
    }

    /**
     * Reads and writes the connection state at {@code (segment, base)} from now on, {@link #BYTES} of it.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void wrap(final MemorySegment segment, final long base)
    {
        wrapFields(segment, base);
        a.wrap(segment, base + A_OFFSET);
        b.wrap(segment, base + B_OFFSET);
        zeek.wrap(segment, base + ZEEK_OFFSET);
    }


    /**
     * Makes this connection's state a copy of {@code other}'s, endpoints and Zeek summary included (the shared Zeek
     * options are not state: set them with {@code zeek.reset}).
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void copyFrom(final TcpConnection other)
    {
        copyMemory(other, BYTES);
        wrap(segment(), base());
    }

    /**
     * Starts a new connection with packet {@code p}; cleared first, so a recycled object equals a new one.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void reset(final DecodedPacket p, final int hash, final long generation, final ZeekOptions zeekOptions)
    {
        clear();
        this.zeek.reset(zeekOptions);
        tunnelId(p.tunnelId);
        ipVersion(p.ipVersion);
        aHigh(p.srcHigh);
        aLow(p.srcLow);
        aPort(p.srcPort);
        bHigh(p.dstHigh);
        bLow(p.dstLow);
        bPort(p.dstPort);
        hash(hash);
        generation(generation);
        firstTimestampNanos(p.timestampNanos);
        lastTimestampNanos(p.timestampNanos);
    }

    /**
     * Back to the state of a new connection, endpoints and Zeek summary included; allocates nothing.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public void clear()
    {
        zeroMemory(BYTES); // once for the whole region: the parts then set only what is not zero
        fieldDefaults();
        a.defaults();
        b.defaults();
        zeek.defaults();
    }

    /**
     * Makes this connection's state a copy of {@code bytes} from {@code offset} ({@link #BYTES} of them, a record as
     * {@link #saveTo} wrote it, by a build of the same {@link #LAYOUT_FINGERPRINT}): a checkpoint's connection. No
     * timer is queued for it ({@link #scheduledTimerNanos} is the tracker's queue, not the connection's) and the Zeek
     * options stay unset.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     *
     * @throws IllegalArgumentException naming the first field out of range (corrupt bytes); the connection is then
     *     cleared.
     */
    public void restoreFrom(final byte[] bytes, final int offset)
    {
        // The copy replaces every byte of the state, so nothing is cleared first; the options are not in the bytes.
        MemorySegment.copy(bytes, offset, segment(), StateMemory.BYTE, base(), BYTES);
        wrap(segment(), base()); // what is derived from the bytes (Zeek's roles) follows them
        zeek.reset(null);
        scheduledTimerNanos(ZeekSummary.NO_TIMER);
        try
        {
            check();
        }
        catch (final IllegalArgumentException ex)
        {
            clear();
            throw ex;
        }
    }

    /**
     * Copies this connection's state, {@link #BYTES} of it, to {@code bytes} from {@code offset}: a checkpoint's
     * connection. Public for {@code dev.flowtracker.core.flow}.
     */
    public void saveTo(final byte[] bytes, final int offset)
    {
        MemorySegment.copy(segment(), StateMemory.BYTE, base(), bytes, offset, BYTES);
        // The queued timer is the tracker's, not the connection's: saved as none, as it is restored.
        MemorySegment.copy(NO_TIMER_BYTES, StateMemory.BYTE, 0, bytes, offset + SCHEDULED_TIMER_NANOS_OFFSET,
            Long.BYTES);
    }

    private void check()
    {
        checkFlag(REUSED_PORTS_OFFSET, "TcpConnection.reusedPorts");
        checkNullableOrdinal(END_REASON_OFFSET, END_REASONS.length, "TcpConnection.endReason");
        checkFlag(LAST_SYN_SEEN_OFFSET, "TcpConnection.lastSynSeen");
        checkFlag(INITIAL_RTT_SEEN_OFFSET, "TcpConnection.initialRttSeen");
        a.check();
        b.check();
        zeek.check();
    }

    /**
     * Whether the packet belongs to this connection's 4-tuple (either direction).
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public boolean matches(final DecodedPacket p)
    {
        return recordMatches(segment(), base(), p);
    }

    /** Public for {@code dev.flowtracker.core.flow}. */
    public boolean isFromA(final DecodedPacket p)
    {
        return p.srcPort == aPort() && p.dstPort == bPort() && p.srcLow == aLow() && p.dstLow == bLow() &&
            p.srcHigh == aHigh() && p.dstHigh == bHigh();
    }

    /**
     * tshark's (4.0) port-reuse rule: a SYN without ACK whose sequence number differs from its direction's base
     * starts a new conversation on the same 4-tuple. A retransmitted SYN (same sequence number) does not, even
     * after a FIN or RST; neither does a SYN+ACK (see {@link #onSegment}).
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public boolean isReusedBy(final DecodedPacket p, final boolean fromA)
    {
        if ((p.flags & (Tcp.SYN | Tcp.ACK)) != Tcp.SYN)
        {
            return false;
        }
        final TcpEndpoint sender = fromA ? a : b;
        return sender.baseSeqSet() && p.seq != sender.baseSeq();
    }

    /**
     * Accounts one segment; {@code fromA} says which side sent it.
     *
     * @return the {@link AnalysisFlag} bits tshark reports on the segment (none when the snapshot length cut its
     *     TCP header, see {@link DecodedPacket#tcpHeaderCutBySnaplen()}).
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public int onSegment(final DecodedPacket p, final boolean fromA)
    {
        final TcpEndpoint sender = fromA ? a : b;
        final TcpEndpoint receiver = fromA ? b : a;
        final int tcpFlags = p.flags;
        final boolean syn = (tcpFlags & Tcp.SYN) != 0;
        final boolean ack = (tcpFlags & Tcp.ACK) != 0;
        final boolean fin = (tcpFlags & Tcp.FIN) != 0;
        final boolean rst = (tcpFlags & Tcp.RST) != 0;

        onZeekPacket(p, fromA);
        lastTimestampNanos(p.timestampNanos);
        sender.packets(sender.packets() + 1);
        sender.ipBytes(sender.ipBytes() + p.ipLength);
        sender.payloadBytes(sender.payloadBytes() + p.payloadLength);

        int flags = pendingFlags();
        pendingFlags(0);
        // Relative-sequence bases, as tshark sets them: own SYN's seq, else seq - 1; the peer's from ack - 1.
        // A SYN+ACK with another seq moves its side's base instead of starting a new conversation.
        // Fragments set no base (tshark sees only the reassembled datagram).
        if (syn && ack && sender.baseSeqSet() && p.seq != sender.baseSeq())
        {
            sender.baseSeq(p.seq);
            flags |= AnalysisFlag.REUSED_PORTS.bit();
        }
        final boolean analysable = p.tcpHeaderComplete;
        if (!p.ipFragmented && analysable)
        {
            if (!sender.baseSeqSet())
            {
                sender.baseSeq(syn ? p.seq : p.seq - 1);
                sender.baseSeqSet(true);
            }
            if (ack && !receiver.baseSeqSet())
            {
                receiver.baseSeq(p.ack - 1);
                receiver.baseSeqSet(true);
            }
        }

        final int previousNextSeq = sender.nextSeq();
        final boolean previousNextSeqKnown = sender.packets() > 1 && previousNextSeq != 0;
        final boolean rstSeenBefore = a.rstSeen() || b.rstSeen();
        if (analysable)
        {
            flags = SequenceAnalysis.analyse(sender, receiver, p.seq, p.ack, p.analysisPayloadLength(), tcpFlags,
                p.window, p.timestampNanos, initialRttSeen() ? rawInitialRttNanos() : 0, flags);
            EndpointExtras.onSegment(sender, receiver, p, previousNextSeq, previousNextSeqKnown, rstSeenBefore);
            sender.lastAckSeen(sender.lastAckSeen() | ack);
        }
        // tshark analyses a segment whose TCP header the snapshot length cut like a whole one (the state moves on,
        // and the flags it earned stay its direction's last flags), but reports none of them: see SequenceAnalysis.
        if (p.tcpHeaderCutBySnaplen())
        {
            flags = 0;
        }
        countFlags(sender, flags);

        onControlFlags(p, sender, receiver, syn, ack, fin, rst);
        EndpointStates.onSegment(sender, receiver, tcpFlags, p.ack, p.payloadLength);
        if (endReason() == null)
        {
            if (rst)
            {
                endReason(EndReason.RST);
            }
            else if (a.finSeen() && b.finSeen())
            {
                endReason(EndReason.FIN);
            }
        }
        return flags;
    }

    /** The SYN, ACK, FIN and RST bookkeeping of a segment: ISN, tshark's initial RTT, window scaling, FIN and RST. */
    private void onControlFlags(
        final DecodedPacket p, final TcpEndpoint sender, final TcpEndpoint receiver, final boolean syn,
        final boolean ack, final boolean fin, final boolean rst)
    {
        if (syn)
        {
            sender.synCount(sender.synCount() + 1);
            sender.lastSynSeq(p.seq);
            if (!sender.isnSeen())
            {
                sender.isnRaw(p.seq);
                sender.isnSeen(true);
            }
            sender.firstAck(true);
            if (!ack)
            {
                lastSynNanos(p.timestampNanos);
                lastSynSeen(true);
            }
        }
        if (ack && !syn)
        {
            // tshark's initial RTT: last SYN to the first ACK without SYN (zero counts as "not yet").
            if (lastSynSeen() && (!initialRttSeen() || rawInitialRttNanos() == 0))
            {
                rawInitialRttNanos(p.timestampNanos - lastSynNanos());
                initialRttSeen(true);
            }
            sender.firstAck(false);
        }
        if (p.windowScale >= 0)
        {
            sender.windowScaleRaw(Math.min(p.windowScale, TcpEndpoint.MAX_WINDOW_SCALE));
        }
        if (syn)
        {
            verifyWindowScaling(sender, receiver, ack);
        }
        if (fin)
        {
            sender.finCount(sender.finCount() + 1);
            if (!sender.finSeen())
            {
                sender.finSeen(true);
                sender.finEndSeq(p.seq + p.payloadLength + (syn ? 2 : 1));
            }
        }
        if (rst)
        {
            sender.rstCount(sender.rstCount() + 1);
            sender.rstSeen(true);
        }
    }

    /**
     * After a SYN or SYN+ACK: scaling is in use only if both sides offered it. A SYN without the option rules it
     * out for both; a SYN+ACK with it after a SYN without it is ignored (tshark's rule).
     */
    private static void verifyWindowScaling(final TcpEndpoint sender, final TcpEndpoint receiver, final boolean synAck)
    {
        if (sender.windowScaleRaw() == TcpEndpoint.WINDOW_SCALE_UNKNOWN)
        {
            sender.windowScaleRaw(TcpEndpoint.WINDOW_SCALE_NONE);
            receiver.windowScaleRaw(TcpEndpoint.WINDOW_SCALE_NONE);
        }
        else if (synAck && receiver.windowScaleRaw() == TcpEndpoint.WINDOW_SCALE_NONE)
        {
            sender.windowScaleRaw(TcpEndpoint.WINDOW_SCALE_NONE);
        }
    }

    private static void countFlags(final TcpEndpoint sender, final int flags)
    {
        for (int remaining = flags; remaining != 0; remaining &= remaining - 1)
        {
            final int flag = Integer.numberOfTrailingZeros(remaining);
            sender.analysisCounts(flag, sender.analysisCounts(flag) + 1);
        }
    }

    /**
     * Whether Zeek drops the packet before looking up its connection: a bad IPv4 header checksum, an IP length
     * beyond the frame, or fewer than 20 bytes of TCP header.
     *
     * <p>Public for {@code dev.flowtracker.core.flow}.
     */
    public static boolean isDroppedByZeek(final DecodedPacket p, final ZeekOptions options)
    {
        if (p.ipChecksum == DecodedPacket.CHECKSUM_BAD && !options.ignoreChecksums())
        {
            return true;
        }
        return p.ipLengthExceedsFrame || p.tcpCapturedLength < Tcp.MIN_HEADER_LENGTH ||
            (!p.tcpHeaderComplete && p.tcpHeaderLength >= Tcp.MIN_HEADER_LENGTH);
    }

    /** Feeds Zeek's view: connection creation, then the packet unless Zeek skips it (bad header or checksum). */
    private void onZeekPacket(final DecodedPacket p, final boolean fromA)
    {
        final ZeekOptions options = zeek.options();
        if (isDroppedByZeek(p, options))
        {
            return;
        }
        if (!zeek.created())
        {
            zeek.create(p, fromA);
        }
        if (!p.tcpHeaderComplete || p.tcpHeaderLength > p.tcpCapturedLength)
        {
            return;
        }
        if (p.tcpChecksum == DecodedPacket.CHECKSUM_BAD && !options.ignoreChecksums())
        {
            zeek.onBadChecksum(fromA);
            return;
        }
        zeek.onPacket(p, fromA);
    }

    private boolean aIsOriginator()
    {
        return !zeek.created() || zeek.aIsOrig();
    }

    /** Whether the connection has closed or reset (it may still see packets until it times out). */
    public boolean isClosed()
    {
        return endReason() != null;
    }

    public TcpEndpoint originator()
    {
        return aIsOriginator() ? a : b;
    }

    public TcpEndpoint responder()
    {
        return aIsOriginator() ? b : a;
    }



    public long originatorAddressHigh()
    {
        return aIsOriginator() ? aHigh() : bHigh();
    }

    public long originatorAddressLow()
    {
        return aIsOriginator() ? aLow() : bLow();
    }

    public int originatorPort()
    {
        return aIsOriginator() ? aPort() : bPort();
    }

    public long responderAddressHigh()
    {
        return aIsOriginator() ? bHigh() : aHigh();
    }

    public long responderAddressLow()
    {
        return aIsOriginator() ? bLow() : aLow();
    }

    public int responderPort()
    {
        return aIsOriginator() ? bPort() : aPort();
    }

    /** Zeek's view of the connection: conn_state, history, sizes, missed bytes. */
    public ZeekSummary zeek()
    {
        return zeek;
    }


    /** Segments flagged {@code flag}, both directions. */
    public long analysisCount(final AnalysisFlag flag)
    {
        return a.analysisCount(flag) + b.analysisCount(flag);
    }

    /**
     * conn.log's duration: from Zeek's first to its last packet of the connection when Zeek's rules created it,
     * else from the first to the last segment seen.
     */
    public long durationNanos()
    {
        return zeek.created() ? zeek.lastNanos() - zeek.startNanos() : lastTimestampNanos() - firstTimestampNanos();
    }





    /** SYN to first ACK, in nanoseconds, or -1 when the handshake was not seen. */
    public long initialRttNanos()
    {
        return initialRttSeen() ? rawInitialRttNanos() : -1;
    }

}
