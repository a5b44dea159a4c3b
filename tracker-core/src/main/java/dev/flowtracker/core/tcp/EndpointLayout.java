package dev.flowtracker.core.tcp;

import dev.flowtracker.core.state.StateMemory;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Where a {@link TcpEndpoint}'s state lives: {@link #BYTES} of memory at {@code (segment, base)}, its fields declared
 * once in {@link #LAYOUT} with a {@code *_OFFSET} each, and the raw accessors over them ({@code foo()} and
 * {@code foo(value)}, or {@code fooRaw} where {@link TcpEndpoint} has a public {@code foo()} that maps a sentinel).
 * Native byte order, each field at a multiple of its own width; what every segment reads first:
 *
 * <pre>
 *   bytes   0..63   packets, ipBytes, payloadBytes, nextSeqTime, lastAckTime (8 each); nextSeq,
 *                   maxSeqToBeAcked, lastAck, window, dupAckNum, lastSegmentFlags (4 each)
 *   bytes  64..103  sequenceSpace, maxInFlight, unackedSegments, baseSeq; state, windowScale and the flags (1 each)
 *   bytes 104..287  ISN, the RTT ring (segment ends and times), SYN/FIN/RST counts, FIN, MSS, analysis counts
 *   bytes 288..343  RTT statistics and security counts (8 each)
 * </pre>
 *
 * <p>The public getters here are {@link TcpEndpoint}'s API. Owned by the endpoint's tracker thread.
 */
abstract sealed class EndpointLayout permits TcpEndpoint
{
    /** Ends (next sequence numbers) of recent segments and their times, for ACK RTT samples. */
    static final int RTT_RING = 8;
    static final int FLAGS = AnalysisFlag.count();
    static final TcpState[] STATES = TcpState.values();

    /** The fields, hot ones first: the offsets below are taken from it, and the state tests walk it. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_LONG.withName("packets"),
        JAVA_LONG.withName("ipBytes"),
        JAVA_LONG.withName("payloadBytes"),
        JAVA_LONG.withName("nextSeqTime"),
        JAVA_LONG.withName("lastAckTime"),
        JAVA_INT.withName("nextSeq"),
        JAVA_INT.withName("maxSeqToBeAcked"),
        JAVA_INT.withName("lastAck"),
        JAVA_INT.withName("window"), // -1 until the first segment
        JAVA_INT.withName("dupAckNum"),
        JAVA_INT.withName("lastSegmentFlags"),
        JAVA_LONG.withName("sequenceSpace"),
        JAVA_LONG.withName("maxInFlight"),
        JAVA_INT.withName("unackedSegments"),
        JAVA_INT.withName("baseSeq"),
        JAVA_BYTE.withName("state"), // TcpState ordinal
        JAVA_BYTE.withName("windowScale"), // signed: a shift 0..14, WINDOW_SCALE_UNKNOWN or _NONE
        JAVA_BYTE.withName("firstAck"), // booleans are 0 or 1
        JAVA_BYTE.withName("baseSeqSet"),
        JAVA_BYTE.withName("lastAckSeen"),
        JAVA_BYTE.withName("finSeen"),
        JAVA_BYTE.withName("rstSeen"),
        JAVA_BYTE.withName("ringSize"), // 0..RTT_RING
        JAVA_BYTE.withName("ringHead"), // 0..RTT_RING - 1
        JAVA_BYTE.withName("isnSeen"),
        JAVA_BYTE.withName("sackPermitted"),
        JAVA_BYTE.withName("timestampsOffered"),
        MemoryLayout.paddingLayout(4),
        JAVA_INT.withName("isn"),
        MemoryLayout.sequenceLayout(RTT_RING, JAVA_INT).withName("segmentEnds"),
        JAVA_INT.withName("synCount"),
        MemoryLayout.sequenceLayout(RTT_RING, JAVA_LONG).withName("segmentTimes"),
        JAVA_INT.withName("finCount"),
        JAVA_INT.withName("rstCount"),
        JAVA_INT.withName("lastSynSeq"),
        JAVA_INT.withName("finEndSeq"),
        JAVA_INT.withName("mss"), // -1 when absent
        MemoryLayout.sequenceLayout(FLAGS, JAVA_INT).withName("analysisCounts"), // by AnalysisFlag ordinal
        JAVA_LONG.withName("rttSamples"),
        JAVA_LONG.withName("rttMinNanos"), // Long.MAX_VALUE until the first sample
        JAVA_LONG.withName("rttMaxNanos"),
        JAVA_LONG.withName("rttSumNanos"),
        JAVA_LONG.withName("outsideWindow"),
        JAVA_LONG.withName("rstOutsideWindow"),
        JAVA_LONG.withName("dataAfterRst"));
    static final int PACKETS_OFFSET = StateMemory.offset(LAYOUT, "packets");
    static final int IP_BYTES_OFFSET = StateMemory.offset(LAYOUT, "ipBytes");
    static final int PAYLOAD_BYTES_OFFSET = StateMemory.offset(LAYOUT, "payloadBytes");
    static final int NEXT_SEQ_TIME_OFFSET = StateMemory.offset(LAYOUT, "nextSeqTime");
    static final int LAST_ACK_TIME_OFFSET = StateMemory.offset(LAYOUT, "lastAckTime");
    static final int NEXT_SEQ_OFFSET = StateMemory.offset(LAYOUT, "nextSeq");
    static final int MAX_SEQ_TO_BE_ACKED_OFFSET = StateMemory.offset(LAYOUT, "maxSeqToBeAcked");
    static final int LAST_ACK_OFFSET = StateMemory.offset(LAYOUT, "lastAck");
    static final int WINDOW_OFFSET = StateMemory.offset(LAYOUT, "window");
    static final int DUP_ACK_NUM_OFFSET = StateMemory.offset(LAYOUT, "dupAckNum");
    static final int LAST_SEGMENT_FLAGS_OFFSET = StateMemory.offset(LAYOUT, "lastSegmentFlags");
    static final int SEQUENCE_SPACE_OFFSET = StateMemory.offset(LAYOUT, "sequenceSpace");
    static final int MAX_IN_FLIGHT_OFFSET = StateMemory.offset(LAYOUT, "maxInFlight");
    static final int UNACKED_SEGMENTS_OFFSET = StateMemory.offset(LAYOUT, "unackedSegments");
    static final int BASE_SEQ_OFFSET = StateMemory.offset(LAYOUT, "baseSeq");
    static final int STATE_OFFSET = StateMemory.offset(LAYOUT, "state");
    static final int WINDOW_SCALE_OFFSET = StateMemory.offset(LAYOUT, "windowScale");
    static final int FIRST_ACK_OFFSET = StateMemory.offset(LAYOUT, "firstAck");
    static final int BASE_SEQ_SET_OFFSET = StateMemory.offset(LAYOUT, "baseSeqSet");
    static final int LAST_ACK_SEEN_OFFSET = StateMemory.offset(LAYOUT, "lastAckSeen");
    static final int FIN_SEEN_OFFSET = StateMemory.offset(LAYOUT, "finSeen");
    static final int RST_SEEN_OFFSET = StateMemory.offset(LAYOUT, "rstSeen");
    static final int RING_SIZE_OFFSET = StateMemory.offset(LAYOUT, "ringSize");
    static final int RING_HEAD_OFFSET = StateMemory.offset(LAYOUT, "ringHead");
    static final int ISN_SEEN_OFFSET = StateMemory.offset(LAYOUT, "isnSeen");
    static final int SACK_PERMITTED_OFFSET = StateMemory.offset(LAYOUT, "sackPermitted");
    static final int TIMESTAMPS_OFFERED_OFFSET = StateMemory.offset(LAYOUT, "timestampsOffered");
    static final int ISN_OFFSET = StateMemory.offset(LAYOUT, "isn");
    static final int SEGMENT_ENDS_OFFSET = StateMemory.offset(LAYOUT, "segmentEnds");
    static final int SYN_COUNT_OFFSET = StateMemory.offset(LAYOUT, "synCount");
    static final int SEGMENT_TIMES_OFFSET = StateMemory.offset(LAYOUT, "segmentTimes");
    static final int FIN_COUNT_OFFSET = StateMemory.offset(LAYOUT, "finCount");
    static final int RST_COUNT_OFFSET = StateMemory.offset(LAYOUT, "rstCount");
    static final int LAST_SYN_SEQ_OFFSET = StateMemory.offset(LAYOUT, "lastSynSeq");
    static final int FIN_END_SEQ_OFFSET = StateMemory.offset(LAYOUT, "finEndSeq");
    static final int MSS_OFFSET = StateMemory.offset(LAYOUT, "mss");
    static final int ANALYSIS_COUNTS_OFFSET = StateMemory.offset(LAYOUT, "analysisCounts");
    static final int RTT_SAMPLES_OFFSET = StateMemory.offset(LAYOUT, "rttSamples");
    static final int RTT_MIN_NANOS_OFFSET = StateMemory.offset(LAYOUT, "rttMinNanos");
    static final int RTT_MAX_NANOS_OFFSET = StateMemory.offset(LAYOUT, "rttMaxNanos");
    static final int RTT_SUM_NANOS_OFFSET = StateMemory.offset(LAYOUT, "rttSumNanos");
    static final int OUTSIDE_WINDOW_OFFSET = StateMemory.offset(LAYOUT, "outsideWindow");
    static final int RST_OUTSIDE_WINDOW_OFFSET = StateMemory.offset(LAYOUT, "rstOutsideWindow");
    static final int DATA_AFTER_RST_OFFSET = StateMemory.offset(LAYOUT, "dataAfterRst");
    static final int BYTES = (int)LAYOUT.byteSize();

    private MemorySegment segment;
    private long base;

    /** Points this endpoint at {@code segment} from {@code base}: it now reads and writes the state there. */
    final void wrap(final MemorySegment segment, final long base)
    {
        this.segment = segment;
        this.base = base;
    }

    /** Copies {@code other}'s state into this endpoint's memory; allocates nothing. */
    final void copyFrom(final EndpointLayout other)
    {
        MemorySegment.copy(other.segment, other.base, segment, base, BYTES);
    }

    /** Zeroes every field; the caller sets the non-zero defaults. */
    final void zero()
    {
        StateMemory.zero(segment, base, BYTES);
    }

    public long packets()
    {
        return segment.get(StateMemory.LONG, base + PACKETS_OFFSET);
    }

    void packets(final long value)
    {
        segment.set(StateMemory.LONG, base + PACKETS_OFFSET, value);
    }

    public long ipBytes()
    {
        return segment.get(StateMemory.LONG, base + IP_BYTES_OFFSET);
    }

    void ipBytes(final long value)
    {
        segment.set(StateMemory.LONG, base + IP_BYTES_OFFSET, value);
    }

    public long payloadBytes()
    {
        return segment.get(StateMemory.LONG, base + PAYLOAD_BYTES_OFFSET);
    }

    void payloadBytes(final long value)
    {
        segment.set(StateMemory.LONG, base + PAYLOAD_BYTES_OFFSET, value);
    }

    long nextSeqTime()
    {
        return segment.get(StateMemory.LONG, base + NEXT_SEQ_TIME_OFFSET);
    }

    void nextSeqTime(final long value)
    {
        segment.set(StateMemory.LONG, base + NEXT_SEQ_TIME_OFFSET, value);
    }

    long lastAckTime()
    {
        return segment.get(StateMemory.LONG, base + LAST_ACK_TIME_OFFSET);
    }

    void lastAckTime(final long value)
    {
        segment.set(StateMemory.LONG, base + LAST_ACK_TIME_OFFSET, value);
    }

    int nextSeq()
    {
        return segment.get(StateMemory.INT, base + NEXT_SEQ_OFFSET);
    }

    void nextSeq(final int value)
    {
        segment.set(StateMemory.INT, base + NEXT_SEQ_OFFSET, value);
    }

    int maxSeqToBeAcked()
    {
        return segment.get(StateMemory.INT, base + MAX_SEQ_TO_BE_ACKED_OFFSET);
    }

    void maxSeqToBeAcked(final int value)
    {
        segment.set(StateMemory.INT, base + MAX_SEQ_TO_BE_ACKED_OFFSET, value);
    }

    int lastAck()
    {
        return segment.get(StateMemory.INT, base + LAST_ACK_OFFSET);
    }

    void lastAck(final int value)
    {
        segment.set(StateMemory.INT, base + LAST_ACK_OFFSET, value);
    }

    int window()
    {
        return segment.get(StateMemory.INT, base + WINDOW_OFFSET);
    }

    void window(final int value)
    {
        segment.set(StateMemory.INT, base + WINDOW_OFFSET, value);
    }

    int dupAckNum()
    {
        return segment.get(StateMemory.INT, base + DUP_ACK_NUM_OFFSET);
    }

    void dupAckNum(final int value)
    {
        segment.set(StateMemory.INT, base + DUP_ACK_NUM_OFFSET, value);
    }

    int lastSegmentFlags()
    {
        return segment.get(StateMemory.INT, base + LAST_SEGMENT_FLAGS_OFFSET);
    }

    void lastSegmentFlags(final int value)
    {
        segment.set(StateMemory.INT, base + LAST_SEGMENT_FLAGS_OFFSET, value);
    }

    public long sequenceSpace()
    {
        return segment.get(StateMemory.LONG, base + SEQUENCE_SPACE_OFFSET);
    }

    void sequenceSpace(final long value)
    {
        segment.set(StateMemory.LONG, base + SEQUENCE_SPACE_OFFSET, value);
    }

    long maxInFlight()
    {
        return segment.get(StateMemory.LONG, base + MAX_IN_FLIGHT_OFFSET);
    }

    void maxInFlight(final long value)
    {
        segment.set(StateMemory.LONG, base + MAX_IN_FLIGHT_OFFSET, value);
    }

    int unackedSegments()
    {
        return segment.get(StateMemory.INT, base + UNACKED_SEGMENTS_OFFSET);
    }

    void unackedSegments(final int value)
    {
        segment.set(StateMemory.INT, base + UNACKED_SEGMENTS_OFFSET, value);
    }

    int baseSeq()
    {
        return segment.get(StateMemory.INT, base + BASE_SEQ_OFFSET);
    }

    void baseSeq(final int value)
    {
        segment.set(StateMemory.INT, base + BASE_SEQ_OFFSET, value);
    }

    public TcpState state()
    {
        return STATES[segment.get(StateMemory.BYTE, base + STATE_OFFSET)];
    }

    /** Public for {@code dev.flowtracker.core.flow}. */

    public void state(final TcpState value)
    {
        segment.set(StateMemory.BYTE, base + STATE_OFFSET, (byte)value.ordinal());
    }

    int windowScaleRaw()
    {
        return segment.get(StateMemory.BYTE, base + WINDOW_SCALE_OFFSET);
    }

    void windowScaleRaw(final int value)
    {
        segment.set(StateMemory.BYTE, base + WINDOW_SCALE_OFFSET, (byte)value);
    }

    boolean firstAck()
    {
        return segment.get(StateMemory.BYTE, base + FIRST_ACK_OFFSET) != 0;
    }

    void firstAck(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + FIRST_ACK_OFFSET, value ? (byte)1 : (byte)0);
    }

    boolean baseSeqSet()
    {
        return segment.get(StateMemory.BYTE, base + BASE_SEQ_SET_OFFSET) != 0;
    }

    void baseSeqSet(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + BASE_SEQ_SET_OFFSET, value ? (byte)1 : (byte)0);
    }

    boolean lastAckSeen()
    {
        return segment.get(StateMemory.BYTE, base + LAST_ACK_SEEN_OFFSET) != 0;
    }

    void lastAckSeen(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + LAST_ACK_SEEN_OFFSET, value ? (byte)1 : (byte)0);
    }

    boolean finSeen()
    {
        return segment.get(StateMemory.BYTE, base + FIN_SEEN_OFFSET) != 0;
    }

    void finSeen(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + FIN_SEEN_OFFSET, value ? (byte)1 : (byte)0);
    }

    boolean rstSeen()
    {
        return segment.get(StateMemory.BYTE, base + RST_SEEN_OFFSET) != 0;
    }

    void rstSeen(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + RST_SEEN_OFFSET, value ? (byte)1 : (byte)0);
    }

    int ringSize()
    {
        return segment.get(StateMemory.BYTE, base + RING_SIZE_OFFSET) & 0xFF;
    }

    void ringSize(final int value)
    {
        segment.set(StateMemory.BYTE, base + RING_SIZE_OFFSET, (byte)value);
    }

    int ringHead()
    {
        return segment.get(StateMemory.BYTE, base + RING_HEAD_OFFSET) & 0xFF;
    }

    void ringHead(final int value)
    {
        segment.set(StateMemory.BYTE, base + RING_HEAD_OFFSET, (byte)value);
    }

    public boolean isnSeen()
    {
        return segment.get(StateMemory.BYTE, base + ISN_SEEN_OFFSET) != 0;
    }

    void isnSeen(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + ISN_SEEN_OFFSET, value ? (byte)1 : (byte)0);
    }

    public boolean sackPermitted()
    {
        return segment.get(StateMemory.BYTE, base + SACK_PERMITTED_OFFSET) != 0;
    }

    void sackPermitted(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + SACK_PERMITTED_OFFSET, value ? (byte)1 : (byte)0);
    }

    public boolean timestampsOffered()
    {
        return segment.get(StateMemory.BYTE, base + TIMESTAMPS_OFFERED_OFFSET) != 0;
    }

    void timestampsOffered(final boolean value)
    {
        segment.set(StateMemory.BYTE, base + TIMESTAMPS_OFFERED_OFFSET, value ? (byte)1 : (byte)0);
    }

    int isnRaw()
    {
        return segment.get(StateMemory.INT, base + ISN_OFFSET);
    }

    void isnRaw(final int value)
    {
        segment.set(StateMemory.INT, base + ISN_OFFSET, value);
    }

    int segmentEnds(final int index)
    {
        return segment.get(StateMemory.INT, base + SEGMENT_ENDS_OFFSET + (long)index * Integer.BYTES);
    }

    void segmentEnds(final int index, final int value)
    {
        segment.set(StateMemory.INT, base + SEGMENT_ENDS_OFFSET + (long)index * Integer.BYTES, value);
    }

    public int synCount()
    {
        return segment.get(StateMemory.INT, base + SYN_COUNT_OFFSET);
    }

    void synCount(final int value)
    {
        segment.set(StateMemory.INT, base + SYN_COUNT_OFFSET, value);
    }

    long segmentTimes(final int index)
    {
        return segment.get(StateMemory.LONG, base + SEGMENT_TIMES_OFFSET + (long)index * Long.BYTES);
    }

    void segmentTimes(final int index, final long value)
    {
        segment.set(StateMemory.LONG, base + SEGMENT_TIMES_OFFSET + (long)index * Long.BYTES, value);
    }

    public int finCount()
    {
        return segment.get(StateMemory.INT, base + FIN_COUNT_OFFSET);
    }

    void finCount(final int value)
    {
        segment.set(StateMemory.INT, base + FIN_COUNT_OFFSET, value);
    }

    public int rstCount()
    {
        return segment.get(StateMemory.INT, base + RST_COUNT_OFFSET);
    }

    void rstCount(final int value)
    {
        segment.set(StateMemory.INT, base + RST_COUNT_OFFSET, value);
    }

    int lastSynSeq()
    {
        return segment.get(StateMemory.INT, base + LAST_SYN_SEQ_OFFSET);
    }

    void lastSynSeq(final int value)
    {
        segment.set(StateMemory.INT, base + LAST_SYN_SEQ_OFFSET, value);
    }

    int finEndSeq()
    {
        return segment.get(StateMemory.INT, base + FIN_END_SEQ_OFFSET);
    }

    void finEndSeq(final int value)
    {
        segment.set(StateMemory.INT, base + FIN_END_SEQ_OFFSET, value);
    }

    public int mss()
    {
        return segment.get(StateMemory.INT, base + MSS_OFFSET);
    }

    void mss(final int value)
    {
        segment.set(StateMemory.INT, base + MSS_OFFSET, value);
    }

    int analysisCounts(final int index)
    {
        return segment.get(StateMemory.INT, base + ANALYSIS_COUNTS_OFFSET + (long)index * Integer.BYTES);
    }

    void analysisCounts(final int index, final int value)
    {
        segment.set(StateMemory.INT, base + ANALYSIS_COUNTS_OFFSET + (long)index * Integer.BYTES, value);
    }

    /** ACK RTT samples for data this side sent (the peer's ACK time minus the segment's time). */
    public long rttSamples()
    {
        return segment.get(StateMemory.LONG, base + RTT_SAMPLES_OFFSET);
    }

    void rttSamples(final long value)
    {
        segment.set(StateMemory.LONG, base + RTT_SAMPLES_OFFSET, value);
    }

    long rttMinNanosRaw()
    {
        return segment.get(StateMemory.LONG, base + RTT_MIN_NANOS_OFFSET);
    }

    void rttMinNanosRaw(final long value)
    {
        segment.set(StateMemory.LONG, base + RTT_MIN_NANOS_OFFSET, value);
    }

    long rttMaxNanosRaw()
    {
        return segment.get(StateMemory.LONG, base + RTT_MAX_NANOS_OFFSET);
    }

    void rttMaxNanosRaw(final long value)
    {
        segment.set(StateMemory.LONG, base + RTT_MAX_NANOS_OFFSET, value);
    }

    /**
     * The sum of this side's ACK RTT samples, saturating at {@link Long#MAX_VALUE}: the difference across one
     * segment is that segment's sample. Public for {@code dev.flowtracker.core.flow}.
     */
    public long rttSumNanos()
    {
        return segment.get(StateMemory.LONG, base + RTT_SUM_NANOS_OFFSET);
    }

    void rttSumNanos(final long value)
    {
        segment.set(StateMemory.LONG, base + RTT_SUM_NANOS_OFFSET, value);
    }

    /** Data segments that started beyond the right edge of the receiver's advertised window. */
    public long outsideWindow()
    {
        return segment.get(StateMemory.LONG, base + OUTSIDE_WINDOW_OFFSET);
    }

    void outsideWindow(final long value)
    {
        segment.set(StateMemory.LONG, base + OUTSIDE_WINDOW_OFFSET, value);
    }

    /** RSTs whose sequence number was outside the receiver's window (likely injected). */
    public long rstOutsideWindow()
    {
        return segment.get(StateMemory.LONG, base + RST_OUTSIDE_WINDOW_OFFSET);
    }

    void rstOutsideWindow(final long value)
    {
        segment.set(StateMemory.LONG, base + RST_OUTSIDE_WINDOW_OFFSET, value);
    }

    /** Data segments sent after a RST was seen on the connection. */
    public long dataAfterRst()
    {
        return segment.get(StateMemory.LONG, base + DATA_AFTER_RST_OFFSET);
    }

    void dataAfterRst(final long value)
    {
        segment.set(StateMemory.LONG, base + DATA_AFTER_RST_OFFSET, value);
    }
}
