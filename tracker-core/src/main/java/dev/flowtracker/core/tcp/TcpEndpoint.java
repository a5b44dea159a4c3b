package dev.flowtracker.core.tcp;

import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.state.StateFields;
import java.util.Arrays;

/**
 * What one side of a connection sent, plus its inferred RFC 793 state. Owned by the connection's tracker thread.
 */
public final class TcpEndpoint
{
    long packets;
    long ipBytes;
    long payloadBytes;
    int synCount;
    int finCount;
    int rstCount;

    /** Base of relative sequence numbers (tshark's rule); {@link #baseSeqSet} says whether it is known. */
    int baseSeq;
    boolean baseSeqSet;
    /** Sequence number of this side's SYN (its ISN), if a SYN was seen. */
    int isn;
    boolean isnSeen;
    /** Sequence number of this side's most recent SYN (a SYN+ACK may be resent with a new one). */
    int lastSynSeq;
    /** Sequence number just after this side's FIN, once a FIN was seen. */
    int finEndSeq;
    boolean finSeen;
    boolean rstSeen;

    /** Public for {@code dev.flowtracker.core.flow}. */
    public TcpState state = TcpState.CLOSED;
    private static final TcpState[] STATES = TcpState.values();

    // tshark sequence-analysis state: absolute sequence numbers, 0 meaning "not known yet" (as in tshark).
    static final int WINDOW_SCALE_UNKNOWN = -1;
    static final int WINDOW_SCALE_NONE = -2;
    static final int MAX_WINDOW_SCALE = 14;
    int nextSeq;
    long nextSeqTime;
    int maxSeqToBeAcked;
    int lastAck;
    long lastAckTime;
    /** Last raw window sent; all ones until the first segment (never equal to a 16-bit window). */
    int window = -1;
    /** Shift from the SYN's window-scale option, or {@link #WINDOW_SCALE_UNKNOWN} / {@link #WINDOW_SCALE_NONE}. */
    int windowScale = WINDOW_SCALE_UNKNOWN;
    /** True from this side's SYN until its first ACK without SYN: its window is not scaled yet. */
    boolean firstAck;
    /** Duplicate ACKs in a row; -1 after an ACKed-unseen report (suppresses repeats). */
    int dupAckNum;
    int lastSegmentFlags;
    /**
     * Segments with data, SYN or FIN sent since the peer's last segment, counted up to
     * {@link SequenceAnalysis#UNACKED_SEGMENT_LIMIT}: a lower bound of tshark's list of unacknowledged segments.
     */
    int unackedSegments;
    /** Segments per {@link AnalysisFlag}, unsigned 32-bit (a flow would need 4 G flagged segments to wrap). */
    final int[] analysisCounts = new int[AnalysisFlag.count()];
    boolean lastAckSeen;

    // Negotiated on the SYN; -1 / false when absent.
    int mss = -1;
    boolean sackPermitted;
    boolean timestampsOffered;

    /** Sequence space this side's highest sequence number moved through, 64-bit (survives wraps). */
    long sequenceSpace;
    /** Largest gap seen between this side's highest sequence number and the peer's ACK. */
    long maxInFlight;

    /** Ends (next sequence numbers) of recent segments and their times, for ACK RTT samples. */
    static final int RTT_RING = 8;
    final int[] segmentEnds = new int[RTT_RING];
    final long[] segmentTimes = new long[RTT_RING];
    int ringSize;
    int ringHead;
    long rttSamples;
    long rttMinNanos = Long.MAX_VALUE;
    long rttMaxNanos;
    long rttSumNanos;

    // Security signals.
    /** Public for {@code dev.flowtracker.core.flow}. */
    public long outsideWindow;
    /** Public for {@code dev.flowtracker.core.flow}. */
    public long rstOutsideWindow;
    /** Public for {@code dev.flowtracker.core.flow}. */
    public long dataAfterRst;

    /** Shift that applies to this side's window field now: none before its first ACK or without scaling. */
    int windowShift()
    {
        return windowScale >= 0 && !firstAck ? windowScale : 0;
    }

    void rememberSegmentEnd(final int end, final long nanos)
    {
        // Newest wins: overwrite the oldest slot when full.
        final int slot = (ringHead + ringSize) % RTT_RING;
        if (ringSize < RTT_RING)
        {
            ringSize++;
        }
        else
        {
            ringHead = (ringHead + 1) % RTT_RING;
        }
        segmentEnds[slot] = end;
        segmentTimes[slot] = nanos;
    }

    /** An ACK from the peer: one RTT sample for the newest segment it exactly acknowledges; older ones retire. */
    void sampleRtt(final int ack, final long nanos)
    {
        while (ringSize > 0)
        {
            final int end = segmentEnds[ringHead];
            if (ack - end < 0)
            {
                return; // not acknowledged yet
            }
            final long sent = segmentTimes[ringHead];
            ringHead = (ringHead + 1) % RTT_RING;
            ringSize--;
            final long rtt = nanos - sent;
            // rtt < 0 with nanos >= sent is a difference past 2^63 ns: corrupt timestamps, not an RTT.
            if (ack == end && nanos >= sent && rtt >= 0)
            {
                rttSamples++;
                // Saturates rather than wraps, so absurd capture timestamps cannot turn the mean negative.
                rttSumNanos = rttSumNanos > Long.MAX_VALUE - rtt ? Long.MAX_VALUE : rttSumNanos + rtt;
                rttMinNanos = Math.min(rttMinNanos, rtt);
                rttMaxNanos = Math.max(rttMaxNanos, rtt);
                return;
            }
        }
    }

    /** Bytes {@link #encode} writes. */
    static final int ENCODED_BYTES = 12 + 16 * Integer.BYTES + 14 * Long.BYTES + AnalysisFlag.count() * Integer.BYTES +
        RTT_RING * (Integer.BYTES + Long.BYTES);

    /** Back to the state of a new endpoint, for a recycled connection; allocates nothing. */
    void clear()
    {
        packets = 0;
        ipBytes = 0;
        payloadBytes = 0;
        synCount = 0;
        finCount = 0;
        rstCount = 0;
        baseSeq = 0;
        baseSeqSet = false;
        isn = 0;
        isnSeen = false;
        lastSynSeq = 0;
        finEndSeq = 0;
        finSeen = false;
        rstSeen = false;
        state = TcpState.CLOSED;
        nextSeq = 0;
        nextSeqTime = 0;
        maxSeqToBeAcked = 0;
        lastAck = 0;
        lastAckTime = 0;
        window = -1;
        windowScale = WINDOW_SCALE_UNKNOWN;
        firstAck = false;
        dupAckNum = 0;
        lastSegmentFlags = 0;
        unackedSegments = 0;
        Arrays.fill(analysisCounts, 0);
        lastAckSeen = false;
        mss = -1;
        sackPermitted = false;
        timestampsOffered = false;
        sequenceSpace = 0;
        maxInFlight = 0;
        Arrays.fill(segmentEnds, 0);
        Arrays.fill(segmentTimes, 0);
        ringSize = 0;
        ringHead = 0;
        rttSamples = 0;
        rttMinNanos = Long.MAX_VALUE;
        rttMaxNanos = 0;
        rttSumNanos = 0;
        outsideWindow = 0;
        rstOutsideWindow = 0;
        dataAfterRst = 0;
    }

    /** Writes every field, in declaration order (see {@link dev.flowtracker.core.flow.FlowStateCodec}). */
    void encode(final StateBuffer dst)
    {
        dst.putLong(packets);
        dst.putLong(ipBytes);
        dst.putLong(payloadBytes);
        dst.putInt(synCount);
        dst.putInt(finCount);
        dst.putInt(rstCount);
        dst.putInt(baseSeq);
        StateFields.putBoolean(dst, baseSeqSet);
        dst.putInt(isn);
        StateFields.putBoolean(dst, isnSeen);
        dst.putInt(lastSynSeq);
        dst.putInt(finEndSeq);
        StateFields.putBoolean(dst, finSeen);
        StateFields.putBoolean(dst, rstSeen);
        StateFields.putOrdinal(dst, state);
        dst.putInt(nextSeq);
        dst.putLong(nextSeqTime);
        dst.putInt(maxSeqToBeAcked);
        dst.putInt(lastAck);
        dst.putLong(lastAckTime);
        dst.putInt(window);
        dst.putInt(windowScale);
        StateFields.putBoolean(dst, firstAck);
        dst.putInt(dupAckNum);
        dst.putInt(lastSegmentFlags);
        dst.putInt(unackedSegments);
        // The flag count guards against a build whose AnalysisFlag list differs reading the counts shifted.
        StateFields.putSmall(dst, analysisCounts.length);
        StateFields.putInts(dst, analysisCounts);
        StateFields.putBoolean(dst, lastAckSeen);
        dst.putInt(mss);
        StateFields.putBoolean(dst, sackPermitted);
        StateFields.putBoolean(dst, timestampsOffered);
        dst.putLong(sequenceSpace);
        dst.putLong(maxInFlight);
        StateFields.putInts(dst, segmentEnds);
        StateFields.putLongs(dst, segmentTimes);
        StateFields.putSmall(dst, ringSize);
        StateFields.putSmall(dst, ringHead);
        dst.putLong(rttSamples);
        dst.putLong(rttMinNanos);
        dst.putLong(rttMaxNanos);
        dst.putLong(rttSumNanos);
        dst.putLong(outsideWindow);
        dst.putLong(rstOutsideWindow);
        dst.putLong(dataAfterRst);
    }

    /** Reads what {@link #encode} wrote; bounds-checks what later indexes an array or names an enum. */
    void decode(final StateBuffer src)
    {
        packets = src.getLong();
        ipBytes = src.getLong();
        payloadBytes = src.getLong();
        synCount = src.getInt();
        finCount = src.getInt();
        rstCount = src.getInt();
        baseSeq = src.getInt();
        baseSeqSet = StateFields.getBoolean(src, "TcpEndpoint.baseSeqSet");
        isn = src.getInt();
        isnSeen = StateFields.getBoolean(src, "TcpEndpoint.isnSeen");
        lastSynSeq = src.getInt();
        finEndSeq = src.getInt();
        finSeen = StateFields.getBoolean(src, "TcpEndpoint.finSeen");
        rstSeen = StateFields.getBoolean(src, "TcpEndpoint.rstSeen");
        state = STATES[StateFields.getSmall(src, STATES.length - 1, "TcpEndpoint.state")];
        nextSeq = src.getInt();
        nextSeqTime = src.getLong();
        maxSeqToBeAcked = src.getInt();
        lastAck = src.getInt();
        lastAckTime = src.getLong();
        window = src.getInt();
        windowScale = src.getInt();
        firstAck = StateFields.getBoolean(src, "TcpEndpoint.firstAck");
        dupAckNum = src.getInt();
        lastSegmentFlags = src.getInt();
        unackedSegments = src.getInt();
        final int flagCount = StateFields.getSmall(src, 255, "TcpEndpoint.analysisCounts.length");
        if (flagCount != analysisCounts.length)
        {
            throw new IllegalArgumentException("connection state has " + flagCount +
                " analysis flag counts, this build has " + analysisCounts.length);
        }
        StateFields.getInts(src, analysisCounts);
        lastAckSeen = StateFields.getBoolean(src, "TcpEndpoint.lastAckSeen");
        mss = src.getInt();
        sackPermitted = StateFields.getBoolean(src, "TcpEndpoint.sackPermitted");
        timestampsOffered = StateFields.getBoolean(src, "TcpEndpoint.timestampsOffered");
        sequenceSpace = src.getLong();
        maxInFlight = src.getLong();
        StateFields.getInts(src, segmentEnds);
        StateFields.getLongs(src, segmentTimes);
        ringSize = StateFields.getSmall(src, RTT_RING, "TcpEndpoint.ringSize");
        ringHead = StateFields.getSmall(src, RTT_RING - 1, "TcpEndpoint.ringHead");
        rttSamples = src.getLong();
        rttMinNanos = src.getLong();
        rttMaxNanos = src.getLong();
        rttSumNanos = src.getLong();
        outsideWindow = src.getLong();
        rstOutsideWindow = src.getLong();
        dataAfterRst = src.getLong();
    }

    public int mss()
    {
        return mss;
    }

    public boolean sackPermitted()
    {
        return sackPermitted;
    }

    public boolean timestampsOffered()
    {
        return timestampsOffered;
    }

    public long sequenceSpace()
    {
        return sequenceSpace;
    }

    public long maxBytesInFlight()
    {
        return maxInFlight;
    }

    /** ACK RTT samples for data this side sent (the peer's ACK time minus the segment's time). */
    public long rttSamples()
    {
        return rttSamples;
    }

    public long rttMinNanos()
    {
        return rttSamples == 0 ? -1 : rttMinNanos;
    }

    public long rttMaxNanos()
    {
        return rttSamples == 0 ? -1 : rttMaxNanos;
    }

    /**
     * The sum of this side's ACK RTT samples, saturating at {@link Long#MAX_VALUE}: the difference across one
     * segment is that segment's sample. Public for {@code dev.flowtracker.core.flow}.
     */
    public long rttSumNanos()
    {
        return rttSumNanos;
    }

    public long rttMeanNanos()
    {
        // Clamped because a saturated sum (absurd timestamps) understates the mean.
        return rttSamples == 0 ? -1 : Math.clamp(rttSumNanos / rttSamples, rttMinNanos, rttMaxNanos);
    }

    /** Data segments that started beyond the right edge of the receiver's advertised window. */
    public long outsideWindow()
    {
        return outsideWindow;
    }

    /** RSTs whose sequence number was outside the receiver's window (likely injected). */
    public long rstOutsideWindow()
    {
        return rstOutsideWindow;
    }

    /** Data segments sent after a RST was seen on the connection. */
    public long dataAfterRst()
    {
        return dataAfterRst;
    }

    public long packets()
    {
        return packets;
    }

    public long ipBytes()
    {
        return ipBytes;
    }

    public long payloadBytes()
    {
        return payloadBytes;
    }

    public int synCount()
    {
        return synCount;
    }

    public int finCount()
    {
        return finCount;
    }

    public int rstCount()
    {
        return rstCount;
    }

    public boolean isnSeen()
    {
        return isnSeen;
    }

    /** The ISN as an unsigned 32-bit value; meaningful only when {@link #isnSeen()}. */
    public long isn()
    {
        return isn & 0xFFFF_FFFFL;
    }

    public TcpState state()
    {
        return state;
    }

    /** Segments sent by this side that tshark would flag with {@code flag}. */
    public long analysisCount(final AnalysisFlag flag)
    {
        return Integer.toUnsignedLong(analysisCounts[flag.ordinal()]);
    }

    /** The window-scale shift this side announced, or -1 when unknown or not in use. */
    public int windowScale()
    {
        return Math.max(-1, windowScale == WINDOW_SCALE_NONE ? -1 : windowScale);
    }
}
