package dev.flowtracker.core.tcp;

import dev.flowtracker.core.state.Flyweight;
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
abstract sealed class EndpointLayout extends Flyweight permits TcpEndpoint
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

    /** Points this endpoint at {@code segment} from {@code base}: it now reads and writes the state there. */
    final void wrap(final MemorySegment segment, final long base)
    {
        wrapMemory(segment, base, BYTES);
    }

    public long packets()
    {
        return getLong(PACKETS_OFFSET);
    }

    void packets(final long value)
    {
        putLong(PACKETS_OFFSET, value);
    }

    public long ipBytes()
    {
        return getLong(IP_BYTES_OFFSET);
    }

    void ipBytes(final long value)
    {
        putLong(IP_BYTES_OFFSET, value);
    }

    public long payloadBytes()
    {
        return getLong(PAYLOAD_BYTES_OFFSET);
    }

    void payloadBytes(final long value)
    {
        putLong(PAYLOAD_BYTES_OFFSET, value);
    }

    long nextSeqTime()
    {
        return getLong(NEXT_SEQ_TIME_OFFSET);
    }

    void nextSeqTime(final long value)
    {
        putLong(NEXT_SEQ_TIME_OFFSET, value);
    }

    long lastAckTime()
    {
        return getLong(LAST_ACK_TIME_OFFSET);
    }

    void lastAckTime(final long value)
    {
        putLong(LAST_ACK_TIME_OFFSET, value);
    }

    int nextSeq()
    {
        return getInt(NEXT_SEQ_OFFSET);
    }

    void nextSeq(final int value)
    {
        putInt(NEXT_SEQ_OFFSET, value);
    }

    int maxSeqToBeAcked()
    {
        return getInt(MAX_SEQ_TO_BE_ACKED_OFFSET);
    }

    void maxSeqToBeAcked(final int value)
    {
        putInt(MAX_SEQ_TO_BE_ACKED_OFFSET, value);
    }

    int lastAck()
    {
        return getInt(LAST_ACK_OFFSET);
    }

    void lastAck(final int value)
    {
        putInt(LAST_ACK_OFFSET, value);
    }

    int window()
    {
        return getInt(WINDOW_OFFSET);
    }

    void window(final int value)
    {
        putInt(WINDOW_OFFSET, value);
    }

    int dupAckNum()
    {
        return getInt(DUP_ACK_NUM_OFFSET);
    }

    void dupAckNum(final int value)
    {
        putInt(DUP_ACK_NUM_OFFSET, value);
    }

    int lastSegmentFlags()
    {
        return getInt(LAST_SEGMENT_FLAGS_OFFSET);
    }

    void lastSegmentFlags(final int value)
    {
        putInt(LAST_SEGMENT_FLAGS_OFFSET, value);
    }

    public long sequenceSpace()
    {
        return getLong(SEQUENCE_SPACE_OFFSET);
    }

    void sequenceSpace(final long value)
    {
        putLong(SEQUENCE_SPACE_OFFSET, value);
    }

    long maxInFlight()
    {
        return getLong(MAX_IN_FLIGHT_OFFSET);
    }

    void maxInFlight(final long value)
    {
        putLong(MAX_IN_FLIGHT_OFFSET, value);
    }

    int unackedSegments()
    {
        return getInt(UNACKED_SEGMENTS_OFFSET);
    }

    void unackedSegments(final int value)
    {
        putInt(UNACKED_SEGMENTS_OFFSET, value);
    }

    int baseSeq()
    {
        return getInt(BASE_SEQ_OFFSET);
    }

    void baseSeq(final int value)
    {
        putInt(BASE_SEQ_OFFSET, value);
    }

    public TcpState state()
    {
        return STATES[getByte(STATE_OFFSET)];
    }

    /** Public for {@code dev.flowtracker.core.flow}. */

    public void state(final TcpState value)
    {
        putByte(STATE_OFFSET, (byte)value.ordinal());
    }

    int windowScaleRaw()
    {
        return getByte(WINDOW_SCALE_OFFSET);
    }

    void windowScaleRaw(final int value)
    {
        putByte(WINDOW_SCALE_OFFSET, (byte)value);
    }

    boolean firstAck()
    {
        return getBoolean(FIRST_ACK_OFFSET);
    }

    void firstAck(final boolean value)
    {
        putBoolean(FIRST_ACK_OFFSET, value);
    }

    boolean baseSeqSet()
    {
        return getBoolean(BASE_SEQ_SET_OFFSET);
    }

    void baseSeqSet(final boolean value)
    {
        putBoolean(BASE_SEQ_SET_OFFSET, value);
    }

    boolean lastAckSeen()
    {
        return getBoolean(LAST_ACK_SEEN_OFFSET);
    }

    void lastAckSeen(final boolean value)
    {
        putBoolean(LAST_ACK_SEEN_OFFSET, value);
    }

    boolean finSeen()
    {
        return getBoolean(FIN_SEEN_OFFSET);
    }

    void finSeen(final boolean value)
    {
        putBoolean(FIN_SEEN_OFFSET, value);
    }

    boolean rstSeen()
    {
        return getBoolean(RST_SEEN_OFFSET);
    }

    void rstSeen(final boolean value)
    {
        putBoolean(RST_SEEN_OFFSET, value);
    }

    int ringSize()
    {
        return getByte(RING_SIZE_OFFSET) & 0xFF;
    }

    void ringSize(final int value)
    {
        putByte(RING_SIZE_OFFSET, (byte)value);
    }

    int ringHead()
    {
        return getByte(RING_HEAD_OFFSET) & 0xFF;
    }

    void ringHead(final int value)
    {
        putByte(RING_HEAD_OFFSET, (byte)value);
    }

    public boolean isnSeen()
    {
        return getBoolean(ISN_SEEN_OFFSET);
    }

    void isnSeen(final boolean value)
    {
        putBoolean(ISN_SEEN_OFFSET, value);
    }

    public boolean sackPermitted()
    {
        return getBoolean(SACK_PERMITTED_OFFSET);
    }

    void sackPermitted(final boolean value)
    {
        putBoolean(SACK_PERMITTED_OFFSET, value);
    }

    public boolean timestampsOffered()
    {
        return getBoolean(TIMESTAMPS_OFFERED_OFFSET);
    }

    void timestampsOffered(final boolean value)
    {
        putBoolean(TIMESTAMPS_OFFERED_OFFSET, value);
    }

    int isnRaw()
    {
        return getInt(ISN_OFFSET);
    }

    void isnRaw(final int value)
    {
        putInt(ISN_OFFSET, value);
    }

    int segmentEnds(final int index)
    {
        return getInt(SEGMENT_ENDS_OFFSET + (long)index * Integer.BYTES);
    }

    void segmentEnds(final int index, final int value)
    {
        putInt(SEGMENT_ENDS_OFFSET + (long)index * Integer.BYTES, value);
    }

    public int synCount()
    {
        return getInt(SYN_COUNT_OFFSET);
    }

    void synCount(final int value)
    {
        putInt(SYN_COUNT_OFFSET, value);
    }

    long segmentTimes(final int index)
    {
        return getLong(SEGMENT_TIMES_OFFSET + (long)index * Long.BYTES);
    }

    void segmentTimes(final int index, final long value)
    {
        putLong(SEGMENT_TIMES_OFFSET + (long)index * Long.BYTES, value);
    }

    public int finCount()
    {
        return getInt(FIN_COUNT_OFFSET);
    }

    void finCount(final int value)
    {
        putInt(FIN_COUNT_OFFSET, value);
    }

    public int rstCount()
    {
        return getInt(RST_COUNT_OFFSET);
    }

    void rstCount(final int value)
    {
        putInt(RST_COUNT_OFFSET, value);
    }

    int lastSynSeq()
    {
        return getInt(LAST_SYN_SEQ_OFFSET);
    }

    void lastSynSeq(final int value)
    {
        putInt(LAST_SYN_SEQ_OFFSET, value);
    }

    int finEndSeq()
    {
        return getInt(FIN_END_SEQ_OFFSET);
    }

    void finEndSeq(final int value)
    {
        putInt(FIN_END_SEQ_OFFSET, value);
    }

    public int mss()
    {
        return getInt(MSS_OFFSET);
    }

    void mss(final int value)
    {
        putInt(MSS_OFFSET, value);
    }

    int analysisCounts(final int index)
    {
        return getInt(ANALYSIS_COUNTS_OFFSET + (long)index * Integer.BYTES);
    }

    void analysisCounts(final int index, final int value)
    {
        putInt(ANALYSIS_COUNTS_OFFSET + (long)index * Integer.BYTES, value);
    }

    /** ACK RTT samples for data this side sent (the peer's ACK time minus the segment's time). */
    public long rttSamples()
    {
        return getLong(RTT_SAMPLES_OFFSET);
    }

    void rttSamples(final long value)
    {
        putLong(RTT_SAMPLES_OFFSET, value);
    }

    long rttMinNanosRaw()
    {
        return getLong(RTT_MIN_NANOS_OFFSET);
    }

    void rttMinNanosRaw(final long value)
    {
        putLong(RTT_MIN_NANOS_OFFSET, value);
    }

    long rttMaxNanosRaw()
    {
        return getLong(RTT_MAX_NANOS_OFFSET);
    }

    void rttMaxNanosRaw(final long value)
    {
        putLong(RTT_MAX_NANOS_OFFSET, value);
    }

    /**
     * The sum of this side's ACK RTT samples, saturating at {@link Long#MAX_VALUE}: the difference across one
     * segment is that segment's sample. Public for {@code dev.flowtracker.core.flow}.
     */
    public long rttSumNanos()
    {
        return getLong(RTT_SUM_NANOS_OFFSET);
    }

    void rttSumNanos(final long value)
    {
        putLong(RTT_SUM_NANOS_OFFSET, value);
    }

    /** Data segments that started beyond the right edge of the receiver's advertised window. */
    public long outsideWindow()
    {
        return getLong(OUTSIDE_WINDOW_OFFSET);
    }

    void outsideWindow(final long value)
    {
        putLong(OUTSIDE_WINDOW_OFFSET, value);
    }

    /** RSTs whose sequence number was outside the receiver's window (likely injected). */
    public long rstOutsideWindow()
    {
        return getLong(RST_OUTSIDE_WINDOW_OFFSET);
    }

    void rstOutsideWindow(final long value)
    {
        putLong(RST_OUTSIDE_WINDOW_OFFSET, value);
    }

    /** Data segments sent after a RST was seen on the connection. */
    public long dataAfterRst()
    {
        return getLong(DATA_AFTER_RST_OFFSET);
    }

    void dataAfterRst(final long value)
    {
        putLong(DATA_AFTER_RST_OFFSET, value);
    }
}
