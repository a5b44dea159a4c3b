package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * The unbounded flow table (offline analysis): a {@link FlowIndex} from a 4-tuple, in either direction, to the slot
 * of its live flow in a {@link FlowStateStore}, which holds each flow's state off-heap, read and written in place.
 * Lookups allocate nothing. The index doubles when three quarters
 * full and the store adds record chunks as needed; neither holds a Java object per flow. A listener that keeps
 * ended connections gets copies of them.
 *
 * <p>Owned by one tracker thread.
 */
final class ConnectionTable implements FlowTable
{
    private final FlowStateStore store;
    private final ZeekOptions zeekOptions;
    private final FlowIndex index;
    private int size;

    /** @param handOver whether ended flows go to a listener that may keep them (it then gets copies). */
    ConnectionTable(final int initialCapacity, final ZeekOptions zeekOptions, final boolean handOver)
    {
        this.index = new FlowIndex(FlowIndex.bucketsFor(initialCapacity));
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
        final int slot = index.find(p, hash, store);
        return slot == FlowIndex.NONE ? null : store.bind(slot);
    }

    /** A new flow for the packet's 4-tuple, reset and in the table. */
    @Override
    public TcpConnection create(final DecodedPacket p, final int hash, final long generation)
    {
        final int slot = store.acquire();
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
        index.remove(slot, store.hash(slot));
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
        index.forEachSlot(action);
    }

    /** Forgets every flow (their records must have been emitted). */
    @Override
    public void clear()
    {
        forEachSlot(store::release);
        index.clear();
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
        if ((size + 1) * 4L > index.buckets() * 3L)
        {
            index.grow();
        }
        index.insert(slot, hash);
        size++;
    }
}
