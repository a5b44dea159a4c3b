package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.Flyweight;
import dev.flowtracker.core.state.StateMemory;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One side of a connection as Zeek's TCP analyzer keeps it: its endpoint state, sequence bookkeeping
 * (start, last and acked sequence numbers with 32-bit wrap counts), the thresholds of its scaled history letters,
 * and a bounded model of its reassembler, enough to tell where Zeek reports content gaps. Rules in
 * docs/zeek-conn-semantics.md; the logic lives in {@link ZeekSummary} and the classes it runs the steps in.
 *
 * <p>A flyweight: its fields, declared once in {@link #LAYOUT}, live in {@link #BYTES} bytes at
 * {@code (segment, base)}, its own memory when made ({@link #wrap} points it elsewhere). Native byte order, each field
 * at a multiple of its own size, what every segment reads in the first cache line:
 *
 * <pre>
 *   bytes   0..63   startSeq; lastSeq, seqWraps, ackSeq, ackWraps; state, previousState and the flags (1 each);
 *                   lastReassembled, trimmed, historyLastSyn, historyLastFin
 *   bytes  64..95   historyLastRst, finSeq, finCount, rstCount, missedBytes
 *   bytes  96..127  scaledCount[4], scaledThreshold[4] (int each, by CHECKSUM .. GAP)
 *   bytes 128..223  blockStart[MAX_BLOCKS], blockEnd[MAX_BLOCKS] (long each)
 * </pre>
 *
 * <p>Owned by the connection's tracker thread.
 */
final class ZeekEndpoint extends Flyweight
{
    static final int INACTIVE = 0;
    static final int SYN_SENT = 1;
    static final int SYN_ACK_SENT = 2;
    static final int PARTIAL = 3;
    static final int ESTABLISHED = 4;
    static final int CLOSED = 5;
    static final int RESET = 6;

    /** Out-of-order ranges kept above the in-order point; more are merged into the nearest (documented limit). */
    static final int MAX_BLOCKS = 6;

    // Scaled letters: occurrences and the count at which the letter is next added (1, 10, 100...).
    static final int CHECKSUM = 0;
    static final int RETRANSMISSION = 1;
    static final int ZERO_WINDOW = 2;
    static final int GAP = 3;
    static final String SCALED_LETTERS = "CTWG";
    /** Scaled letters, the length of the count and threshold regions. */
    static final int SCALED_KINDS = SCALED_LETTERS.length();

    /** The fields, declared once: the offsets below are taken from it, and the state tests walk it. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_LONG.withName("startSeq"), // 64-bit, as Zeek's, set from 32-bit numbers; relative ones are 64-bit
        JAVA_INT.withName("lastSeq"),
        JAVA_INT.withName("seqWraps"),
        JAVA_INT.withName("ackSeq"),
        JAVA_INT.withName("ackWraps"),
        JAVA_BYTE.withName("state"),
        JAVA_BYTE.withName("previousState"),
        JAVA_BYTE.withName("isOrig"),
        JAVA_BYTE.withName("didClose"),
        JAVA_BYTE.withName("didEof"),
        JAVA_BYTE.withName("skipDeliveries"),
        JAVA_BYTE.withName("blockCount"),
        MemoryLayout.paddingLayout(1),
        // Reassembler model, in relative sequence numbers: everything below lastReassembled was delivered or
        // declared a gap; blocks hold data received above it, sorted and disjoint.
        JAVA_LONG.withName("lastReassembled"),
        JAVA_LONG.withName("trimmed"),
        JAVA_LONG.withName("historyLastSyn"), // relative sequence numbers of the last SYN, FIN and RST
        JAVA_LONG.withName("historyLastFin"),
        JAVA_LONG.withName("historyLastRst"),
        JAVA_LONG.withName("finSeq"), // relative sequence number just past the FIN
        JAVA_INT.withName("finCount"),
        JAVA_INT.withName("rstCount"),
        JAVA_LONG.withName("missedBytes"),
        MemoryLayout.sequenceLayout(SCALED_KINDS, JAVA_INT).withName("scaledCount"),
        MemoryLayout.sequenceLayout(SCALED_KINDS, JAVA_INT).withName("scaledThreshold"),
        MemoryLayout.sequenceLayout(MAX_BLOCKS, JAVA_LONG).withName("blockStart"),
        MemoryLayout.sequenceLayout(MAX_BLOCKS, JAVA_LONG).withName("blockEnd"));
    static final int START_SEQ_OFFSET = StateMemory.offset(LAYOUT, "startSeq");
    static final int LAST_SEQ_OFFSET = StateMemory.offset(LAYOUT, "lastSeq");
    static final int SEQ_WRAPS_OFFSET = StateMemory.offset(LAYOUT, "seqWraps");
    static final int ACK_SEQ_OFFSET = StateMemory.offset(LAYOUT, "ackSeq");
    static final int ACK_WRAPS_OFFSET = StateMemory.offset(LAYOUT, "ackWraps");
    static final int STATE_OFFSET = StateMemory.offset(LAYOUT, "state");
    static final int PREVIOUS_STATE_OFFSET = StateMemory.offset(LAYOUT, "previousState");
    static final int IS_ORIG_OFFSET = StateMemory.offset(LAYOUT, "isOrig");
    static final int DID_CLOSE_OFFSET = StateMemory.offset(LAYOUT, "didClose");
    static final int DID_EOF_OFFSET = StateMemory.offset(LAYOUT, "didEof");
    static final int SKIP_DELIVERIES_OFFSET = StateMemory.offset(LAYOUT, "skipDeliveries");
    static final int BLOCK_COUNT_OFFSET = StateMemory.offset(LAYOUT, "blockCount");
    static final int LAST_REASSEMBLED_OFFSET = StateMemory.offset(LAYOUT, "lastReassembled");
    static final int TRIMMED_OFFSET = StateMemory.offset(LAYOUT, "trimmed");
    static final int HISTORY_LAST_SYN_OFFSET = StateMemory.offset(LAYOUT, "historyLastSyn");
    static final int HISTORY_LAST_FIN_OFFSET = StateMemory.offset(LAYOUT, "historyLastFin");
    static final int HISTORY_LAST_RST_OFFSET = StateMemory.offset(LAYOUT, "historyLastRst");
    static final int FIN_SEQ_OFFSET = StateMemory.offset(LAYOUT, "finSeq");
    static final int FIN_COUNT_OFFSET = StateMemory.offset(LAYOUT, "finCount");
    static final int RST_COUNT_OFFSET = StateMemory.offset(LAYOUT, "rstCount");
    static final int MISSED_BYTES_OFFSET = StateMemory.offset(LAYOUT, "missedBytes");
    static final int SCALED_COUNT_OFFSET = StateMemory.offset(LAYOUT, "scaledCount");
    static final int SCALED_THRESHOLD_OFFSET = StateMemory.offset(LAYOUT, "scaledThreshold");
    static final int BLOCK_START_OFFSET = StateMemory.offset(LAYOUT, "blockStart");
    static final int BLOCK_END_OFFSET = StateMemory.offset(LAYOUT, "blockEnd");
    static final int BYTES = StateMemory.align8((int)LAYOUT.byteSize()); // of one endpoint's state


    /** A new endpoint, in memory of its own. */
    ZeekEndpoint()
    {
        wrap(StateMemory.home(BYTES), 0);
        clear();
    }

    /** A part of a larger state, on its memory: the whole's {@code clear} sets it. */
    ZeekEndpoint(final MemorySegment segment, final long base)
    {
        wrap(segment, base);
    }

    /** Points this flyweight at the endpoint state of {@link #BYTES} bytes at {@code base} of {@code segment}. */
    void wrap(final MemorySegment segment, final long base)
    {
        wrapMemory(segment, base, BYTES);
    }

    /** Copies {@code other}'s state into this endpoint's memory; allocates nothing. */
    void copyFrom(final ZeekEndpoint other)
    {
        copyMemory(other, BYTES);
    }

    /** Back to the state of a new endpoint, for a recycled connection; allocates nothing. */
    void clear()
    {
        zeroMemory(BYTES);
        defaults();
    }

    /** The fields whose new value is not zero, on zeroed memory (the summary zeroes all its parts at once). */
    void defaults()
    {
        // INACTIVE is 0, as are the flags, counts and blocks.
        for (int i = 0; i < SCALED_KINDS; i++)
        {
            scaledThreshold(i, 1);
        }
        lastReassembled(1);
        trimmed(1);
    }

    void setState(final int newState)
    {
        final int state = state();
        if (newState != state)
        {
            previousState(state);
            state(newState);
        }
    }

    static boolean isHandshake(final int state)
    {
        return state == INACTIVE || state == SYN_SENT || state == SYN_ACK_SENT;
    }

    boolean isInactiveOrPartial()
    {
        final int state = state();
        return state == INACTIVE || state == PARTIAL;
    }

    /** 64-bit sequence number of a 32-bit one with a wrap count. */
    static long full(final int seq, final int wraps)
    {
        return ((long)wraps << 32) + (seq & 0xFFFF_FFFFL);
    }

    long relative(final int seq, final int wraps)
    {
        return full(seq, wraps) - startSeq();
    }

    void initStart(final int seq)
    {
        startSeq(seq & 0xFFFF_FFFFL);
    }

    void updateLastSeq(final int seq)
    {
        if (Integer.compareUnsigned(seq, lastSeq()) < 0)
        {
            seqWraps(seqWraps() + 1);
        }
        lastSeq(seq);
    }

    void updateAckSeq(final int seq)
    {
        if (Integer.compareUnsigned(seq, ackSeq()) < 0)
        {
            ackWraps(ackWraps() + 1);
        }
        ackSeq(seq);
    }

    boolean noDataAcked()
    {
        final long ack = full(ackSeq(), ackWraps());
        final long startSeq = startSeq();
        return ack == startSeq || ack == startSeq + 1;
    }

    /**
     * Zeek's endpoint size: the furthest of the last sequence number and the peer's acknowledgement, less the
     * start, the SYN and the FIN. Acknowledged but unseen bytes count. Unsigned 64-bit, as Zeek computes it.
     */
    long size(final ZeekEndpoint peer)
    {
        if (previousState() == SYN_SENT && state() == RESET && peer.state() == INACTIVE && !noDataAcked())
        {
            return 0;
        }
        final long last = full(lastSeq(), seqWraps());
        final long ack = full(ackSeq(), ackWraps());
        long size = (Long.compareUnsigned(last, ack) > 0 ? last : ack) - startSeq();
        if (size != 0)
        {
            size--;
        }
        if (finCount() > 0 && size != 0)
        {
            size--;
        }
        return size;
    }

    // Raw accessors, one pair per field of the layout.

    long startSeq()
    {
        return getLong(START_SEQ_OFFSET);
    }

    void startSeq(final long value)
    {
        putLong(START_SEQ_OFFSET, value);
    }

    int lastSeq()
    {
        return getInt(LAST_SEQ_OFFSET);
    }

    void lastSeq(final int value)
    {
        putInt(LAST_SEQ_OFFSET, value);
    }

    int seqWraps()
    {
        return getInt(SEQ_WRAPS_OFFSET);
    }

    void seqWraps(final int value)
    {
        putInt(SEQ_WRAPS_OFFSET, value);
    }

    int ackSeq()
    {
        return getInt(ACK_SEQ_OFFSET);
    }

    void ackSeq(final int value)
    {
        putInt(ACK_SEQ_OFFSET, value);
    }

    int ackWraps()
    {
        return getInt(ACK_WRAPS_OFFSET);
    }

    void ackWraps(final int value)
    {
        putInt(ACK_WRAPS_OFFSET, value);
    }

    int state()
    {
        return getByte(STATE_OFFSET) & 0xFF;
    }

    void state(final int value)
    {
        putByte(STATE_OFFSET, (byte)value);
    }

    int previousState()
    {
        return getByte(PREVIOUS_STATE_OFFSET) & 0xFF;
    }

    void previousState(final int value)
    {
        putByte(PREVIOUS_STATE_OFFSET, (byte)value);
    }

    boolean isOrig()
    {
        return getBoolean(IS_ORIG_OFFSET);
    }

    void isOrig(final boolean value)
    {
        putBoolean(IS_ORIG_OFFSET, value);
    }

    boolean didClose()
    {
        return getBoolean(DID_CLOSE_OFFSET);
    }

    void didClose(final boolean value)
    {
        putBoolean(DID_CLOSE_OFFSET, value);
    }

    boolean didEof()
    {
        return getBoolean(DID_EOF_OFFSET);
    }

    void didEof(final boolean value)
    {
        putBoolean(DID_EOF_OFFSET, value);
    }

    boolean skipDeliveries()
    {
        return getBoolean(SKIP_DELIVERIES_OFFSET);
    }

    void skipDeliveries(final boolean value)
    {
        putBoolean(SKIP_DELIVERIES_OFFSET, value);
    }

    int blockCount()
    {
        return getByte(BLOCK_COUNT_OFFSET) & 0xFF;
    }

    void blockCount(final int value)
    {
        putByte(BLOCK_COUNT_OFFSET, (byte)value);
    }

    long lastReassembled()
    {
        return getLong(LAST_REASSEMBLED_OFFSET);
    }

    void lastReassembled(final long value)
    {
        putLong(LAST_REASSEMBLED_OFFSET, value);
    }

    long trimmed()
    {
        return getLong(TRIMMED_OFFSET);
    }

    void trimmed(final long value)
    {
        putLong(TRIMMED_OFFSET, value);
    }

    long historyLastSyn()
    {
        return getLong(HISTORY_LAST_SYN_OFFSET);
    }

    void historyLastSyn(final long value)
    {
        putLong(HISTORY_LAST_SYN_OFFSET, value);
    }

    long historyLastFin()
    {
        return getLong(HISTORY_LAST_FIN_OFFSET);
    }

    void historyLastFin(final long value)
    {
        putLong(HISTORY_LAST_FIN_OFFSET, value);
    }

    long historyLastRst()
    {
        return getLong(HISTORY_LAST_RST_OFFSET);
    }

    void historyLastRst(final long value)
    {
        putLong(HISTORY_LAST_RST_OFFSET, value);
    }

    long finSeq()
    {
        return getLong(FIN_SEQ_OFFSET);
    }

    void finSeq(final long value)
    {
        putLong(FIN_SEQ_OFFSET, value);
    }

    int finCount()
    {
        return getInt(FIN_COUNT_OFFSET);
    }

    void finCount(final int value)
    {
        putInt(FIN_COUNT_OFFSET, value);
    }

    int rstCount()
    {
        return getInt(RST_COUNT_OFFSET);
    }

    void rstCount(final int value)
    {
        putInt(RST_COUNT_OFFSET, value);
    }

    long missedBytes()
    {
        return getLong(MISSED_BYTES_OFFSET);
    }

    void missedBytes(final long value)
    {
        putLong(MISSED_BYTES_OFFSET, value);
    }

    int scaledCount(final int index)
    {
        return getInt(SCALED_COUNT_OFFSET + (long)index * Integer.BYTES);
    }

    void scaledCount(final int index, final int value)
    {
        putInt(SCALED_COUNT_OFFSET + (long)index * Integer.BYTES, value);
    }

    int scaledThreshold(final int index)
    {
        return getInt(SCALED_THRESHOLD_OFFSET + (long)index * Integer.BYTES);
    }

    void scaledThreshold(final int index, final int value)
    {
        putInt(SCALED_THRESHOLD_OFFSET + (long)index * Integer.BYTES, value);
    }

    long blockStart(final int index)
    {
        return getLong(BLOCK_START_OFFSET + (long)index * Long.BYTES);
    }

    void blockStart(final int index, final long value)
    {
        putLong(BLOCK_START_OFFSET + (long)index * Long.BYTES, value);
    }

    long blockEnd(final int index)
    {
        return getLong(BLOCK_END_OFFSET + (long)index * Long.BYTES);
    }

    void blockEnd(final int index, final long value)
    {
        putLong(BLOCK_END_OFFSET + (long)index * Long.BYTES, value);
    }

    /** Rejects bytes read from elsewhere (a checkpoint) whose bounded fields are out of range. */
    void check()
    {
        checkFlag(IS_ORIG_OFFSET, "ZeekEndpoint.isOrig");
        checkAtMost(STATE_OFFSET, RESET, "ZeekEndpoint.state");
        checkAtMost(PREVIOUS_STATE_OFFSET, RESET, "ZeekEndpoint.previousState");
        checkFlag(DID_CLOSE_OFFSET, "ZeekEndpoint.didClose");
        checkFlag(DID_EOF_OFFSET, "ZeekEndpoint.didEof");
        checkAtMost(BLOCK_COUNT_OFFSET, MAX_BLOCKS, "ZeekEndpoint.blockCount");
        checkFlag(SKIP_DELIVERIES_OFFSET, "ZeekEndpoint.skipDeliveries");
    }

}
