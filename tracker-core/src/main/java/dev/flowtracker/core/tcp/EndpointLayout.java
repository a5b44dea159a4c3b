package dev.flowtracker.core.tcp;

import dev.flowtracker.core.state.StateMemory;

import java.lang.foreign.MemorySegment;

/**
 * Where a {@link TcpEndpoint}'s state lives: {@link #BYTES} of memory at {@code (segment, base)}, one
 * {@code *_OFFSET} per field, and the raw accessors over them (a getter {@code foo()} and a setter {@code foo(value)},
 * or {@code fooRaw} where {@link TcpEndpoint} has a public {@code foo()} that maps a sentinel). Native byte order,
 * each field at a multiple of its own width; the sequence-analysis state read on every segment first:
 *
 * <pre>
 *  offset  width  field
 *       0      8  packets
 *       8      8  ipBytes
 *      16      8  payloadBytes
 *      24      8  nextSeqTime
 *      32      8  lastAckTime
 *      40      4  nextSeq
 *      44      4  maxSeqToBeAcked
 *      48      4  lastAck
 *      52      4  window             (-1 until the first segment)
 *      56      4  dupAckNum
 *      60      4  lastSegmentFlags
 *  ------------------------------------ 64
 *      64      8  sequenceSpace
 *      72      8  maxInFlight
 *      80      4  unackedSegments
 *      84      4  baseSeq
 *      88      1  state              (TcpState ordinal)
 *      89      1  windowScale        (signed: a shift 0..14, WINDOW_SCALE_UNKNOWN or WINDOW_SCALE_NONE)
 *      90      1  firstAck           (booleans are 0 or 1)
 *      91      1  baseSeqSet
 *      92      1  lastAckSeen
 *      93      1  finSeen
 *      94      1  rstSeen
 *      95      1  ringSize           (0..RTT_RING)
 *      96      1  ringHead           (0..RTT_RING - 1)
 *      97      1  isnSeen
 *      98      1  sackPermitted
 *      99      1  timestampsOffered
 *     100      4  (padding)
 *     104      4  isn
 *     108     32  segmentEnds[RTT_RING]   (int each)
 *     140      4  synCount
 *     144     64  segmentTimes[RTT_RING]  (long each)
 *     208      4  finCount
 *     212      4  rstCount
 *     216      4  lastSynSeq
 *     220      4  finEndSeq
 *     224      4  mss                (-1 when absent)
 *     228     60  analysisCounts[AnalysisFlag.count()]  (int each, by ordinal; 15 flags)
 *     288      8  rttSamples
 *     296      8  rttMinNanos        (Long.MAX_VALUE until the first sample)
 *     304      8  rttMaxNanos
 *     312      8  rttSumNanos
 *     320      8  outsideWindow
 *     328      8  rstOutsideWindow
 *     336      8  dataAfterRst
 *  ------------------------------------ 344 = BYTES
 * </pre>
 *
 * <p>Each region runs to the next offset (the padding follows a byte field; with a 16th analysis flag, the counts
 * would be followed by 4 bytes of it, and the layout should then be redrawn). The public getters here are
 * {@link TcpEndpoint}'s API. Owned by the connection's tracker thread, like the endpoint.
 */
abstract sealed class EndpointLayout permits TcpEndpoint
{
    /** Ends (next sequence numbers) of recent segments and their times, for ACK RTT samples. */
    static final int RTT_RING = 8;
    static final int FLAGS = AnalysisFlag.count();
    static final TcpState[] STATES = TcpState.values();

    static final int PACKETS_OFFSET = 0;
    static final int IP_BYTES_OFFSET = 8;
    static final int PAYLOAD_BYTES_OFFSET = 16;
    static final int NEXT_SEQ_TIME_OFFSET = 24;
    static final int LAST_ACK_TIME_OFFSET = 32;
    static final int NEXT_SEQ_OFFSET = 40;
    static final int MAX_SEQ_TO_BE_ACKED_OFFSET = 44;
    static final int LAST_ACK_OFFSET = 48;
    static final int WINDOW_OFFSET = 52;
    static final int DUP_ACK_NUM_OFFSET = 56;
    static final int LAST_SEGMENT_FLAGS_OFFSET = 60;
    static final int SEQUENCE_SPACE_OFFSET = 64;
    static final int MAX_IN_FLIGHT_OFFSET = 72;
    static final int UNACKED_SEGMENTS_OFFSET = 80;
    static final int BASE_SEQ_OFFSET = 84;
    static final int STATE_OFFSET = 88;
    static final int WINDOW_SCALE_OFFSET = 89;
    static final int FIRST_ACK_OFFSET = 90;
    static final int BASE_SEQ_SET_OFFSET = 91;
    static final int LAST_ACK_SEEN_OFFSET = 92;
    static final int FIN_SEEN_OFFSET = 93;
    static final int RST_SEEN_OFFSET = 94;
    static final int RING_SIZE_OFFSET = 95;
    static final int RING_HEAD_OFFSET = 96;
    static final int ISN_SEEN_OFFSET = 97;
    static final int SACK_PERMITTED_OFFSET = 98;
    static final int TIMESTAMPS_OFFERED_OFFSET = 99;
    static final int ISN_OFFSET = 104;
    static final int SEGMENT_ENDS_OFFSET = 108;
    static final int SYN_COUNT_OFFSET = 140;
    static final int SEGMENT_TIMES_OFFSET = 144;
    static final int FIN_COUNT_OFFSET = 208;
    static final int RST_COUNT_OFFSET = 212;
    static final int LAST_SYN_SEQ_OFFSET = 216;
    static final int FIN_END_SEQ_OFFSET = 220;
    static final int MSS_OFFSET = 224;
    static final int ANALYSIS_COUNTS_OFFSET = 228;
    static final int RTT_SAMPLES_OFFSET = StateMemory.align8(ANALYSIS_COUNTS_OFFSET + FLAGS * Integer.BYTES);
    static final int RTT_MIN_NANOS_OFFSET = RTT_SAMPLES_OFFSET + Long.BYTES;
    static final int RTT_MAX_NANOS_OFFSET = RTT_MIN_NANOS_OFFSET + Long.BYTES;
    static final int RTT_SUM_NANOS_OFFSET = RTT_MAX_NANOS_OFFSET + Long.BYTES;
    static final int OUTSIDE_WINDOW_OFFSET = RTT_SUM_NANOS_OFFSET + Long.BYTES;
    static final int RST_OUTSIDE_WINDOW_OFFSET = OUTSIDE_WINDOW_OFFSET + Long.BYTES;
    static final int DATA_AFTER_RST_OFFSET = RST_OUTSIDE_WINDOW_OFFSET + Long.BYTES;
    static final int BYTES = StateMemory.align8(DATA_AFTER_RST_OFFSET + Long.BYTES);

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
