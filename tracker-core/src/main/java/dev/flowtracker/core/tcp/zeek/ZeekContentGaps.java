package dev.flowtracker.core.tcp.zeek;

/**
 * Zeek's reassembler, as far as content gaps need it: data an endpoint sent is kept as blocks above its in-order
 * point, an acknowledgement past a hole declares a gap (the G letter and missed_bytes), and a closing endpoint
 * waits while data is pending. The model's state is each {@link ZeekEndpoint}'s (lastReassembled, trimmed, the
 * blocks); rules in docs/zeek-conn-semantics.md.
 *
 * <p>Stateless; call it on the thread that owns the connection.
 */
final class ZeekContentGaps
{
    private static final int MAX_ABOVE_HOLE_WITHOUT_ACKS = 16_384;

    private ZeekContentGaps()
    {
    }

    /** {@code endpoint} sent {@code len} bytes at relative sequence number {@code relSeq}. */
    static void dataSent(final ZeekEndpoint endpoint, final long relSeq, final int len, final ZeekOptions options)
    {
        if (endpoint.skipDeliveries())
        {
            return;
        }
        long seq = relSeq;
        final long upper = relSeq + len;
        final long acked = endpoint.relative(endpoint.ackSeq(), endpoint.ackWraps());
        if (seq < acked)
        {
            if (upper <= acked)
            {
                return;
            }
            seq = acked;
        }
        if (upper <= endpoint.trimmed())
        {
            return;
        }
        seq = Math.max(seq, endpoint.trimmed());
        addBlock(endpoint, seq, upper);
        deliverContiguous(endpoint);
        if (endpoint.noDataAcked() && undeliveredBytes(endpoint) > MAX_ABOVE_HOLE_WITHOUT_ACKS)
        {
            endpoint.blockCount(0);
            endpoint.skipDeliveries(true);
        }
        if (options.excessiveDataWithoutAcks > 0 && bufferedBytes(endpoint) > options.excessiveDataWithoutAcks)
        {
            endpoint.blockCount(0);
            endpoint.skipDeliveries(true);
        }
    }

    /**
     * The peer acknowledged up to {@code relAck} of {@code endpoint}'s data: holes below it are gaps.
     *
     * @param partial whether the connection was picked up mid-stream (Zeek's partial status).
     * @return whether the acknowledgement moved the trim point; the caller then checks for {@code endpoint}'s EOF.
     */
    static boolean ackReceived(
        final ZeekEndpoint endpoint, final ZeekEndpoint peer, final long relAck, final boolean partial,
        final ZeekHistory history, final ZeekOptions options)
    {
        long seq = relAck;
        if (endpoint.finCount() > 0 && seq >= endpoint.finSeq())
        {
            seq = endpoint.finSeq() - 1;
        }
        if (seq <= endpoint.trimmed())
        {
            return false;
        }
        if (seq > endpoint.lastReassembled())
        {
            undelivered(endpoint, peer, seq, partial, history, options);
        }
        deliverContiguous(endpoint);
        endpoint.trimmed(seq);
        return true;
    }

    private static void undelivered(
        final ZeekEndpoint endpoint, final ZeekEndpoint peer, final long upTo, final boolean partial,
        final ZeekHistory history, final ZeekOptions options)
    {
        if (upTo <= 2 && partial)
        {
            return;
        }
        if (!endpoint.skipDeliveries())
        {
            while (endpoint.blockCount() > 0 && endpoint.blockStart(0) < upTo)
            {
                gap(endpoint, peer, endpoint.blockStart(0) - endpoint.lastReassembled(), history, options);
                endpoint.lastReassembled(endpoint.blockStart(0));
                deliverContiguous(endpoint);
            }
            if (upTo > endpoint.lastReassembled())
            {
                gap(endpoint, peer, upTo - endpoint.lastReassembled(), history, options);
            }
        }
        if (upTo > endpoint.lastReassembled())
        {
            endpoint.lastReassembled(upTo);
        }
    }

    private static void gap(
        final ZeekEndpoint endpoint, final ZeekEndpoint peer, final long length, final ZeekHistory history,
        final ZeekOptions options)
    {
        final boolean clean = isClean(endpoint) && isClean(peer);
        if (clean)
        {
            history.scaled(endpoint, ZeekEndpoint.GAP);
        }
        if (clean || options.reportGapsForPartial)
        {
            endpoint.missedBytes(endpoint.missedBytes() + length);
        }
    }

    private static boolean isClean(final ZeekEndpoint endpoint)
    {
        return endpoint.state() == ZeekEndpoint.ESTABLISHED ||
            (endpoint.state() == ZeekEndpoint.CLOSED && endpoint.previousState() == ZeekEndpoint.ESTABLISHED);
    }

    /** Whether {@code endpoint} still has data to deliver (its close then waits). */
    static boolean dataPending(final ZeekEndpoint endpoint, final ZeekEndpoint peer)
    {
        if (endpoint.skipDeliveries())
        {
            return false;
        }
        final long delivered = endpoint.startSeq() + endpoint.lastReassembled();
        final long last = ZeekEndpoint.full(endpoint.lastSeq(), endpoint.seqWraps());
        if (last < delivered)
        {
            return false;
        }
        if (delivered != last - 1 && delivered != last)
        {
            return true;
        }
        return endpoint.state() != ZeekEndpoint.RESET && peer.blockCount() > 0;
    }

    /**
     * Marks {@code endpoint}'s end of data once it has closed, reset or sent a FIN and nothing is pending.
     *
     * @return whether this call marked it (a deferred close may then go ahead).
     */
    static boolean reachEof(final ZeekEndpoint endpoint, final ZeekEndpoint peer)
    {
        final int state = endpoint.state();
        if (!endpoint.didEof() &&
            (endpoint.finCount() > 0 || state == ZeekEndpoint.CLOSED || state == ZeekEndpoint.RESET) &&
            !dataPending(endpoint, peer))
        {
            endpoint.didEof(true);
            return true;
        }
        return false;
    }

    // The block list of an endpoint's reassembler (its blockStart, blockEnd and blockCount).

    /** Bytes the reassembler holds: delivered but not yet acknowledged, plus everything above the hole. */
    private static long bufferedBytes(final ZeekEndpoint endpoint)
    {
        long bytes = Math.max(0, endpoint.lastReassembled() - endpoint.trimmed());
        for (int i = 0; i < endpoint.blockCount(); i++)
        {
            bytes += endpoint.blockEnd(i) - endpoint.blockStart(i);
        }
        return bytes;
    }

    private static long undeliveredBytes(final ZeekEndpoint endpoint)
    {
        final int blockCount = endpoint.blockCount();
        return blockCount == 0 ? 0 : endpoint.blockEnd(blockCount - 1) - endpoint.lastReassembled();
    }

    /** Adds {@code [start, end)} to the blocks, merging overlaps; when full, the two closest blocks merge. */
    private static void addBlock(final ZeekEndpoint endpoint, final long start, final long end)
    {
        final int blockCount = endpoint.blockCount();
        int i = 0;
        while (i < blockCount && endpoint.blockEnd(i) < start)
        {
            i++;
        }
        int j = i;
        long mergedStart = start;
        long mergedEnd = end;
        while (j < blockCount && endpoint.blockStart(j) <= end)
        {
            mergedStart = Math.min(mergedStart, endpoint.blockStart(j));
            mergedEnd = Math.max(mergedEnd, endpoint.blockEnd(j));
            j++;
        }
        final int removed = j - i;
        if (removed == 0 && blockCount == ZeekEndpoint.MAX_BLOCKS)
        {
            mergeClosestPair(endpoint);
            addBlock(endpoint, start, end);
            return;
        }
        // Replace blocks [i, j) by the merged one.
        moveBlocks(endpoint, j, i + 1, blockCount - j);
        endpoint.blockStart(i, mergedStart);
        endpoint.blockEnd(i, mergedEnd);
        endpoint.blockCount(blockCount + 1 - removed);
    }

    private static void mergeClosestPair(final ZeekEndpoint endpoint)
    {
        int best = 0;
        long bestGap = Long.MAX_VALUE;
        for (int i = 0; i + 1 < endpoint.blockCount(); i++)
        {
            final long gap = endpoint.blockStart(i + 1) - endpoint.blockEnd(i);
            if (gap < bestGap)
            {
                bestGap = gap;
                best = i;
            }
        }
        endpoint.blockEnd(best, endpoint.blockEnd(best + 1));
        removeBlock(endpoint, best + 1);
    }

    private static void removeBlock(final ZeekEndpoint endpoint, final int index)
    {
        final int blockCount = endpoint.blockCount();
        moveBlocks(endpoint, index + 1, index, blockCount - index - 1);
        endpoint.blockCount(blockCount - 1);
    }

    /** Moves {@code count} blocks from index {@code from} to index {@code to}, as System.arraycopy would. */
    private static void moveBlocks(final ZeekEndpoint endpoint, final int from, final int to, final int count)
    {
        if (to > from)
        {
            for (int k = count - 1; k >= 0; k--)
            {
                endpoint.blockStart(to + k, endpoint.blockStart(from + k));
                endpoint.blockEnd(to + k, endpoint.blockEnd(from + k));
            }
        }
        else
        {
            for (int k = 0; k < count; k++)
            {
                endpoint.blockStart(to + k, endpoint.blockStart(from + k));
                endpoint.blockEnd(to + k, endpoint.blockEnd(from + k));
            }
        }
    }

    /** Delivers blocks that now continue the in-order data and forgets those wholly below it. */
    private static void deliverContiguous(final ZeekEndpoint endpoint)
    {
        while (endpoint.blockCount() > 0 && endpoint.blockStart(0) <= endpoint.lastReassembled())
        {
            endpoint.lastReassembled(Math.max(endpoint.lastReassembled(), endpoint.blockEnd(0)));
            removeBlock(endpoint, 0);
        }
    }
}
