package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.function.Consumer;

/**
 * A fixed-capacity flow table: memory for its bookkeeping is allocated once, off-heap, and connection objects are
 * pooled per slot and recycled, so a tracker that sees millions of flows allocates nothing once the pool is full.
 *
 * <p>Two off-heap arrays: an open-addressing index (linear probing, backward-shift deletion, at most half full)
 * of slot numbers, and one record per slot holding the connection's hash, its links in the idle list of its
 * {@link FlowPhase}, its phase and its last activity time. Each phase's idle list is ordered by last activity
 * (a touched connection moves to the tail), so expiry only looks at list heads and the least recently active
 * connection overall is the oldest of three heads: no scan of the table, ever.
 *
 * <p>Owned by one tracker thread.
 */
final class BoundedFlowTable
{
    /** Told about every connection the table removes on its own, before its slot is reused. */
    interface RemovalListener
    {
        void onRemoved(TcpConnection connection, FlowRemoval removal, FlowPhase phase);
    }

    private static final int NONE = -1;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    // Slot record layout.
    private static final int HASH_OFFSET = 0;
    private static final int PREV_OFFSET = 4;
    private static final int NEXT_OFFSET = 8;
    private static final int PHASE_OFFSET = 12;
    private static final int LAST_ACTIVE_OFFSET = 16;
    static final int SLOT_BYTES = 24;

    private final int capacity;
    private final FlowLimits limits;
    private final RemovalListener removals;
    private final ZeekOptions zeekOptions;
    /** Index bucket -> slot + 1 (0 = empty). */
    private final MemorySegment index;
    private final int indexMask;
    private final MemorySegment slots;
    private final TcpConnection[] connections;
    /** Slots ever handed out; slots below it are either live or on the free list. */
    private int created;
    private int freeHead = NONE;
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
        final long buckets = Long.highestOneBit(Math.max(16L, (long)capacity * 2 - 1) << 1);
        if (buckets > (1L << 30))
        {
            throw new IllegalArgumentException("max flows too large for one table: " + capacity);
        }
        // Arena.ofAuto: the memory lives as long as the table; no thread owns it, so the tracker may be built on one
        // thread and run on another.
        final Arena arena = Arena.ofAuto();
        this.index = arena.allocate(buckets * Integer.BYTES, 8);
        this.indexMask = (int)buckets - 1;
        this.slots = arena.allocate((long)capacity * SLOT_BYTES, 8);
        this.connections = new TcpConnection[capacity];
        this.emergencyEnter = (int)Math.min(capacity, Math.max(1, (long)capacity * limits.emergencyEnterPercent() / 100));
        this.emergencyLeave = (int)Math.max(0, (long)capacity * limits.emergencyLeavePercent() / 100);
    }

    int capacity()
    {
        return capacity;
    }

    int size()
    {
        return size;
    }

    boolean inEmergency()
    {
        return emergency;
    }

    /** Times the table entered emergency mode. */
    long emergencyEntries()
    {
        return emergencyEntries;
    }

    long removed(final FlowRemoval removal, final FlowPhase phase)
    {
        return removed[removal.ordinal()][phase.ordinal()];
    }

    /** Bytes of off-heap bookkeeping, fixed at construction. */
    long offHeapBytes()
    {
        return index.byteSize() + slots.byteSize();
    }

    TcpConnection find(final DecodedPacket p, final int hash)
    {
        for (int bucket = hash & indexMask; ; bucket = (bucket + 1) & indexMask)
        {
            final int slotPlusOne = index.getAtIndex(INT, bucket);
            if (slotPlusOne == 0)
            {
                return null;
            }
            final int slot = slotPlusOne - 1;
            if (slotHash(slot) == hash && connections[slot].matches(p))
            {
                return connections[slot];
            }
        }
    }

    /**
     * A recycled connection for the packet's 4-tuple, reset and in the table. When the table is full the least
     * recently active connection is removed first and reported as {@link FlowRemoval#CAPACITY}.
     */
    TcpConnection create(final DecodedPacket p, final int hash, final long generation)
    {
        if (size == capacity)
        {
            evictLeastRecentlyActive();
        }
        final int slot = acquireSlot();
        final TcpConnection connection = connections[slot];
        connection.reset(p, hash, generation, zeekOptions);
        connection.slot = slot;
        slots.set(INT, slotOffset(slot) + HASH_OFFSET, hash);
        insertIntoIndex(slot, hash);
        size++;
        link(slot, FlowPhase.OPENING.ordinal(), p.timestampNanos);
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
    TcpConnection restore(final ByteBuffer encoded)
    {
        if (size == capacity)
        {
            evictLeastRecentlyActive();
        }
        final int slot = acquireSlot();
        final TcpConnection connection = connections[slot];
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
        connection.slot = slot;
        slots.set(INT, slotOffset(slot) + HASH_OFFSET, connection.hash);
        insertIntoIndex(slot, connection.hash);
        size++;
        // A state from an unbounded tracker has no idle stamp: its last packet is the best stand-in.
        link(slot, FlowPhase.of(connection).ordinal(),
            connection.idleSinceNanos != 0 ? connection.idleSinceNanos : connection.lastTimestampNanos);
        if (!emergency && size >= emergencyEnter)
        {
            emergency = true;
            emergencyEntries++;
        }
        return connection;
    }

    /**
     * Takes back a connection that ended with its record emitted but whose 4-tuple continues with a new
     * connection (port reuse): the same slot and object, reset for the packet.
     */
    TcpConnection recycleForSuccessor(final TcpConnection ended, final DecodedPacket p, final long generation)
    {
        final int slot = ended.slot;
        final int hash = ended.hash;
        unlink(slot);
        ended.reset(p, hash, generation, zeekOptions);
        ended.slot = slot;
        link(slot, FlowPhase.OPENING.ordinal(), p.timestampNanos);
        return ended;
    }

    /** Records activity: the connection moves to the tail of its phase's idle list. */
    void touch(final TcpConnection connection, final long nowNanos)
    {
        final int slot = connection.slot;
        unlink(slot);
        link(slot, FlowPhase.of(connection).ordinal(), nowNanos);
    }

    /** Removes a connection whose record has been (or is about to be) emitted by the caller. */
    void remove(final TcpConnection connection)
    {
        final int slot = connection.slot;
        unlink(slot);
        removeFromIndex(slot);
        releaseSlot(slot);
    }

    /**
     * Removes every connection idle past its phase's timeout at {@code nowNanos} (the emergency timeout while the
     * table is nearly full), oldest first, reporting each.
     */
    void expire(final long nowNanos)
    {
        for (int phase = 0; phase < head.length; phase++)
        {
            while (head[phase] != NONE)
            {
                final int slot = head[phase];
                final FlowPhase flowPhase = FlowPhase.of(phase);
                final long timeout = emergency ? limits.emergencyTimeoutNanos(flowPhase) : limits.timeoutNanos(flowPhase);
                if (nowNanos - lastActive(slot) < timeout)
                {
                    break;
                }
                removeAndReport(slot, emergency ? FlowRemoval.EMERGENCY_TIMEOUT : FlowRemoval.IDLE_TIMEOUT, flowPhase);
            }
        }
    }

    void forEach(final Consumer<TcpConnection> action)
    {
        for (int phase = 0; phase < head.length; phase++)
        {
            for (int slot = head[phase]; slot != NONE; slot = next(slot))
            {
                action.accept(connections[slot]);
            }
        }
    }

    /** Forgets every connection (their records must have been emitted). */
    void clear()
    {
        for (int phase = 0; phase < head.length; phase++)
        {
            while (head[phase] != NONE)
            {
                final int slot = head[phase];
                unlink(slot);
                removeFromIndex(slot);
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
        final TcpConnection connection = connections[slot];
        removed[removal.ordinal()][phase.ordinal()]++;
        unlink(slot);
        removeFromIndex(slot);
        // Report before the slot goes back to the pool: the listener emits the record from this object.
        removals.onRemoved(connection, removal, phase);
        releaseSlot(slot);
    }

    private int acquireSlot()
    {
        if (freeHead != NONE)
        {
            final int slot = freeHead;
            freeHead = next(slot);
            return slot;
        }
        final int slot = created++;
        connections[slot] = new TcpConnection(); // the pool fills once, up to capacity
        return slot;
    }

    private void releaseSlot(final int slot)
    {
        size--;
        connections[slot].slot = NONE;
        setNext(slot, freeHead);
        freeHead = slot;
        if (emergency && size < emergencyLeave)
        {
            emergency = false;
        }
    }

    private void insertIntoIndex(final int slot, final int hash)
    {
        int bucket = hash & indexMask;
        while (index.getAtIndex(INT, bucket) != 0)
        {
            bucket = (bucket + 1) & indexMask;
        }
        index.setAtIndex(INT, bucket, slot + 1);
    }

    private void removeFromIndex(final int slot)
    {
        int hole = slotHash(slot) & indexMask;
        while (index.getAtIndex(INT, hole) != slot + 1)
        {
            hole = (hole + 1) & indexMask;
        }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        for (int bucket = (hole + 1) & indexMask; ; bucket = (bucket + 1) & indexMask)
        {
            final int slotPlusOne = index.getAtIndex(INT, bucket);
            if (slotPlusOne == 0)
            {
                break;
            }
            final int home = slotHash(slotPlusOne - 1) & indexMask;
            if (((bucket - home) & indexMask) >= ((bucket - hole) & indexMask))
            {
                index.setAtIndex(INT, hole, slotPlusOne);
                hole = bucket;
            }
        }
        index.setAtIndex(INT, hole, 0);
    }

    /** Appends the slot to the tail of a phase's idle list, stamped with its last activity. */
    private void link(final int slot, final int phase, final long nowNanos)
    {
        connections[slot].idleSinceNanos = nowNanos;
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
    long phaseSize(final FlowPhase phase)
    {
        return (long)TrafficCounters.LONGS.getOpaque(phaseSizes, phase.ordinal());
    }

    private int slotHash(final int slot)
    {
        return slots.get(INT, slotOffset(slot) + HASH_OFFSET);
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
