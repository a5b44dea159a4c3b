package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The unbounded flow table (offline analysis): an open-addressing index (linear probing, backward-shift deletion)
 * from a 4-tuple, in either direction, to the slot of its live flow in a {@link FlowStateStore}, which holds each
 * flow's state off-heap, read and written in place. Lookups allocate nothing. The index doubles when three quarters
 * full and the store adds record chunks as needed; neither holds a Java object per flow. A listener that keeps
 * ended connections gets copies of them.
 *
 * <p>Owned by one tracker thread.
 */
final class ConnectionTable implements FlowTable
{
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;

    private final FlowStateStore store;
    private final ZeekOptions zeekOptions;
    /** Bucket -> slot + 1 (0 = empty). */
    private MemorySegment index;
    private int mask;
    private int size;

    /** @param handOver whether ended flows go to a listener that may keep them (it then gets copies). */
    ConnectionTable(final int initialCapacity, final ZeekOptions zeekOptions, final boolean handOver)
    {
        final int buckets = Integer.highestOneBit(Math.max(16, initialCapacity - 1) << 1);
        this.index = Arena.ofAuto().allocate((long)buckets * Integer.BYTES, 8);
        this.mask = buckets - 1;
        this.zeekOptions = zeekOptions;
        this.store = new FlowStateStore(Integer.MAX_VALUE, zeekOptions, handOver);
    }

    @Override
    public FlowStateStore store()
    {
        return store;
    }

    @Override
    public int size()
    {
        return size;
    }

    /** Off-heap bytes in use: the index and the records' chunks. */
    @Override
    public long offHeapBytes()
    {
        return index.byteSize() + store.offHeapBytes();
    }

    /** The packet's flow, bound in place, or null. */
    @Override
    public TcpConnection find(final DecodedPacket p, final int hash)
    {
        for (int bucket = hash & mask; ; bucket = (bucket + 1) & mask)
        {
            final int slotPlusOne = index.getAtIndex(INT, bucket);
            if (slotPlusOne == 0)
            {
                return null;
            }
            final int slot = slotPlusOne - 1;
            if (store.hash(slot) == hash && store.matches(slot, p))
            {
                return store.bind(slot);
            }
        }
    }

    /** A new flow for the packet's 4-tuple, reset and in the table. */
    @Override
    public TcpConnection create(final DecodedPacket p, final int hash, final long generation)
    {
        final int slot = store.acquire();
        store.hash(slot, hash);
        final TcpConnection connection = store.bind(slot);
        connection.reset(p, hash, generation, zeekOptions);
        insert(slot, hash);
        return connection;
    }

    /**
     * A flow decoded from a checkpoint, put in the table.
     *
     * @throws IllegalArgumentException when the bytes are not a valid state; nothing is added then.
     */
    @Override
    public TcpConnection restore(final ByteBuffer encoded)
    {
        final int slot = store.acquire();
        final TcpConnection connection = store.bind(slot);
        try
        {
            FlowStateCodec.decode(encoded, connection);
        }
        catch (final IllegalArgumentException e)
        {
            store.release(slot);
            throw e;
        }
        store.hash(slot, connection.hash());
        insert(slot, connection.hash());
        return connection;
    }

    /** The slot of an ended flow whose 4-tuple continues with a new one (port reuse): a new flow in the slot. */
    @Override
    public TcpConnection recycleForSuccessor(final int slot, final DecodedPacket p, final long generation)
    {
        store.renew(slot);
        final TcpConnection successor = store.bind(slot);
        successor.reset(p, store.hash(slot), generation, zeekOptions);
        return successor;
    }

    /** Removes the flow in {@code slot}, whose record has been emitted. */
    @Override
    public void remove(final int slot)
    {
        int hole = store.hash(slot) & mask;
        while (index.getAtIndex(INT, hole) != slot + 1)
        {
            hole = (hole + 1) & mask;
        }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        for (int bucket = (hole + 1) & mask; ; bucket = (bucket + 1) & mask)
        {
            final int slotPlusOne = index.getAtIndex(INT, bucket);
            if (slotPlusOne == 0)
            {
                break;
            }
            final int home = store.hash(slotPlusOne - 1) & mask;
            if (((bucket - home) & mask) >= ((bucket - hole) & mask))
            {
                index.setAtIndex(INT, hole, slotPlusOne);
                hole = bucket;
            }
        }
        index.setAtIndex(INT, hole, 0);
        store.release(slot);
        size--;
    }

    /**
     * Visits each flow for reading, in index order ({@link FlowStateStore#view}: the bound flow stays as it was);
     * each object is valid only during its call.
     */
    @Override
    public void forEach(final Consumer<TcpConnection> action)
    {
        forEachSlot(slot -> action.accept(store.view(slot)));
    }

    /** The slot of every flow, in index order. */
    @Override
    public void forEachSlot(final IntConsumer action)
    {
        final int buckets = mask + 1;
        for (int bucket = 0; bucket < buckets; bucket++)
        {
            final int slotPlusOne = index.getAtIndex(INT, bucket);
            if (slotPlusOne != 0)
            {
                action.accept(slotPlusOne - 1);
            }
        }
    }

    /** Forgets every flow (their records must have been emitted). */
    @Override
    public void clear()
    {
        forEachSlot(store::release);
        index.fill((byte)0);
        size = 0;
    }

    /** Nothing to note: flows here have no idle timeout. */
    @Override
    public void touch(final TcpConnection connection, final long nowNanos)
    {
    }

    /** Nothing expires here: flows end by their own lifecycle or at the end of input. */
    @Override
    public void expire(final long nowNanos)
    {
    }

    @Override
    public long maxOffHeapBytes()
    {
        return Long.MAX_VALUE;
    }

    @Override
    public long phaseSize(final FlowPhase phase)
    {
        return 0;
    }

    @Override
    public long removed(final FlowRemoval removal, final FlowPhase phase)
    {
        return 0;
    }

    @Override
    public long emergencyEntries()
    {
        return 0;
    }

    @Override
    public boolean inEmergency()
    {
        return false;
    }

    private void insert(final int slot, final int hash)
    {
        if ((size + 1) * 4L > (mask + 1) * 3L)
        {
            grow();
        }
        put(index, mask, slot, hash);
        size++;
    }

    private static void put(final MemorySegment index, final int mask, final int slot, final int hash)
    {
        int bucket = hash & mask;
        while (index.getAtIndex(INT, bucket) != 0)
        {
            bucket = (bucket + 1) & mask;
        }
        index.setAtIndex(INT, bucket, slot + 1);
    }

    private void grow()
    {
        final MemorySegment old = index;
        final int oldBuckets = mask + 1;
        final int buckets = oldBuckets * 2;
        if (buckets <= 0)
        {
            throw new IllegalStateException("flow table index cannot grow past " + oldBuckets + " buckets");
        }
        index = Arena.ofAuto().allocate((long)buckets * Integer.BYTES, 8);
        mask = buckets - 1;
        for (int bucket = 0; bucket < oldBuckets; bucket++)
        {
            final int slotPlusOne = old.getAtIndex(INT, bucket);
            if (slotPlusOne != 0)
            {
                put(index, mask, slotPlusOne - 1, store.hash(slotPlusOne - 1));
            }
        }
    }
}
