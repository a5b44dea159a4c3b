package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.state.StateMemory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.ref.Reference;
import java.util.function.IntConsumer;

/**
 * The index of a flow table, off-heap: open addressing with linear probing and backward-shift deletion (no
 * tombstones), from a flow's hash to its slot in the {@link FlowStateStore}. Each bucket is 8 bytes, the flow's hash
 * beside its slot:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                  Slot + 1 (0: the bucket is empty)            |
 *  +---------------------------------------------------------------+
 *  |                      Flow hash (FlowHash)                     |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>So a probe compares hashes inside the index's own cache lines, and a lookup reads a record only for a bucket
 * whose hash is the packet's: once, for a flow that is there, and almost never for one that is not (a new flow).
 * Removal and growth move entries by the hashes they hold, without reading records either. A bucket's place is its
 * hash masked to the table size, as before the hashes moved here, so the tables visit flows in the same order.
 *
 * <p>The table that owns it decides when it grows ({@link #grow}). Owned by that table's tracker thread.
 */
final class FlowIndex
{
    static final int NONE = FlowStateStore.NONE;
    /** Bytes of one bucket. */
    static final int BUCKET_BYTES = Long.BYTES;
    static final int MAX_BUCKETS = 1 << 30;

    private MemorySegment memory;
    /** Where the buckets start in {@link StateMemory#ALL}: accessed there, the JIT folds the segment's checks. */
    private long address;
    private int mask;

    /** @param buckets a power of two */
    FlowIndex(final int buckets)
    {
        allocate(buckets);
    }

    /** The power of two of at least {@code minimum} buckets (and 16), as a table sizes its index. */
    static int bucketsFor(final long minimum)
    {
        final long buckets = Long.highestOneBit(Math.max(16L, minimum - 1) << 1);
        if (buckets > MAX_BUCKETS)
        {
            throw new IllegalArgumentException("flow table index too large: " + minimum + " buckets");
        }
        return (int)buckets;
    }

    int buckets()
    {
        return mask + 1;
    }

    long byteSize()
    {
        return memory.byteSize();
    }

    /** The slot of the packet's flow, or {@link #NONE}; reads the record of a bucket whose hash matches only. */
    int find(final DecodedPacket p, final int hash, final FlowStateStore store)
    {
        final long wanted = (long)hash << 32;
        for (int bucket = hash & mask; ; bucket = (bucket + 1) & mask)
        {
            final long entry = entry(bucket);
            if (entry == 0)
            {
                return NONE;
            }
            if ((entry & 0xFFFF_FFFF_0000_0000L) == wanted)
            {
                final int slot = (int)entry - 1;
                if (store.matches(slot, p))
                {
                    return slot;
                }
            }
        }
    }

    /** Adds {@code slot} under {@code hash}; the caller keeps the index from filling up. */
    void insert(final int slot, final int hash)
    {
        int bucket = hash & mask;
        while (entry(bucket) != 0)
        {
            bucket = (bucket + 1) & mask;
        }
        entry(bucket, (long)hash << 32 | (slot + 1) & 0xFFFF_FFFFL);
    }

    /** Takes {@code slot}, indexed under {@code hash}, out. */
    void remove(final int slot, final int hash)
    {
        final long removed = (long)hash << 32 | (slot + 1) & 0xFFFF_FFFFL;
        int hole = hash & mask;
        while (entry(hole) != removed)
        {
            hole = (hole + 1) & mask;
        }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        for (int bucket = (hole + 1) & mask; ; bucket = (bucket + 1) & mask)
        {
            final long entry = entry(bucket);
            if (entry == 0)
            {
                break;
            }
            final int home = (int)(entry >>> 32) & mask;
            if (((bucket - home) & mask) >= ((bucket - hole) & mask))
            {
                entry(hole, entry);
                hole = bucket;
            }
        }
        entry(hole, 0);
    }

    /** The slot of every entry, in bucket order. */
    void forEachSlot(final IntConsumer action)
    {
        final int buckets = mask + 1;
        for (int bucket = 0; bucket < buckets; bucket++)
        {
            final long entry = entry(bucket);
            if (entry != 0)
            {
                action.accept((int)entry - 1);
            }
        }
    }

    /** Removes every entry. */
    void clear()
    {
        memory.fill((byte)0);
    }

    /** Twice the buckets, every entry placed again by its hash. */
    void grow()
    {
        final int oldBuckets = mask + 1;
        if (oldBuckets >= MAX_BUCKETS)
        {
            throw new IllegalStateException("flow table index cannot grow past " + oldBuckets + " buckets");
        }
        final MemorySegment old = memory;
        final long oldAddress = address;
        allocate(oldBuckets * 2);
        for (int bucket = 0; bucket < oldBuckets; bucket++)
        {
            final long entry = StateMemory.ALL.get(StateMemory.LONG, oldAddress + (long)bucket * BUCKET_BYTES);
            if (entry != 0)
            {
                insert((int)entry - 1, (int)(entry >>> 32));
            }
        }
        Reference.reachabilityFence(old);
    }

    private void allocate(final int buckets)
    {
        // Arena.ofAuto: the memory lives as long as the index; no thread owns it, so the tracker may be built on one
        // thread and run on another.
        memory = Arena.ofAuto().allocate((long)buckets * BUCKET_BYTES, BUCKET_BYTES);
        address = memory.address();
        mask = buckets - 1;
    }

    private long entry(final int bucket)
    {
        return StateMemory.ALL.get(StateMemory.LONG, address + (long)bucket * BUCKET_BYTES);
    }

    private void entry(final int bucket, final long entry)
    {
        StateMemory.ALL.set(StateMemory.LONG, address + (long)bucket * BUCKET_BYTES, entry);
    }
}
