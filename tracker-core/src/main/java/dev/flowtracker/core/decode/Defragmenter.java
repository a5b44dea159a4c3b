package dev.flowtracker.core.decode;

/**
 * Completes fragmented IP datagrams by length and time, not by bytes: it holds the decoded first fragment (the one
 * with the TCP header) until every fragment of its datagram has arrived, then releases it with the reassembled
 * payload length and the completing frame's timestamp. That is the frame tshark attributes the segment to, so
 * per-connection counts and analysis line up. A TCP header split across fragments is not rebuilt.
 *
 * <p>Fixed capacity: when full, the oldest pending datagram is dropped and counted in {@link #evicted()}.
 * Allocates only at construction. Owned by the decoding thread.
 */
public final class Defragmenter
{
    private final DecodedPacket[] firstFragments;
    private final boolean[] hasFirst;
    private final long[] srcHigh;
    private final long[] srcLow;
    private final long[] dstHigh;
    private final long[] dstLow;
    private final int[] id;
    private final long[] received;
    private final long[] total;
    private final long[] age;
    private final DecodedPacket released = new DecodedPacket();
    private int count;
    private long clock;
    private long evicted;
    private long completed;

    public Defragmenter(final int capacity)
    {
        firstFragments = new DecodedPacket[capacity];
        for (int i = 0; i < capacity; i++)
        {
            firstFragments[i] = new DecodedPacket();
        }
        hasFirst = new boolean[capacity];
        srcHigh = new long[capacity];
        srcLow = new long[capacity];
        dstHigh = new long[capacity];
        dstLow = new long[capacity];
        id = new int[capacity];
        received = new long[capacity];
        total = new long[capacity];
        age = new long[capacity];
    }

    /**
     * Offers one fragment (a frame whose {@link DecodedPacket#fragmentLength} is 0 or more).
     *
     * @param carriesTcp whether the frame decoded to a TCP segment (a first fragment holding the TCP header).
     * @return the completed TCP segment when this fragment completes a datagram that carries one, else null. The
     *         returned packet is reused by the next call.
     */
    public DecodedPacket offer(final DecodedPacket fragment, final boolean carriesTcp)
    {
        int slot = find(fragment);
        if (slot < 0)
        {
            slot = allocate(fragment);
        }
        if (fragment.fragmentOffset == 0 && carriesTcp && !hasFirst[slot])
        {
            firstFragments[slot].copyFrom(fragment);
            hasFirst[slot] = true;
        }
        received[slot] += fragment.fragmentLength;
        if (!fragment.fragmentMore)
        {
            total[slot] = (long)fragment.fragmentOffset + fragment.fragmentLength;
        }
        if (total[slot] < 0 || received[slot] < total[slot])
        {
            return null;
        }
        DecodedPacket result = null;
        if (hasFirst[slot])
        {
            final DecodedPacket first = firstFragments[slot];
            final long missing = total[slot] - first.fragmentLength;
            released.copyFrom(first);
            // The later fragments add to both views of the payload: payloadBeyondLinkLength stays the first's.
            released.payloadLength = (int)Math.min(Integer.MAX_VALUE, first.payloadLength + missing);
            released.ipLength = (int)Math.min(Integer.MAX_VALUE, first.ipLength + missing);
            released.timestampNanos = fragment.timestampNanos;
            released.frameNumber = fragment.frameNumber;
            released.ipFragmented = false;
            result = released;
        }
        completed++;
        free(slot);
        return result;
    }

    /** Datagrams still waiting for fragments. */
    public int pending()
    {
        return count;
    }

    /** Pending datagrams dropped because the table was full. */
    public long evicted()
    {
        return evicted;
    }

    /** Datagrams completed. */
    public long completed()
    {
        return completed;
    }

    private int find(final DecodedPacket f)
    {
        for (int i = 0; i < count; i++)
        {
            if (id[i] == f.fragmentId && srcLow[i] == f.fragmentSrcLow && dstLow[i] == f.fragmentDstLow &&
                srcHigh[i] == f.fragmentSrcHigh && dstHigh[i] == f.fragmentDstHigh)
            {
                return i;
            }
        }
        return -1;
    }

    private int allocate(final DecodedPacket f)
    {
        if (count == id.length)
        {
            int oldest = 0;
            for (int i = 1; i < count; i++)
            {
                if (age[i] < age[oldest])
                {
                    oldest = i;
                }
            }
            free(oldest);
            evicted++;
        }
        final int slot = count++;
        srcHigh[slot] = f.fragmentSrcHigh;
        srcLow[slot] = f.fragmentSrcLow;
        dstHigh[slot] = f.fragmentDstHigh;
        dstLow[slot] = f.fragmentDstLow;
        id[slot] = f.fragmentId;
        received[slot] = 0;
        total[slot] = -1;
        hasFirst[slot] = false;
        age[slot] = clock++;
        return slot;
    }

    /** Moves the last slot into the freed one (order does not matter; age keeps eviction fair). */
    private void free(final int slot)
    {
        final int last = --count;
        if (slot != last)
        {
            final DecodedPacket swap = firstFragments[slot];
            firstFragments[slot] = firstFragments[last];
            firstFragments[last] = swap;
            hasFirst[slot] = hasFirst[last];
            srcHigh[slot] = srcHigh[last];
            srcLow[slot] = srcLow[last];
            dstHigh[slot] = dstHigh[last];
            dstLow[slot] = dstLow[last];
            id[slot] = id[last];
            received[slot] = received[last];
            total[slot] = total[last];
            age[slot] = age[last];
        }
    }
}
