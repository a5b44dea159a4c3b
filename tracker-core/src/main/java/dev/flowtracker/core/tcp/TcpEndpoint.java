package dev.flowtracker.core.tcp;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * What one side of a connection sent, plus its inferred RFC 793 state: a flyweight over {@link #BYTES} bytes of
 * memory, every field at a fixed offset (little-endian), so that copying an endpoint to or from a flow record, a
 * checkpoint or a cleared state is one bulk copy rather than a field-by-field walk. Today the bytes are the
 * endpoint's own array; the layout is meant to be read in place from the flow record itself.
 *
 * <p>Two regions: what an in-order segment reads and writes (hot), and the counters, options and RTT state touched
 * less often (cold).
 *
 * <pre>
 *  Hot region (48 bytes)
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                 nextSeqTime (ns, 64 bits)                     |  0
 *  +---------------------------------------------------------------+
 *  |                 lastAckTime (ns, 64 bits)                     |  8
 *  +---------------------------------------------------------------+
 *  |                 nextSeq                                       | 16
 *  |                 maxSeqToBeAcked                               | 20
 *  |                 lastAck                                       | 24
 *  |                 window (raw, -1 before the first segment)     | 28
 *  |                 dupAckNum                                     | 32
 *  |                 lastSegmentFlags                              | 36
 *  |                 unackedSegments                               | 40
 *  +---------------+---------------+---------------+---------------+
 *  |  windowScale  |    state      |     bits      |   (spare)     | 44
 *  +---------------+---------------+---------------+---------------+
 *  Cold region (288 bytes): packets, ipBytes, payloadBytes, sequenceSpace, maxInFlight, rttSamples, rttMin,
 *  rttMax, rttSum, outsideWindow, rstOutsideWindow, dataAfterRst (64 bits each, 0-95); synCount, finCount,
 *  rstCount, baseSeq, isn, lastSynSeq, finEndSeq, mss (32 bits each, 96-127); ringSize, ringHead (one byte
 *  each, 128-129); the 15 analysis counts (132-191); the RTT ring's segment ends (192-223) and times
 *  (224-287).
 * </pre>
 *
 * Owned by the connection's tracker thread.
 */
public final class TcpEndpoint
{
    static final int WINDOW_SCALE_UNKNOWN = -1;
    static final int WINDOW_SCALE_NONE = -2;
    static final int MAX_WINDOW_SCALE = 14;
    /** Ends (next sequence numbers) of recent segments and their times, for ACK RTT samples. */
    static final int RTT_RING = 8;

    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfByte BYTE = ValueLayout.JAVA_BYTE;
    private static final TcpState[] STATES = TcpState.values();
    private static final int FLAG_COUNT = AnalysisFlag.count();

    // Hot region.
    static final int NEXT_SEQ_TIME_OFFSET = 0;
    static final int LAST_ACK_TIME_OFFSET = 8;
    static final int NEXT_SEQ_OFFSET = 16;
    static final int MAX_SEQ_TO_BE_ACKED_OFFSET = 20;
    static final int LAST_ACK_OFFSET = 24;
    static final int WINDOW_OFFSET = 28;
    static final int DUP_ACK_NUM_OFFSET = 32;
    static final int LAST_SEGMENT_FLAGS_OFFSET = 36;
    static final int UNACKED_SEGMENTS_OFFSET = 40;
    static final int WINDOW_SCALE_OFFSET = 44;
    static final int STATE_OFFSET = 45;
    static final int BITS_OFFSET = 46;
    static final int HOT_BYTES = 48;

    // Bits of the byte at BITS_OFFSET.
    private static final int BASE_SEQ_SET = 1;
    private static final int ISN_SEEN = 1 << 1;
    private static final int FIN_SEEN = 1 << 2;
    private static final int RST_SEEN = 1 << 3;
    private static final int FIRST_ACK = 1 << 4;
    private static final int LAST_ACK_SEEN = 1 << 5;
    private static final int SACK_PERMITTED = 1 << 6;
    private static final int TIMESTAMPS_OFFERED = 1 << 7;

    // Cold region, from the cold base.
    static final int PACKETS_OFFSET = 0;
    static final int IP_BYTES_OFFSET = 8;
    static final int PAYLOAD_BYTES_OFFSET = 16;
    static final int SEQUENCE_SPACE_OFFSET = 24;
    static final int MAX_IN_FLIGHT_OFFSET = 32;
    static final int RTT_SAMPLES_OFFSET = 40;
    static final int RTT_MIN_OFFSET = 48;
    static final int RTT_MAX_OFFSET = 56;
    static final int RTT_SUM_OFFSET = 64;
    static final int OUTSIDE_WINDOW_OFFSET = 72;
    static final int RST_OUTSIDE_WINDOW_OFFSET = 80;
    static final int DATA_AFTER_RST_OFFSET = 88;
    static final int SYN_COUNT_OFFSET = 96;
    static final int FIN_COUNT_OFFSET = 100;
    static final int RST_COUNT_OFFSET = 104;
    static final int BASE_SEQ_OFFSET = 108;
    static final int ISN_OFFSET = 112;
    static final int LAST_SYN_SEQ_OFFSET = 116;
    static final int FIN_END_SEQ_OFFSET = 120;
    static final int MSS_OFFSET = 124;
    static final int RING_SIZE_OFFSET = 128;
    static final int RING_HEAD_OFFSET = 129;
    static final int ANALYSIS_COUNTS_OFFSET = 132;
    static final int SEGMENT_ENDS_OFFSET = ANALYSIS_COUNTS_OFFSET + 4 * 15;
    static final int SEGMENT_TIMES_OFFSET = SEGMENT_ENDS_OFFSET + 4 * RTT_RING;
    static final int COLD_BYTES = SEGMENT_TIMES_OFFSET + 8 * RTT_RING;

    /** Bytes of one endpoint's state, and of what {@link #encode} writes. */
    static final int BYTES = HOT_BYTES + COLD_BYTES;
    static final int ENCODED_BYTES = BYTES;

    static
    {
        // A flag list of another length is another layout: FlowStateCodec.FORMAT_VERSION must change with it.
        if (FLAG_COUNT != 15)
        {
            throw new ExceptionInInitializerError("the layout has room for 15 analysis flags, there are " + FLAG_COUNT);
        }
    }

    private final byte[] bytes = new byte[BYTES];
    private final MemorySegment segment = MemorySegment.ofArray(bytes);
    /** Where the regions start in {@link #segment} (a record's own offsets, once read in place). */
    private static final long HOT = 0;
    private static final long COLD = HOT_BYTES;

    TcpEndpoint()
    {
        clear();
    }

    /** Back to the state of a new endpoint: zeroes, then the fields whose "unknown" is not 0. */
    void clear()
    {
        segment.fill((byte)0);
        window(-1);
        windowScaleCode(WINDOW_SCALE_UNKNOWN);
        mss(-1);
        rttMin(Long.MAX_VALUE);
    }

    /** Writes the state (see {@link FlowStateCodec}). */
    void encode(final ByteBuffer dst)
    {
        dst.put(bytes, 0, BYTES);
    }

    /** Reads what {@link #encode} wrote; bounds-checks what later indexes an array or names an enum. */
    void decode(final ByteBuffer src)
    {
        src.get(bytes, 0, BYTES);
        FlowStateCodec.checkSmall(segment.get(BYTE, HOT + STATE_OFFSET) & 0xFF, STATES.length - 1,
            "TcpEndpoint.state");
        FlowStateCodec.checkSmall(ringSize(), RTT_RING, "TcpEndpoint.ringSize");
        FlowStateCodec.checkSmall(ringHead(), RTT_RING - 1, "TcpEndpoint.ringHead");
        final int scale = windowScaleCode();
        if (scale < WINDOW_SCALE_NONE || scale > MAX_WINDOW_SCALE)
        {
            throw new IllegalArgumentException("corrupt connection state: TcpEndpoint.windowScale is " + scale);
        }
    }

    /** Shift that applies to this side's window field now: none before its first ACK or without scaling. */
    int windowShift()
    {
        final int scale = windowScaleCode();
        return scale >= 0 && !firstAck() ? scale : 0;
    }

    void rememberSegmentEnd(final int end, final long nanos)
    {
        // Newest wins: overwrite the oldest slot when full.
        final int size = ringSize();
        final int head = ringHead();
        final int slot = (head + size) % RTT_RING;
        if (size < RTT_RING)
        {
            ringSize(size + 1);
        }
        else
        {
            ringHead((head + 1) % RTT_RING);
        }
        segment.set(INT, COLD + SEGMENT_ENDS_OFFSET + 4L * slot, end);
        segment.set(LONG, COLD + SEGMENT_TIMES_OFFSET + 8L * slot, nanos);
    }

    /** An ACK from the peer: one RTT sample for the newest segment it exactly acknowledges; older ones retire. */
    void sampleRtt(final int ack, final long nanos)
    {
        int size = ringSize();
        int head = ringHead();
        try
        {
            while (size > 0)
            {
                final int end = segment.get(INT, COLD + SEGMENT_ENDS_OFFSET + 4L * head);
                if (ack - end < 0)
                {
                    return; // not acknowledged yet
                }
                final long sent = segment.get(LONG, COLD + SEGMENT_TIMES_OFFSET + 8L * head);
                head = (head + 1) % RTT_RING;
                size--;
                final long rtt = nanos - sent;
                // rtt < 0 with nanos >= sent is a difference past 2^63 ns: corrupt timestamps, not an RTT.
                if (ack == end && nanos >= sent && rtt >= 0)
                {
                    rttSamples(rttSamples() + 1);
                    // Saturates rather than wraps, so absurd capture timestamps cannot turn the mean negative.
                    final long sum = rttSum();
                    rttSum(sum > Long.MAX_VALUE - rtt ? Long.MAX_VALUE : sum + rtt);
                    rttMin(Math.min(rttMin(), rtt));
                    rttMax(Math.max(rttMax(), rtt));
                    return;
                }
            }
        }
        finally
        {
            ringSize(size);
            ringHead(head);
        }
    }

    // Hot fields.

    int nextSeq()
    {
        return segment.get(INT, HOT + NEXT_SEQ_OFFSET);
    }

    void nextSeq(final int value)
    {
        segment.set(INT, HOT + NEXT_SEQ_OFFSET, value);
    }

    long nextSeqTime()
    {
        return segment.get(LONG, HOT + NEXT_SEQ_TIME_OFFSET);
    }

    void nextSeqTime(final long value)
    {
        segment.set(LONG, HOT + NEXT_SEQ_TIME_OFFSET, value);
    }

    int maxSeqToBeAcked()
    {
        return segment.get(INT, HOT + MAX_SEQ_TO_BE_ACKED_OFFSET);
    }

    void maxSeqToBeAcked(final int value)
    {
        segment.set(INT, HOT + MAX_SEQ_TO_BE_ACKED_OFFSET, value);
    }

    int lastAck()
    {
        return segment.get(INT, HOT + LAST_ACK_OFFSET);
    }

    void lastAck(final int value)
    {
        segment.set(INT, HOT + LAST_ACK_OFFSET, value);
    }

    long lastAckTime()
    {
        return segment.get(LONG, HOT + LAST_ACK_TIME_OFFSET);
    }

    void lastAckTime(final long value)
    {
        segment.set(LONG, HOT + LAST_ACK_TIME_OFFSET, value);
    }

    /** Last raw window sent; all ones until the first segment (never equal to a 16-bit window). */
    int window()
    {
        return segment.get(INT, HOT + WINDOW_OFFSET);
    }

    void window(final int value)
    {
        segment.set(INT, HOT + WINDOW_OFFSET, value);
    }

    /** Shift from the SYN's window-scale option, or {@link #WINDOW_SCALE_UNKNOWN} / {@link #WINDOW_SCALE_NONE}. */
    int windowScaleCode()
    {
        return segment.get(BYTE, HOT + WINDOW_SCALE_OFFSET);
    }

    void windowScaleCode(final int value)
    {
        segment.set(BYTE, HOT + WINDOW_SCALE_OFFSET, (byte)value);
    }

    /** Duplicate ACKs in a row; -1 after an ACKed-unseen report (suppresses repeats). */
    int dupAckNum()
    {
        return segment.get(INT, HOT + DUP_ACK_NUM_OFFSET);
    }

    void dupAckNum(final int value)
    {
        segment.set(INT, HOT + DUP_ACK_NUM_OFFSET, value);
    }

    int lastSegmentFlags()
    {
        return segment.get(INT, HOT + LAST_SEGMENT_FLAGS_OFFSET);
    }

    void lastSegmentFlags(final int value)
    {
        segment.set(INT, HOT + LAST_SEGMENT_FLAGS_OFFSET, value);
    }

    /**
     * Segments with data, SYN or FIN sent since the peer's last segment, counted up to
     * {@link SequenceAnalysis#UNACKED_SEGMENT_LIMIT}: a lower bound of tshark's list of unacknowledged segments.
     */
    int unackedSegments()
    {
        return segment.get(INT, HOT + UNACKED_SEGMENTS_OFFSET);
    }

    void unackedSegments(final int value)
    {
        segment.set(INT, HOT + UNACKED_SEGMENTS_OFFSET, value);
    }

    public TcpState state()
    {
        return STATES[segment.get(BYTE, HOT + STATE_OFFSET)];
    }

    void state(final TcpState value)
    {
        segment.set(BYTE, HOT + STATE_OFFSET, (byte)value.ordinal());
    }

    private boolean bit(final int bit)
    {
        return (segment.get(BYTE, HOT + BITS_OFFSET) & bit) != 0;
    }

    private void bit(final int bit, final boolean value)
    {
        final int bits = segment.get(BYTE, HOT + BITS_OFFSET);
        segment.set(BYTE, HOT + BITS_OFFSET, (byte)(value ? bits | bit : bits & ~bit));
    }

    /** Whether {@link #baseSeq} (the base of relative sequence numbers, tshark's rule) is known. */
    boolean baseSeqSet()
    {
        return bit(BASE_SEQ_SET);
    }

    void baseSeqSet(final boolean value)
    {
        bit(BASE_SEQ_SET, value);
    }

    public boolean isnSeen()
    {
        return bit(ISN_SEEN);
    }

    void isnSeen(final boolean value)
    {
        bit(ISN_SEEN, value);
    }

    boolean finSeen()
    {
        return bit(FIN_SEEN);
    }

    void finSeen(final boolean value)
    {
        bit(FIN_SEEN, value);
    }

    boolean rstSeen()
    {
        return bit(RST_SEEN);
    }

    void rstSeen(final boolean value)
    {
        bit(RST_SEEN, value);
    }

    /** True from this side's SYN until its first ACK without SYN: its window is not scaled yet. */
    boolean firstAck()
    {
        return bit(FIRST_ACK);
    }

    void firstAck(final boolean value)
    {
        bit(FIRST_ACK, value);
    }

    boolean lastAckSeen()
    {
        return bit(LAST_ACK_SEEN);
    }

    void lastAckSeen(final boolean value)
    {
        bit(LAST_ACK_SEEN, value);
    }

    public boolean sackPermitted()
    {
        return bit(SACK_PERMITTED);
    }

    void sackPermitted(final boolean value)
    {
        bit(SACK_PERMITTED, value);
    }

    public boolean timestampsOffered()
    {
        return bit(TIMESTAMPS_OFFERED);
    }

    void timestampsOffered(final boolean value)
    {
        bit(TIMESTAMPS_OFFERED, value);
    }

    // Cold fields.

    public long packets()
    {
        return segment.get(LONG, COLD + PACKETS_OFFSET);
    }

    void packets(final long value)
    {
        segment.set(LONG, COLD + PACKETS_OFFSET, value);
    }

    public long ipBytes()
    {
        return segment.get(LONG, COLD + IP_BYTES_OFFSET);
    }

    void ipBytes(final long value)
    {
        segment.set(LONG, COLD + IP_BYTES_OFFSET, value);
    }

    public long payloadBytes()
    {
        return segment.get(LONG, COLD + PAYLOAD_BYTES_OFFSET);
    }

    void payloadBytes(final long value)
    {
        segment.set(LONG, COLD + PAYLOAD_BYTES_OFFSET, value);
    }

    /** Sequence space this side's highest sequence number moved through, 64-bit (survives wraps). */
    public long sequenceSpace()
    {
        return segment.get(LONG, COLD + SEQUENCE_SPACE_OFFSET);
    }

    void sequenceSpace(final long value)
    {
        segment.set(LONG, COLD + SEQUENCE_SPACE_OFFSET, value);
    }

    /** Largest gap seen between this side's highest sequence number and the peer's ACK. */
    long maxInFlight()
    {
        return segment.get(LONG, COLD + MAX_IN_FLIGHT_OFFSET);
    }

    void maxInFlight(final long value)
    {
        segment.set(LONG, COLD + MAX_IN_FLIGHT_OFFSET, value);
    }

    public long maxBytesInFlight()
    {
        return maxInFlight();
    }

    /** ACK RTT samples for data this side sent (the peer's ACK time minus the segment's time). */
    public long rttSamples()
    {
        return segment.get(LONG, COLD + RTT_SAMPLES_OFFSET);
    }

    void rttSamples(final long value)
    {
        segment.set(LONG, COLD + RTT_SAMPLES_OFFSET, value);
    }

    private long rttMin()
    {
        return segment.get(LONG, COLD + RTT_MIN_OFFSET);
    }

    private void rttMin(final long value)
    {
        segment.set(LONG, COLD + RTT_MIN_OFFSET, value);
    }

    private long rttMax()
    {
        return segment.get(LONG, COLD + RTT_MAX_OFFSET);
    }

    private void rttMax(final long value)
    {
        segment.set(LONG, COLD + RTT_MAX_OFFSET, value);
    }

    private long rttSum()
    {
        return segment.get(LONG, COLD + RTT_SUM_OFFSET);
    }

    private void rttSum(final long value)
    {
        segment.set(LONG, COLD + RTT_SUM_OFFSET, value);
    }

    public long rttMinNanos()
    {
        return rttSamples() == 0 ? -1 : rttMin();
    }

    public long rttMaxNanos()
    {
        return rttSamples() == 0 ? -1 : rttMax();
    }

    public long rttMeanNanos()
    {
        final long samples = rttSamples();
        // Clamped because a saturated sum (absurd timestamps) understates the mean.
        return samples == 0 ? -1 : Math.clamp(rttSum() / samples, rttMin(), rttMax());
    }

    /** Data segments that started beyond the right edge of the receiver's advertised window. */
    public long outsideWindow()
    {
        return segment.get(LONG, COLD + OUTSIDE_WINDOW_OFFSET);
    }

    void outsideWindow(final long value)
    {
        segment.set(LONG, COLD + OUTSIDE_WINDOW_OFFSET, value);
    }

    /** RSTs whose sequence number was outside the receiver's window (likely injected). */
    public long rstOutsideWindow()
    {
        return segment.get(LONG, COLD + RST_OUTSIDE_WINDOW_OFFSET);
    }

    void rstOutsideWindow(final long value)
    {
        segment.set(LONG, COLD + RST_OUTSIDE_WINDOW_OFFSET, value);
    }

    /** Data segments sent after a RST was seen on the connection. */
    public long dataAfterRst()
    {
        return segment.get(LONG, COLD + DATA_AFTER_RST_OFFSET);
    }

    void dataAfterRst(final long value)
    {
        segment.set(LONG, COLD + DATA_AFTER_RST_OFFSET, value);
    }

    public int synCount()
    {
        return segment.get(INT, COLD + SYN_COUNT_OFFSET);
    }

    void synCount(final int value)
    {
        segment.set(INT, COLD + SYN_COUNT_OFFSET, value);
    }

    public int finCount()
    {
        return segment.get(INT, COLD + FIN_COUNT_OFFSET);
    }

    void finCount(final int value)
    {
        segment.set(INT, COLD + FIN_COUNT_OFFSET, value);
    }

    public int rstCount()
    {
        return segment.get(INT, COLD + RST_COUNT_OFFSET);
    }

    void rstCount(final int value)
    {
        segment.set(INT, COLD + RST_COUNT_OFFSET, value);
    }

    /** Base of relative sequence numbers (tshark's rule); {@link #baseSeqSet} says whether it is known. */
    int baseSeq()
    {
        return segment.get(INT, COLD + BASE_SEQ_OFFSET);
    }

    void baseSeq(final int value)
    {
        segment.set(INT, COLD + BASE_SEQ_OFFSET, value);
    }

    /** Sequence number of this side's SYN (its ISN), if a SYN was seen. */
    int isnValue()
    {
        return segment.get(INT, COLD + ISN_OFFSET);
    }

    void isnValue(final int value)
    {
        segment.set(INT, COLD + ISN_OFFSET, value);
    }

    /** The ISN as an unsigned 32-bit value; meaningful only when {@link #isnSeen()}. */
    public long isn()
    {
        return isnValue() & 0xFFFF_FFFFL;
    }

    /** Sequence number of this side's most recent SYN (a SYN+ACK may be resent with a new one). */
    int lastSynSeq()
    {
        return segment.get(INT, COLD + LAST_SYN_SEQ_OFFSET);
    }

    void lastSynSeq(final int value)
    {
        segment.set(INT, COLD + LAST_SYN_SEQ_OFFSET, value);
    }

    /** Sequence number just after this side's FIN, once a FIN was seen. */
    int finEndSeq()
    {
        return segment.get(INT, COLD + FIN_END_SEQ_OFFSET);
    }

    void finEndSeq(final int value)
    {
        segment.set(INT, COLD + FIN_END_SEQ_OFFSET, value);
    }

    /** Negotiated on the SYN; -1 when absent. */
    public int mss()
    {
        return segment.get(INT, COLD + MSS_OFFSET);
    }

    void mss(final int value)
    {
        segment.set(INT, COLD + MSS_OFFSET, value);
    }

    private int ringSize()
    {
        return segment.get(BYTE, COLD + RING_SIZE_OFFSET);
    }

    private void ringSize(final int value)
    {
        segment.set(BYTE, COLD + RING_SIZE_OFFSET, (byte)value);
    }

    private int ringHead()
    {
        return segment.get(BYTE, COLD + RING_HEAD_OFFSET);
    }

    private void ringHead(final int value)
    {
        segment.set(BYTE, COLD + RING_HEAD_OFFSET, (byte)value);
    }

    /** Segments per {@link AnalysisFlag}, unsigned 32-bit (a flow would need 4 G flagged segments to wrap). */
    int analysisCountRaw(final int flag)
    {
        return segment.get(INT, COLD + ANALYSIS_COUNTS_OFFSET + 4L * flag);
    }

    /** Counts one more segment with flag number {@code flag}. */
    void countAnalysisFlag(final int flag)
    {
        final long offset = COLD + ANALYSIS_COUNTS_OFFSET + 4L * flag;
        segment.set(INT, offset, segment.get(INT, offset) + 1);
    }

    /** Segments sent by this side that tshark would flag with {@code flag}. */
    public long analysisCount(final AnalysisFlag flag)
    {
        return Integer.toUnsignedLong(analysisCountRaw(flag.ordinal()));
    }

    /** The window-scale shift this side announced, or -1 when unknown or not in use. */
    public int windowScale()
    {
        final int scale = windowScaleCode();
        return Math.max(-1, scale == WINDOW_SCALE_NONE ? -1 : scale);
    }
}
