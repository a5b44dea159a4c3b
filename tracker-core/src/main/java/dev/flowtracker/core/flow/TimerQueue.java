package dev.flowtracker.core.flow;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;

/**
 * A binary min-heap of (instant, slot, serial) entries: each flow's earliest pending timer, by its flow-table slot
 * and the serial of the flow in that slot. Entries go stale when a flow's timers move or the slot changes hands; the
 * tracker skips those when it pops them (the store's {@link FlowStateStore#scheduledTimer} and
 * {@link FlowStateStore#serial} hold the live ones). Off-heap, 16 bytes an entry (an array of instants and one of
 * slot and serial packed in a long), doubling when full, so the heap does not grow with the number of flows and
 * steady state allocates nothing.
 *
 * <p>The arrays are direct {@link LongBuffer}s (freed by the GC with the queue, counted against
 * {@code -XX:MaxDirectMemorySize}) rather than segments of an automatic arena: every access to those checks that
 * the arena is alive, which cost the Zeek lifecycle about a quarter of its time in the engine benchmark; a direct
 * buffer's accesses check bounds only. Single-threaded: owned by the tracker.
 */
final class TimerQueue
{
    private LongBuffer instants;
    /** Slot in the high half, serial in the low half. */
    private LongBuffer ids;
    private int length;
    private int size;

    TimerQueue(final int initialCapacity)
    {
        length = Math.max(16, initialCapacity);
        instants = allocate(length);
        ids = allocate(length);
    }

    int size()
    {
        return size;
    }

    void push(final long instant, final int slot, final int serial)
    {
        if (size == length)
        {
            instants = grow(instants);
            ids = grow(ids);
            length *= 2;
        }
        // Locals: the JIT keeps the buffers in registers across the loop.
        final LongBuffer instants = this.instants;
        final LongBuffer ids = this.ids;
        final long id = ((long)slot << 32) | (serial & 0xFFFF_FFFFL);
        int child = size++;
        while (child > 0)
        {
            final int parent = (child - 1) >>> 1;
            final long parentInstant = instants.get(parent);
            if (parentInstant <= instant)
            {
                break;
            }
            instants.put(child, parentInstant);
            ids.put(child, ids.get(parent));
            child = parent;
        }
        instants.put(child, instant);
        ids.put(child, id);
    }

    /** Instant of the earliest entry; {@link Long#MAX_VALUE} when empty. */
    long peekInstant()
    {
        return size == 0 ? Long.MAX_VALUE : instants.get(0);
    }

    int peekSlot()
    {
        return (int)(ids.get(0) >>> 32);
    }

    int peekSerial()
    {
        return (int)ids.get(0);
    }

    void pop()
    {
        final int last = --size;
        instants.put(0, instants.get(last));
        ids.put(0, ids.get(last));
        if (last > 0)
        {
            siftDown(0);
        }
    }

    /**
     * Drops the stale entries (those whose flow's live timer is elsewhere or gone) and restores heap order in linear
     * time. Stale entries otherwise pile up at the rate flows come and go, not with the number alive.
     */
    void dropStale(final FlowStateStore store)
    {
        dropStale(store, true);
    }

    /**
     * Drops the entries whose slot's serial moved on (the flow ended) and, with {@code checkTimer}, those that are
     * not the flow's scheduled Zeek timer (its timers moved).
     */
    void dropStale(final FlowStateStore store, final boolean checkTimer)
    {
        final LongBuffer instants = this.instants;
        final LongBuffer ids = this.ids;
        int kept = 0;
        for (int i = 0; i < size; i++)
        {
            final long instant = instants.get(i);
            final long id = ids.get(i);
            final int slot = (int)(id >>> 32);
            if (store.serial(slot) == (int)id && (!checkTimer || store.scheduledTimer(slot) == instant))
            {
                instants.put(kept, instant);
                ids.put(kept, id);
                kept++;
            }
        }
        size = kept;
        for (int parent = (size >>> 1) - 1; parent >= 0; parent--)
        {
            siftDown(parent);
        }
    }

    private void siftDown(final int start)
    {
        final LongBuffer instants = this.instants;
        final LongBuffer ids = this.ids;
        final int size = this.size;
        final long instant = instants.get(start);
        final long id = ids.get(start);
        int parent = start;
        while (true)
        {
            int child = 2 * parent + 1;
            if (child >= size)
            {
                break;
            }
            long childInstant = instants.get(child);
            if (child + 1 < size)
            {
                final long rightInstant = instants.get(child + 1);
                if (rightInstant < childInstant)
                {
                    child++;
                    childInstant = rightInstant;
                }
            }
            if (instant <= childInstant)
            {
                break;
            }
            instants.put(parent, childInstant);
            ids.put(parent, ids.get(child));
            parent = child;
        }
        instants.put(parent, instant);
        ids.put(parent, id);
    }

    /** Off-heap bytes of the queue now (it doubles when full); any thread may read it. */
    long offHeapBytes()
    {
        return 2L * length * Long.BYTES;
    }

    void clear()
    {
        size = 0;
    }

    private LongBuffer grow(final LongBuffer old)
    {
        final LongBuffer grown = allocate(length * 2);
        grown.put(0, old, 0, size);
        return grown;
    }

    private static LongBuffer allocate(final int entries)
    {
        if (entries > Integer.MAX_VALUE / Long.BYTES)
        {
            throw new IllegalStateException("timer queue cannot grow past " + entries / 2 + " entries");
        }
        return ByteBuffer.allocateDirect(entries * Long.BYTES).order(ByteOrder.nativeOrder()).asLongBuffer();
    }
}
