package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TrafficCounters;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * A fixed-capacity flow table with no per-flow Java objects: each flow's whole engine state is a fixed-size
 * off-heap record in a {@link FlowStateStore}, read and written in place through a {@link TcpConnection} flyweight;
 * the bookkeeping is allocated once, off-heap. Heap use does not depend on the flows, off-heap use is fixed by the
 * capacity, and a tracker that sees millions of flows allocates nothing for them.
 *
 * <p>Besides the records, two off-heap arrays: a {@link FlowIndex} (at most half full) from a flow's hash to its slot,
 * and one entry per slot holding its links in the idle list of its {@link FlowPhase}, its phase and its last
 * activity time (the flow's hash is read from its record). Each phase's idle list is ordered by last activity
 * (a touched connection moves to the tail), so expiry only looks at list heads and the least recently active
 * connection overall is the oldest of three heads: no scan of the table, ever.
 *
 * <p>Owned by one tracker thread.
 */
final class BoundedFlowTable implements FlowTable
{
    /** Told about every connection the table removes on its own, before its slot is reused. */
    interface RemovalListener
    {
        void onRemoved(TcpConnection connection, FlowRemoval removal, FlowPhase phase);
    }

    private static final int NONE = FlowStateStore.NONE;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    // Slot record layout.
    private static final int PREV_OFFSET = 0;
    private static final int NEXT_OFFSET = 4;
    private static final int PHASE_OFFSET = 8;
    private static final int LAST_ACTIVE_OFFSET = 16;
    static final int SLOT_BYTES = 24;

    private final int capacity;
    private final FlowLimits limits;
    private final RemovalListener removals;
    private final ZeekOptions zeekOptions;
    private final FlowIndex index;
    private final MemorySegment slots;
    private final FlowStateStore store;
    private int size;
    private final int[] head = {NONE, NONE, NONE};
    private final int[] tail = {NONE, NONE, NONE};
    /** Connections in each phase's idle list: single writer, read racily by metrics (see {@link #phaseSize}). */
    private final long[] phaseSizes = new long[FlowPhase.values().length];
    private final int emergencyEnter;
    private final int emergencyLeave;
    private boolean emergency;
    private long emergencyEntries;
    private final long[][] removed = new long[FlowRemoval.values().length][FlowPhase.values().length];

    BoundedFlowTable(final FlowLimits limits, final ZeekOptions zeekOptions, final RemovalListener removals)
    {
        if (!limits.isBounded())
        {
            throw new IllegalArgumentException("a bounded table needs a capacity");
        }
        this.capacity = limits.maxFlows();
        this.limits = limits;
        this.zeekOptions = zeekOptions;
        this.removals = removals;
        if ((long)capacity * 2 > FlowIndex.MAX_BUCKETS)
        {
            throw new IllegalArgumentException("max flows too large for one table: " + capacity);
        }
        // Arena.ofAuto: the memory lives as long as the table; no thread owns it, so the tracker may be built on one
        // thread and run on another.
        final Arena arena = Arena.ofAuto();
        this.index = new FlowIndex(buckets(capacity));
        this.slots = arena.allocate((long)capacity * SLOT_BYTES, 8);
        this.store = new FlowStateStore(capacity, zeekOptions, false);
        this.emergencyEnter =
            (int)Math.min(capacity, Math.max(1, (long)capacity * limits.emergencyEnterPercent() / 100));
        this.emergencyLeave = (int)Math.max(0, (long)capacity * limits.emergencyLeavePercent() / 100);
    }

    int capacity()
    {
        return capacity;
    }

    @Override
    public int size()
    {
        return size;
    }

    @Override
    public boolean inEmergency()
    {
        return emergency;
    }

    /** Times the table entered emergency mode. */
    @Override
    public long emergencyEntries()
    {
        return emergencyEntries;
    }

    @Override
    public long removed(final FlowRemoval removal, final FlowPhase phase)
    {
        return removed[removal.ordinal()][phase.ordinal()];
    }

    @Override
    public FlowStateStore store()
    {
        return store;
    }

    /** Off-heap bytes committed: the bookkeeping (fixed at construction) and the records' chunks used so far. */
    @Override
    public long offHeapBytes()
    {
        return index.byteSize() + slots.byteSize() + store.offHeapBytes();
    }

    /** Off-heap bytes when full. */
    @Override
    public long maxOffHeapBytes()
    {
        return maxOffHeapBytes(capacity);
    }

    /** Off-heap bytes of a full table of {@code capacity} flows: index, bookkeeping and records. */
    static long maxOffHeapBytes(final int capacity)
    {
        return (long)buckets(capacity) * FlowIndex.BUCKET_BYTES + (long)capacity * SLOT_BYTES +
            FlowStateStore.maxOffHeapBytes(capacity);
    }

    /** Index buckets for {@code capacity} flows: a power of two, at most half full. */
    private static int buckets(final int capacity)
    {
        return FlowIndex.bucketsFor((long)capacity * 2);
    }

    @Override
    public TcpConnection find(final DecodedPacket p, final int hash)
    {
        final int slot = index.find(p, hash, store);
        return slot == FlowIndex.NONE ? null : store.bind(slot);
    }

    /**
     * A recycled connection for the packet's 4-tuple, reset and in the table. When the table is full the least
     * recently active connection is removed first and reported as {@link FlowRemoval#CAPACITY}.
     */
    @Override
    public TcpConnection create(final DecodedPacket p, final int hash, final long generation)
    {
        if (size == capacity)
        {
            evictLeastRecentlyActive();
        }
        final int slot = store.acquire();
        final TcpConnection connection = store.bind(slot);
        connection.reset(p, hash, generation, zeekOptions);
        index.insert(slot, hash);
        size++;
        link(connection, FlowPhase.OPENING.ordinal(), p.timestampNanos);
        if (!emergency && size >= emergencyEnter)
        {
            emergency = true;
            emergencyEntries++;
        }
        return connection;
    }

    /**
     * A connection decoded from a checkpoint into a pooled slot and put in the table, in the idle list of its
     * phase as last active at its last packet. Evicts as {@link #create} does when full.
     *
     * @throws IllegalArgumentException when the bytes are not a valid state; the slot goes back to the pool.
     */
    @Override
    public TcpConnection restore(final ByteBuffer encoded)
    {
        if (size == capacity)
        {
            evictLeastRecentlyActive();
        }
        final int slot = store.acquire();
        final TcpConnection connection = store.bind(slot);
        try
        {
            FlowStateCodec.decode(encoded, connection);
        }
        catch (final IllegalArgumentException e)
        {
            size++; // releaseSlot counts it out again
            releaseSlot(slot);
            throw e;
        }
        index.insert(slot, connection.hash());
        size++;
        // A state from an unbounded tracker has no idle stamp: its last packet is the best stand-in.
        link(connection, FlowPhase.of(connection).ordinal(),
            connection.idleSinceNanos() != 0 ? connection.idleSinceNanos() : connection.lastTimestampNanos());
        if (!emergency && size >= emergencyEnter)
        {
            emergency = true;
            emergencyEntries++;
        }
        return connection;
    }

    /**
     * Takes back the slot of a connection that ended with its record emitted but whose 4-tuple continues with a new
     * connection (port reuse): the same slot, a new flow in it reset for the packet.
     */
    @Override
    public TcpConnection recycleForSuccessor(final int slot, final DecodedPacket p, final long generation)
    {
        final int hash = store.hash(slot);
        unlink(slot);
        store.renew(slot);
        final TcpConnection successor = store.bind(slot);
        successor.reset(p, hash, generation, zeekOptions);
        link(successor, FlowPhase.OPENING.ordinal(), p.timestampNanos);
        return successor;
    }

    /** Records activity: the (bound) connection moves to the tail of its phase's idle list. */
    @Override
    public void touch(final TcpConnection connection, final long nowNanos)
    {
        unlink(connection.slot);
        link(connection, FlowPhase.of(connection).ordinal(), nowNanos);
    }

    /** Removes the flow in {@code slot}, whose record has been emitted by the caller. */
    @Override
    public void remove(final int slot)
    {
        unlink(slot);
        index.remove(slot, store.hash(slot));
        releaseSlot(slot);
    }

    /**
     * Removes every connection idle past its phase's timeout at {@code nowNanos} (the emergency timeout while the
     * table is nearly full), oldest first, reporting each.
     */
    @Override
    public void expire(final long nowNanos)
    {
        for (int phase = 0; phase < head.length; phase++)
        {
            while (head[phase] != NONE)
            {
                final int slot = head[phase];
                final FlowPhase flowPhase = FlowPhase.of(phase);
                final long timeout =
                    emergency ? limits.emergencyTimeoutNanos(flowPhase) : limits.timeoutNanos(flowPhase);
                if (nowNanos - lastActive(slot) < timeout)
                {
                    break;
                }
                removeAndReport(slot, emergency ? FlowRemoval.EMERGENCY_TIMEOUT : FlowRemoval.IDLE_TIMEOUT, flowPhase);
            }
        }
    }

    /**
     * Visits each flow for reading ({@link FlowStateStore#view}: the bound flow stays as it was); each object is
     * valid only during its call.
     */
    @Override
    public void forEach(final Consumer<TcpConnection> action)
    {
        for (int phase = 0; phase < head.length; phase++)
        {
            for (int slot = head[phase]; slot != NONE; slot = next(slot))
            {
                action.accept(store.view(slot));
            }
        }
    }

    /** The slot of every flow, in the order {@link #forEach} visits them. */
    @Override
    public void forEachSlot(final IntConsumer action)
    {
        for (int phase = 0; phase < head.length; phase++)
        {
            for (int slot = head[phase]; slot != NONE; slot = next(slot))
            {
                action.accept(slot);
            }
        }
    }

    /** Forgets every connection (their records must have been emitted). */
    @Override
    public void clear()
    {
        for (int phase = 0; phase < head.length; phase++)
        {
            while (head[phase] != NONE)
            {
                final int slot = head[phase];
                unlink(slot);
                index.remove(slot, store.hash(slot));
                releaseSlot(slot);
            }
        }
    }

    private void evictLeastRecentlyActive()
    {
        int victim = NONE;
        int victimPhase = 0;
        for (int phase = 0; phase < head.length; phase++)
        {
            final int candidate = head[phase];
            if (candidate != NONE && (victim == NONE || lastActive(candidate) < lastActive(victim)))
            {
                victim = candidate;
                victimPhase = phase;
            }
        }
        removeAndReport(victim, FlowRemoval.CAPACITY, FlowPhase.of(victimPhase));
    }

    private void removeAndReport(final int slot, final FlowRemoval removal, final FlowPhase phase)
    {
        removed[removal.ordinal()][phase.ordinal()]++;
        unlink(slot);
        index.remove(slot, store.hash(slot));
        // Report before the slot goes back to the store: the listener emits the record from the bound object.
        removals.onRemoved(store.bind(slot), removal, phase);
        releaseSlot(slot);
    }

    private void releaseSlot(final int slot)
    {
        size--;
        store.release(slot);
        if (emergency && size < emergencyLeave)
        {
            emergency = false;
        }
    }

    /** Appends the (bound) connection's slot to the tail of a phase's idle list, stamped with its last activity. */
    private void link(final TcpConnection connection, final int phase, final long nowNanos)
    {
        final int slot = connection.slot;
        connection.idleSinceNanos(nowNanos);
        final long offset = slotOffset(slot);
        slots.set(INT, offset + PHASE_OFFSET, phase);
        slots.set(LONG, offset + LAST_ACTIVE_OFFSET, nowNanos);
        slots.set(INT, offset + NEXT_OFFSET, NONE);
        slots.set(INT, offset + PREV_OFFSET, tail[phase]);
        phaseSizes[phase]++;
        if (tail[phase] == NONE)
        {
            head[phase] = slot;
        }
        else
        {
            setNext(tail[phase], slot);
        }
        tail[phase] = slot;
    }

    private void unlink(final int slot)
    {
        final long offset = slotOffset(slot);
        final int phase = slots.get(INT, offset + PHASE_OFFSET);
        final int prev = slots.get(INT, offset + PREV_OFFSET);
        final int next = slots.get(INT, offset + NEXT_OFFSET);
        phaseSizes[phase]--;
        if (prev == NONE)
        {
            head[phase] = next;
        }
        else
        {
            setNext(prev, next);
        }
        if (next == NONE)
        {
            tail[phase] = prev;
        }
        else
        {
            slots.set(INT, slotOffset(next) + PREV_OFFSET, prev);
        }
    }

    /** Connections now in {@code phase}; any thread may read it (the value may be a moment stale). */
    @Override
    public long phaseSize(final FlowPhase phase)
    {
        return (long)TrafficCounters.LONGS.getOpaque(phaseSizes, phase.ordinal());
    }

    private long lastActive(final int slot)
    {
        return slots.get(LONG, slotOffset(slot) + LAST_ACTIVE_OFFSET);
    }

    private int next(final int slot)
    {
        return slots.get(INT, slotOffset(slot) + NEXT_OFFSET);
    }

    private void setNext(final int slot, final int next)
    {
        slots.set(INT, slotOffset(slot) + NEXT_OFFSET, next);
    }

    private static long slotOffset(final int slot)
    {
        return (long)slot * SLOT_BYTES;
    }
}
