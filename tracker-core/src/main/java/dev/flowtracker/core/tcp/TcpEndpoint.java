package dev.flowtracker.core.tcp;

import dev.flowtracker.core.state.StateMemory;

import java.lang.foreign.MemorySegment;

/**
 * What one side of a connection sent, plus its inferred RFC 793 state: a flyweight over {@link #BYTES} of memory,
 * laid out and accessed as {@link EndpointLayout} draws it. A new endpoint wraps memory of its own; {@link #wrap}
 * points it elsewhere. Owned by the connection's tracker thread.
 *
 * <p>Field meanings: {@code baseSeq} is the base of relative sequence numbers (tshark's rule), known once
 * {@code baseSeqSet}; {@code isn} the sequence number of this side's SYN, if {@code isnSeen}; {@code lastSynSeq} that
 * of its most recent SYN (a SYN+ACK may be resent with a new one); {@code finEndSeq} the sequence number just after
 * its FIN, once {@code finSeen}. tshark's sequence-analysis state holds absolute sequence numbers, 0 meaning "not
 * known yet" (as in tshark): {@code window} is the last raw window sent (all ones until the first segment, never
 * equal to a 16-bit window); {@code windowScale} the shift from the SYN's window-scale option, or
 * {@link #WINDOW_SCALE_UNKNOWN} / {@link #WINDOW_SCALE_NONE}; {@code firstAck} is true from this side's SYN until its
 * first ACK without SYN (its window is not scaled yet); {@code dupAckNum} counts duplicate ACKs in a row, -1 after an
 * ACKed-unseen report (suppresses repeats); {@code unackedSegments} counts segments with data, SYN or FIN sent since
 * the peer's last segment, up to {@link SequenceAnalysis#UNACKED_SEGMENT_LIMIT} (a lower bound of tshark's list of
 * unacknowledged segments). {@code analysisCounts} holds the segments per {@link AnalysisFlag}, unsigned 32-bit (a
 * flow would need 4 G flagged segments to wrap). {@code mss}, {@code sackPermitted} and {@code timestampsOffered} are
 * negotiated on the SYN (-1 / false when absent). {@code sequenceSpace} is the sequence space this side's highest
 * sequence number moved through, 64-bit (survives wraps); {@code maxInFlight} the largest gap seen between that and
 * the peer's ACK. {@code segmentEnds}/{@code segmentTimes} are a ring of the ends (next sequence numbers) of recent
 * segments and their times, for ACK RTT samples.
 */
public final class TcpEndpoint extends EndpointLayout
{
    static final int WINDOW_SCALE_UNKNOWN = -1;
    static final int WINDOW_SCALE_NONE = -2;
    static final int MAX_WINDOW_SCALE = 14;


    /** A new endpoint, in memory of its own. */
    public TcpEndpoint()
    {
        wrap(StateMemory.home(BYTES), 0);
        defaults();
    }

    /** A connection's endpoint, on the connection's memory: the connection's {@code clear} sets it. */
    TcpEndpoint(final MemorySegment segment, final long base)
    {
        wrap(segment, base);
    }

    /** Back to the state of a new endpoint, for a recycled connection; allocates nothing. */
    void clear()
    {
        zeroMemory(BYTES);
        defaults();
    }

    /** The fields whose new value is not zero, on zeroed memory (a connection zeroes all its parts at once). */
    void defaults()
    {
        state(TcpState.CLOSED);
        window(-1);
        windowScaleRaw(WINDOW_SCALE_UNKNOWN);
        mss(-1);
        rttMinNanosRaw(Long.MAX_VALUE);
    }

    /** Shift that applies to this side's window field now: none before its first ACK or without scaling. */
    int windowShift()
    {
        final int windowScale = windowScaleRaw();
        return windowScale >= 0 && !firstAck() ? windowScale : 0;
    }

    void rememberSegmentEnd(final int end, final long nanos)
    {
        // Newest wins: overwrite the oldest slot when full.
        final int ringSize = ringSize();
        final int ringHead = ringHead();
        final int slot = (ringHead + ringSize) % RTT_RING;
        if (ringSize < RTT_RING)
        {
            ringSize(ringSize + 1);
        }
        else
        {
            ringHead((ringHead + 1) % RTT_RING);
        }
        segmentEnds(slot, end);
        segmentTimes(slot, nanos);
    }

    /** An ACK from the peer: one RTT sample for the newest segment it exactly acknowledges; older ones retire. */
    void sampleRtt(final int ack, final long nanos)
    {
        while (ringSize() > 0)
        {
            final int ringHead = ringHead();
            final int end = segmentEnds(ringHead);
            if (ack - end < 0)
            {
                return; // not acknowledged yet
            }
            final long sent = segmentTimes(ringHead);
            ringHead((ringHead + 1) % RTT_RING);
            ringSize(ringSize() - 1);
            final long rtt = nanos - sent;
            // rtt < 0 with nanos >= sent is a difference past 2^63 ns: corrupt timestamps, not an RTT.
            if (ack == end && nanos >= sent && rtt >= 0)
            {
                rttSamples(rttSamples() + 1);
                // Saturates rather than wraps, so absurd capture timestamps cannot turn the mean negative.
                final long sum = rttSumNanos();
                rttSumNanos(sum > Long.MAX_VALUE - rtt ? Long.MAX_VALUE : sum + rtt);
                rttMinNanosRaw(Math.min(rttMinNanosRaw(), rtt));
                rttMaxNanosRaw(Math.max(rttMaxNanosRaw(), rtt));
                return;
            }
        }
    }

    public long maxBytesInFlight()
    {
        return maxInFlight();
    }

    public long rttMinNanos()
    {
        return rttSamples() == 0 ? -1 : rttMinNanosRaw();
    }

    public long rttMaxNanos()
    {
        return rttSamples() == 0 ? -1 : rttMaxNanosRaw();
    }

    public long rttMeanNanos()
    {
        // Clamped because a saturated sum (absurd timestamps) understates the mean.
        final long samples = rttSamples();
        return samples == 0 ? -1 : Math.clamp(rttSumNanos() / samples, rttMinNanosRaw(), rttMaxNanosRaw());
    }

    /** The ISN as an unsigned 32-bit value; meaningful only when {@link #isnSeen()}. */
    public long isn()
    {
        return isnRaw() & 0xFFFF_FFFFL;
    }

    /** Segments sent by this side that tshark would flag with {@code flag}. */
    public long analysisCount(final AnalysisFlag flag)
    {
        return Integer.toUnsignedLong(analysisCounts(flag.ordinal()));
    }

    /** The window-scale shift this side announced, or -1 when unknown or not in use. */
    public int windowScale()
    {
        final int windowScale = windowScaleRaw();
        return Math.max(-1, windowScale == WINDOW_SCALE_NONE ? -1 : windowScale);
    }

    /** Rejects bytes read from elsewhere (a checkpoint) whose bounded fields are out of range. */
    void check()
    {
        checkAtMost(STATE_OFFSET, STATES.length - 1, "TcpEndpoint.state");
        checkFlag(BASE_SEQ_SET_OFFSET, "TcpEndpoint.baseSeqSet");
        checkFlag(ISN_SEEN_OFFSET, "TcpEndpoint.isnSeen");
        checkFlag(FIN_SEEN_OFFSET, "TcpEndpoint.finSeen");
        checkFlag(RST_SEEN_OFFSET, "TcpEndpoint.rstSeen");
        checkFlag(FIRST_ACK_OFFSET, "TcpEndpoint.firstAck");
        checkFlag(LAST_ACK_SEEN_OFFSET, "TcpEndpoint.lastAckSeen");
        checkFlag(SACK_PERMITTED_OFFSET, "TcpEndpoint.sackPermitted");
        checkFlag(TIMESTAMPS_OFFERED_OFFSET, "TcpEndpoint.timestampsOffered");
        checkAtMost(RING_SIZE_OFFSET, RTT_RING, "TcpEndpoint.ringSize");
        checkAtMost(RING_HEAD_OFFSET, RTT_RING - 1, "TcpEndpoint.ringHead");
    }

}
