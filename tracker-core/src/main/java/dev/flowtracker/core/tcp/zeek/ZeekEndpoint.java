package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.state.StateFields;
import java.util.Arrays;

/**
 * One side of a connection as Zeek's TCP analyzer keeps it: its endpoint state, sequence bookkeeping
 * (start, last and acked sequence numbers with 32-bit wrap counts), the thresholds of its scaled history letters,
 * and a bounded model of its reassembler, enough to tell where Zeek reports content gaps. Rules in
 * docs/zeek-conn-semantics.md; the logic lives in {@link ZeekSummary} and the classes it runs the steps in.
 *
 * <p>Owned by the connection's tracker thread.
 */
final class ZeekEndpoint
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

    boolean isOrig;
    int state = INACTIVE;
    int previousState = INACTIVE;

    /** Zeek keeps the start as a 64-bit value set from 32-bit numbers; relative numbers are 64-bit. */
    long startSeq;
    int lastSeq;
    int seqWraps;
    int ackSeq;
    int ackWraps;

    int finCount;
    int rstCount;
    /** Relative sequence number just past the FIN. */
    long finSeq;
    boolean didClose;
    boolean didEof;

    /** Relative sequence numbers of the last SYN, FIN and RST, for repeated S/H/F/R letters. */
    long historyLastSyn;
    long historyLastFin;
    long historyLastRst;

    // Scaled letters: occurrences and the count at which the letter is next added (1, 10, 100...).
    static final int CHECKSUM = 0;
    static final int RETRANSMISSION = 1;
    static final int ZERO_WINDOW = 2;
    static final int GAP = 3;
    static final String SCALED_LETTERS = "CTWG";
    final int[] scaledCount = new int[4];
    final int[] scaledThreshold = {1, 1, 1, 1};

    // Reassembler model, in relative sequence numbers: everything below lastReassembled was delivered or
    // declared a gap; blocks hold data received above it, sorted and disjoint.
    long lastReassembled = 1;
    long trimmed = 1;
    final long[] blockStart = new long[MAX_BLOCKS];
    final long[] blockEnd = new long[MAX_BLOCKS];
    int blockCount;
    boolean skipDeliveries;
    long missedBytes;

    /** Bytes {@link #encode} writes. */
    static final int ENCODED_BYTES = 7 + 6 * Integer.BYTES + 8 * Long.BYTES +
        (SCALED_LETTERS.length() * 2) * Integer.BYTES + MAX_BLOCKS * 2 * Long.BYTES;

    /** Back to the state of a new endpoint, for a recycled connection; allocates nothing. */
    void clear()
    {
        isOrig = false;
        state = INACTIVE;
        previousState = INACTIVE;
        startSeq = 0;
        lastSeq = 0;
        seqWraps = 0;
        ackSeq = 0;
        ackWraps = 0;
        finCount = 0;
        rstCount = 0;
        finSeq = 0;
        didClose = false;
        didEof = false;
        historyLastSyn = 0;
        historyLastFin = 0;
        historyLastRst = 0;
        Arrays.fill(scaledCount, 0);
        Arrays.fill(scaledThreshold, 1);
        lastReassembled = 1;
        trimmed = 1;
        Arrays.fill(blockStart, 0);
        Arrays.fill(blockEnd, 0);
        blockCount = 0;
        skipDeliveries = false;
        missedBytes = 0;
    }

    /** Writes every field, in declaration order (see {@link dev.flowtracker.core.flow.FlowStateCodec}). */
    void encode(final StateBuffer dst)
    {
        StateFields.putBoolean(dst, isOrig);
        StateFields.putSmall(dst, state);
        StateFields.putSmall(dst, previousState);
        dst.putLong(startSeq);
        dst.putInt(lastSeq);
        dst.putInt(seqWraps);
        dst.putInt(ackSeq);
        dst.putInt(ackWraps);
        dst.putInt(finCount);
        dst.putInt(rstCount);
        dst.putLong(finSeq);
        StateFields.putBoolean(dst, didClose);
        StateFields.putBoolean(dst, didEof);
        dst.putLong(historyLastSyn);
        dst.putLong(historyLastFin);
        dst.putLong(historyLastRst);
        StateFields.putInts(dst, scaledCount);
        StateFields.putInts(dst, scaledThreshold);
        dst.putLong(lastReassembled);
        dst.putLong(trimmed);
        StateFields.putLongs(dst, blockStart);
        StateFields.putLongs(dst, blockEnd);
        StateFields.putSmall(dst, blockCount);
        StateFields.putBoolean(dst, skipDeliveries);
        dst.putLong(missedBytes);
    }

    /** Reads what {@link #encode} wrote; bounds-checks the states and the block count. */
    void decode(final StateBuffer src)
    {
        isOrig = StateFields.getBoolean(src, "ZeekEndpoint.isOrig");
        state = StateFields.getSmall(src, RESET, "ZeekEndpoint.state");
        previousState = StateFields.getSmall(src, RESET, "ZeekEndpoint.previousState");
        startSeq = src.getLong();
        lastSeq = src.getInt();
        seqWraps = src.getInt();
        ackSeq = src.getInt();
        ackWraps = src.getInt();
        finCount = src.getInt();
        rstCount = src.getInt();
        finSeq = src.getLong();
        didClose = StateFields.getBoolean(src, "ZeekEndpoint.didClose");
        didEof = StateFields.getBoolean(src, "ZeekEndpoint.didEof");
        historyLastSyn = src.getLong();
        historyLastFin = src.getLong();
        historyLastRst = src.getLong();
        StateFields.getInts(src, scaledCount);
        StateFields.getInts(src, scaledThreshold);
        lastReassembled = src.getLong();
        trimmed = src.getLong();
        StateFields.getLongs(src, blockStart);
        StateFields.getLongs(src, blockEnd);
        blockCount = StateFields.getSmall(src, MAX_BLOCKS, "ZeekEndpoint.blockCount");
        skipDeliveries = StateFields.getBoolean(src, "ZeekEndpoint.skipDeliveries");
        missedBytes = src.getLong();
    }

    void setState(final int newState)
    {
        if (newState != state)
        {
            previousState = state;
            state = newState;
        }
    }

    static boolean isHandshake(final int state)
    {
        return state == INACTIVE || state == SYN_SENT || state == SYN_ACK_SENT;
    }

    boolean isInactiveOrPartial()
    {
        return state == INACTIVE || state == PARTIAL;
    }

    /** 64-bit sequence number of a 32-bit one with a wrap count. */
    static long full(final int seq, final int wraps)
    {
        return ((long)wraps << 32) + (seq & 0xFFFF_FFFFL);
    }

    long relative(final int seq, final int wraps)
    {
        return full(seq, wraps) - startSeq;
    }

    void initStart(final int seq)
    {
        startSeq = seq & 0xFFFF_FFFFL;
    }

    void updateLastSeq(final int seq)
    {
        if (Integer.compareUnsigned(seq, lastSeq) < 0)
        {
            seqWraps++;
        }
        lastSeq = seq;
    }

    void updateAckSeq(final int seq)
    {
        if (Integer.compareUnsigned(seq, ackSeq) < 0)
        {
            ackWraps++;
        }
        ackSeq = seq;
    }

    boolean noDataAcked()
    {
        final long ack = full(ackSeq, ackWraps);
        return ack == startSeq || ack == startSeq + 1;
    }

    /**
     * Zeek's endpoint size: the furthest of the last sequence number and the peer's acknowledgement, less the
     * start, the SYN and the FIN. Acknowledged but unseen bytes count. Unsigned 64-bit, as Zeek computes it.
     */
    long size(final ZeekEndpoint peer)
    {
        if (previousState == SYN_SENT && state == RESET && peer.state == INACTIVE && !noDataAcked())
        {
            return 0;
        }
        final long last = full(lastSeq, seqWraps);
        final long ack = full(ackSeq, ackWraps);
        long size = (Long.compareUnsigned(last, ack) > 0 ? last : ack) - startSeq;
        if (size != 0)
        {
            size--;
        }
        if (finCount > 0 && size != 0)
        {
            size--;
        }
        return size;
    }

    boolean hasUndeliveredData()
    {
        return blockCount > 0;
    }

    /** Bytes the reassembler holds: delivered but not yet acknowledged, plus everything above the hole. */
    long bufferedBytes()
    {
        long bytes = Math.max(0, lastReassembled - trimmed);
        for (int i = 0; i < blockCount; i++)
        {
            bytes += blockEnd[i] - blockStart[i];
        }
        return bytes;
    }

    long undeliveredBytes()
    {
        return blockCount == 0 ? 0 : blockEnd[blockCount - 1] - lastReassembled;
    }

    /** Adds {@code [start, end)} to the blocks, merging overlaps; when full, the two closest blocks merge. */
    void addBlock(final long start, final long end)
    {
        int i = 0;
        while (i < blockCount && blockEnd[i] < start)
        {
            i++;
        }
        int j = i;
        long mergedStart = start;
        long mergedEnd = end;
        while (j < blockCount && blockStart[j] <= end)
        {
            mergedStart = Math.min(mergedStart, blockStart[j]);
            mergedEnd = Math.max(mergedEnd, blockEnd[j]);
            j++;
        }
        final int removed = j - i;
        if (removed == 0 && blockCount == MAX_BLOCKS)
        {
            mergeClosestPair();
            addBlock(start, end);
            return;
        }
        // Replace blocks [i, j) by the merged one.
        System.arraycopy(blockStart, j, blockStart, i + 1, blockCount - j);
        System.arraycopy(blockEnd, j, blockEnd, i + 1, blockCount - j);
        blockStart[i] = mergedStart;
        blockEnd[i] = mergedEnd;
        blockCount += 1 - removed;
    }

    private void mergeClosestPair()
    {
        int best = 0;
        long bestGap = Long.MAX_VALUE;
        for (int i = 0; i + 1 < blockCount; i++)
        {
            final long gap = blockStart[i + 1] - blockEnd[i];
            if (gap < bestGap)
            {
                bestGap = gap;
                best = i;
            }
        }
        blockEnd[best] = blockEnd[best + 1];
        removeBlock(best + 1);
    }

    void removeBlock(final int index)
    {
        System.arraycopy(blockStart, index + 1, blockStart, index, blockCount - index - 1);
        System.arraycopy(blockEnd, index + 1, blockEnd, index, blockCount - index - 1);
        blockCount--;
    }

    /** Delivers blocks that now continue the in-order data and forgets those wholly below it. */
    void deliverContiguous()
    {
        while (blockCount > 0 && blockStart[0] <= lastReassembled)
        {
            lastReassembled = Math.max(lastReassembled, blockEnd[0]);
            removeBlock(0);
        }
    }

    void clearBlocks()
    {
        blockCount = 0;
    }
}
