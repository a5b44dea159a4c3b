package dev.flowtracker.core.tcp;

import dev.flowtracker.core.wire.Tcp;

import static dev.flowtracker.core.tcp.AnalysisFlag.ACK_LOST_SEGMENT;
import static dev.flowtracker.core.tcp.AnalysisFlag.DUPLICATE_ACK;
import static dev.flowtracker.core.tcp.AnalysisFlag.FAST_RETRANSMISSION;
import static dev.flowtracker.core.tcp.AnalysisFlag.KEEP_ALIVE;
import static dev.flowtracker.core.tcp.AnalysisFlag.KEEP_ALIVE_ACK;
import static dev.flowtracker.core.tcp.AnalysisFlag.LOST_SEGMENT;
import static dev.flowtracker.core.tcp.AnalysisFlag.OUT_OF_ORDER;
import static dev.flowtracker.core.tcp.AnalysisFlag.RETRANSMISSION;
import static dev.flowtracker.core.tcp.AnalysisFlag.SPURIOUS_RETRANSMISSION;
import static dev.flowtracker.core.tcp.AnalysisFlag.WINDOW_FULL;
import static dev.flowtracker.core.tcp.AnalysisFlag.WINDOW_UPDATE;
import static dev.flowtracker.core.tcp.AnalysisFlag.ZERO_WINDOW;
import static dev.flowtracker.core.tcp.AnalysisFlag.ZERO_WINDOW_PROBE;
import static dev.flowtracker.core.tcp.AnalysisFlag.ZERO_WINDOW_PROBE_ACK;

/**
 * tshark 4.0's per-segment sequence analysis ({@code tcp.analysis.*}), restated from its behaviour: the checks run
 * in tshark's order on absolute sequence numbers, where a stored value of 0 means "not known yet", with the raw
 * (unscaled) window, and serial-number comparisons on 32 bits. See {@code ../shared/spec/tcp-analysis-semantics.md}
 * and docs/conformance.md for the measured agreement.
 *
 * <p><b>Frames cut by the snapshot length.</b> {@code seglen} is the payload length on the wire (IP length minus
 * headers), never the captured length, so a data segment cut after its header is analysed with its true length. A
 * segment whose TCP header itself was cut (its options partly lost; with {@code tcpdump -s 96} over IPv6 with
 * timestamps, every ACK carrying a SACK block) is analysed like any other: its window, ACK, next sequence number and
 * duplicate-ACK count move on, and the flags it earns become its direction's last flags (a cut keep-alive is still
 * answered by a keep-alive ACK). But tshark reports none of its flags, as its dissection of the cut options ends the
 * frame ("Packet size limited during capture") before the analysis is written out. So such a segment's flags are not
 * counted ({@code TcpConnection.onSegment}, {@link dev.flowtracker.core.decode.DecodedPacket#tcpHeaderCutBySnaplen()}),
 * and the duplicate ACKs and window updates that follow are judged against the state it left. Measured with tshark
 * 4.0.17 on hand-made probes (a cut window update, duplicate ACK, keep-alive, lost segment, retransmission and
 * reused-port SYN; the cut anywhere from byte 16 of the TCP header to its last option byte) and on the captures in
 * tracker-ingest's {@code conformance/snaplen} test resources.
 *
 * <p>Stateless: the state lives in the two {@link TcpEndpoint}s; called on the connection's tracker thread.
 */
final class SequenceAnalysis
{
    /** A fast retransmission follows the duplicate ACKs within this time. */
    static final long FAST_RETRANSMISSION_WINDOW_NANOS = 20_000_000L;
    /** Out-of-order threshold when the initial RTT is unknown. */
    static final long DEFAULT_OUT_OF_ORDER_NANOS = 3_000_000L;
    /** tshark keeps at most this many unacknowledged segments per direction; see {@link #bookkeeping}. */
    static final int UNACKED_SEGMENT_LIMIT = 10_000;

    private SequenceAnalysis()
    {
    }

    /**
     * Analyses one segment sent by {@code fwd} to {@code rev} and updates both sides' analysis state.
     *
     * @param flags            flags already set on this segment (reused ports), kept in the result.
     * @param initialRttNanos  the connection's initial RTT so far, 0 or less when unknown.
     * @return the segment's {@link AnalysisFlag} bit set.
     */
    static int analyse(
        final TcpEndpoint fwd, final TcpEndpoint rev, final int seq, final int ack, final int seglen,
        final int tcpFlags, final int window, final long now, final long initialRttNanos, final int flags)
    {
        int result = flags;
        final boolean synFinRst = (tcpFlags & (Tcp.SYN | Tcp.FIN | Tcp.RST)) != 0;
        boolean skipToFinished = false;

        // A SYN without ACK on a known stream: before judging it, tshark moves this side's next expected sequence
        // number back to the end of its in-order data (forgetting, say, a RST far ahead) but keeps nextSeqTime.
        // Measured with tshark 4.0.17: the SYN itself is then a retransmission, not out of order.
        if ((tcpFlags & (Tcp.SYN | Tcp.ACK)) == Tcp.SYN && fwd.maxSeqToBeAcked() != 0)
        {
            fwd.nextSeq(fwd.maxSeqToBeAcked());
        }
        // Any segment from this side lets tshark drop the peer's segments it acknowledges from its list; we cannot
        // tell how many, so assume all (the count below then never exceeds tshark's).
        rev.unackedSegments(0);

        if (seglen == 1 && seq == fwd.nextSeq() && rev.window() == 0)
        {
            result |= ZERO_WINDOW_PROBE.bit();
            skipToFinished = true;
        }
        if (!skipToFinished)
        {
            result = ackSideChecks(fwd, rev, seq, ack, seglen, tcpFlags, window, synFinRst, result);
        }
        // The ACK moved: a new run of duplicate ACKs may start.
        if (ack != fwd.lastAck())
        {
            fwd.dupAckNum(0);
        }
        result = ackedUnseen(rev, ack, tcpFlags, result);
        if (seglen > 0 || (tcpFlags & (Tcp.SYN | Tcp.FIN)) != 0)
        {
            result = retransmissionFamily(fwd, rev, seq, seglen, tcpFlags, now, initialRttNanos, result);
        }
        bookkeeping(fwd, seq, ack, seglen, tcpFlags, window, now, result);
        return result;
    }

    /** Zero window, lost segment, keep-alive, window update/full, keep-alive ACK, zero-window-probe ACK, dup ACK. */
    private static int ackSideChecks(
        final TcpEndpoint fwd, final TcpEndpoint rev, final int seq, final int ack, final int seglen,
        final int tcpFlags, final int window, final boolean synFinRst, final int flags)
    {
        int result = flags;
        if (window == 0 && !synFinRst)
        {
            result |= ZERO_WINDOW.bit();
        }
        if (fwd.nextSeq() != 0 && gt(seq, fwd.nextSeq()) && (tcpFlags & Tcp.RST) == 0)
        {
            result |= LOST_SEGMENT.bit();
        }
        if ((seglen == 0 || seglen == 1) && seq == fwd.nextSeq() - 1 && !synFinRst)
        {
            result |= KEEP_ALIVE.bit();
        }
        final boolean sameSeqAndAck = seq == fwd.nextSeq() && ack == fwd.lastAck();
        if (seglen == 0 && window != 0 && window != fwd.window() && sameSeqAndAck && !synFinRst)
        {
            result |= WINDOW_UPDATE.bit();
        }
        if (seglen > 0 && rev.windowScaleRaw() != TcpEndpoint.WINDOW_SCALE_UNKNOWN && !synFinRst)
        {
            if (seq + seglen == rev.lastAck() + (rev.window() << rev.windowShift()))
            {
                result |= WINDOW_FULL.bit();
            }
        }
        if (seglen == 0 && !synFinRst && sameSeqAndAck)
        {
            if (window != 0 && window == fwd.window() && (rev.lastSegmentFlags() & KEEP_ALIVE.bit()) != 0)
            {
                return result | KEEP_ALIVE_ACK.bit();
            }
            if (window == 0 && fwd.window() == 0 && (rev.lastSegmentFlags() & ZERO_WINDOW_PROBE.bit()) != 0)
            {
                return result | ZERO_WINDOW_PROBE_ACK.bit();
            }
            if (window != 0 && window == fwd.window())
            {
                fwd.dupAckNum(fwd.dupAckNum() == -1 ? 1 : fwd.dupAckNum() + 1);
                result |= DUPLICATE_ACK.bit();
            }
        }
        return result;
    }

    /** ACKed unseen segment: the ACK covers more than the peer was seen sending. */
    private static int ackedUnseen(final TcpEndpoint rev, final int ack, final int tcpFlags, final int flags)
    {
        if (rev.maxSeqToBeAcked() == 0 || !gt(ack, rev.maxSeqToBeAcked()) || (tcpFlags & Tcp.ACK) == 0)
        {
            return flags;
        }
        if (lt(rev.maxSeqToBeAcked(), rev.nextSeq()))
        {
            rev.maxSeqToBeAcked(rev.nextSeq());
            return flags | ACK_LOST_SEGMENT.bit();
        }
        // The peer is stalled with pure ACKs: flag the same missing segment only once.
        final int result = rev.dupAckNum() == 0 ? flags | ACK_LOST_SEGMENT.bit() : flags;
        rev.dupAckNum(-1);
        return result;
    }

    private static int retransmissionFamily(
        final TcpEndpoint fwd, final TcpEndpoint rev, final int seq, final int seglen, final int tcpFlags,
        final long now, final long initialRttNanos, final int flags)
    {
        if ((flags & KEEP_ALIVE.bit()) != 0)
        {
            return flags;
        }
        boolean seqNotAdvanced = fwd.nextSeq() != 0 && lt(seq, fwd.nextSeq());
        // One byte below nextseq with more than one byte is new data after a zero-window probe.
        if (seglen > 1 && fwd.nextSeq() - 1 == seq)
        {
            seqNotAdvanced = false;
        }
        if (seglen > 0 && rev.lastAck() != 0 && le(seq + seglen, rev.lastAck()))
        {
            return flags | SPURIOUS_RETRANSMISSION.bit() | RETRANSMISSION.bit();
        }
        // tshark's counter is unsigned: the -1 of an ACKed-unseen report passes as many duplicate ACKs.
        if (seqNotAdvanced && Integer.compareUnsigned(rev.dupAckNum(), 2) >= 0 && rev.lastAck() == seq &&
            now - rev.lastAckTime() < FAST_RETRANSMISSION_WINDOW_NANOS)
        {
            return flags | FAST_RETRANSMISSION.bit() | RETRANSMISSION.bit();
        }
        final long threshold = initialRttNanos > 0 ? initialRttNanos : DEFAULT_OUT_OF_ORDER_NANOS;
        final int synOrFin = (tcpFlags & (Tcp.SYN | Tcp.FIN)) != 0 ? 1 : 0;
        if (seqNotAdvanced && now - fwd.nextSeqTime() < threshold && fwd.nextSeq() != seq + seglen + synOrFin)
        {
            return flags | OUT_OF_ORDER.bit();
        }
        return seqNotAdvanced ? flags | RETRANSMISSION.bit() : flags;
    }

    private static void bookkeeping(
        final TcpEndpoint fwd, final int seq, final int ack, final int seglen, final int tcpFlags, final int window,
        final long now, final int flags)
    {
        final boolean probe = (flags & ZERO_WINDOW_PROBE.bit()) != 0;
        int nextSeq = seq + seglen;
        // tshark counts the SYN or FIN only when the segment joins its unacknowledged list, which stops growing at
        // UNACKED_SEGMENT_LIMIT entries. unackedSegments is a lower bound of that list, so we skip the +1 only where
        // tshark certainly does.
        if ((seglen > 0 || (tcpFlags & (Tcp.SYN | Tcp.FIN)) != 0) && fwd.unackedSegments() < UNACKED_SEGMENT_LIMIT)
        {
            fwd.unackedSegments(fwd.unackedSegments() + 1);
            nextSeq += (tcpFlags & (Tcp.SYN | Tcp.FIN)) != 0 ? 1 : 0;
        }
        // The highest sequence seen; zero-window probes do not advance it.
        if ((gt(nextSeq, fwd.nextSeq()) || fwd.nextSeq() == 0) && !probe)
        {
            fwd.nextSeq(nextSeq);
            fwd.nextSeqTime(now);
        }
        if ((seq == fwd.maxSeqToBeAcked() || fwd.maxSeqToBeAcked() == 0) && !probe)
        {
            fwd.maxSeqToBeAcked(fwd.nextSeq());
        }
        fwd.window(window);
        fwd.lastAck(ack);
        fwd.lastAckTime(now);
        fwd.lastSegmentFlags(flags);
    }

    /** Serial-number comparisons (RFC 1982) on 32 bits. */
    static boolean gt(final int a, final int b)
    {
        return b - a < 0;
    }

    static boolean lt(final int a, final int b)
    {
        return a - b < 0;
    }

    static boolean le(final int a, final int b)
    {
        return a - b <= 0;
    }
}
