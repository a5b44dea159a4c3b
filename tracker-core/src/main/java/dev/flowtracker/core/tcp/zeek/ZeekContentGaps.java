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
        if (endpoint.skipDeliveries)
        {
            return;
        }
        long seq = relSeq;
        final long upper = relSeq + len;
        final long acked = endpoint.relative(endpoint.ackSeq, endpoint.ackWraps);
        if (seq < acked)
        {
            if (upper <= acked)
            {
                return;
            }
            seq = acked;
        }
        if (upper <= endpoint.trimmed)
        {
            return;
        }
        seq = Math.max(seq, endpoint.trimmed);
        endpoint.addBlock(seq, upper);
        endpoint.deliverContiguous();
        if (endpoint.noDataAcked() && endpoint.undeliveredBytes() > MAX_ABOVE_HOLE_WITHOUT_ACKS)
        {
            endpoint.clearBlocks();
            endpoint.skipDeliveries = true;
        }
        if (options.excessiveDataWithoutAcks > 0 && endpoint.bufferedBytes() > options.excessiveDataWithoutAcks)
        {
            endpoint.clearBlocks();
            endpoint.skipDeliveries = true;
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
        if (endpoint.finCount > 0 && seq >= endpoint.finSeq)
        {
            seq = endpoint.finSeq - 1;
        }
        if (seq <= endpoint.trimmed)
        {
            return false;
        }
        if (seq > endpoint.lastReassembled)
        {
            undelivered(endpoint, peer, seq, partial, history, options);
        }
        endpoint.deliverContiguous();
        endpoint.trimmed = seq;
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
        if (!endpoint.skipDeliveries)
        {
            while (endpoint.blockCount > 0 && endpoint.blockStart[0] < upTo)
            {
                gap(endpoint, peer, endpoint.blockStart[0] - endpoint.lastReassembled, history, options);
                endpoint.lastReassembled = endpoint.blockStart[0];
                endpoint.deliverContiguous();
            }
            if (upTo > endpoint.lastReassembled)
            {
                gap(endpoint, peer, upTo - endpoint.lastReassembled, history, options);
            }
        }
        if (upTo > endpoint.lastReassembled)
        {
            endpoint.lastReassembled = upTo;
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
            endpoint.missedBytes += length;
        }
    }

    private static boolean isClean(final ZeekEndpoint endpoint)
    {
        return endpoint.state == ZeekEndpoint.ESTABLISHED ||
            (endpoint.state == ZeekEndpoint.CLOSED && endpoint.previousState == ZeekEndpoint.ESTABLISHED);
    }

    /** Whether {@code endpoint} still has data to deliver (its close then waits). */
    static boolean dataPending(final ZeekEndpoint endpoint, final ZeekEndpoint peer)
    {
        if (endpoint.skipDeliveries)
        {
            return false;
        }
        final long delivered = endpoint.startSeq + endpoint.lastReassembled;
        final long last = ZeekEndpoint.full(endpoint.lastSeq, endpoint.seqWraps);
        if (last < delivered)
        {
            return false;
        }
        if (delivered != last - 1 && delivered != last)
        {
            return true;
        }
        return endpoint.state != ZeekEndpoint.RESET && peer.hasUndeliveredData();
    }

    /**
     * Marks {@code endpoint}'s end of data once it has closed, reset or sent a FIN and nothing is pending.
     *
     * @return whether this call marked it (a deferred close may then go ahead).
     */
    static boolean reachEof(final ZeekEndpoint endpoint, final ZeekEndpoint peer)
    {
        if (!endpoint.didEof &&
            (endpoint.finCount > 0 || endpoint.state == ZeekEndpoint.CLOSED || endpoint.state == ZeekEndpoint.RESET) &&
            !dataPending(endpoint, peer))
        {
            endpoint.didEof = true;
            return true;
        }
        return false;
    }
}
