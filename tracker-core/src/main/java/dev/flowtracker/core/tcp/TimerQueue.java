package dev.flowtracker.core.tcp;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A binary min-heap of (instant, slot, serial) entries: each flow's earliest pending timer, by its flow-table slot
 * and the serial of the flow in that slot. Entries go stale when a flow's timers move or the slot changes hands; the
 * tracker skips those when it pops them (the store's {@link FlowStateStore#scheduledTimer} and
 * {@link FlowStateStore#serial} hold the live ones). Off-heap, 16 bytes an entry, doubling when full, so the heap
 * does not grow with the number of flows and steady state allocates nothing. Single-threaded: owned by the tracker.
 */
final class TimerQueue
{
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final int INSTANT_OFFSET = 0;
    private static final int SLOT_OFFSET = 8;
    private static final int SERIAL_OFFSET = 12;
    private static final int ENTRY_BYTES = 16;

    private MemorySegment entries;
    private int length;
    private int size;

    TimerQueue(final int initialCapacity)
    {
        length = Math.max(16, initialCapacity);
        entries = Arena.ofAuto().allocate((long)length * ENTRY_BYTES, 8);
    }

    int size()
    {
        return size;
    }

    void push(final long instant, final int slot, final int serial)
    {
        if (size == length)
        {
            final MemorySegment grown = Arena.ofAuto().allocate((long)length * 2 * ENTRY_BYTES, 8);
            MemorySegment.copy(entries, 0, grown, 0, (long)size * ENTRY_BYTES);
            entries = grown;
            length *= 2;
        }
        int child = size++;
        while (child > 0)
        {
            final int parent = (child - 1) >>> 1;
            if (instant(parent) <= instant)
            {
                break;
            }
            copy(parent, child);
            child = parent;
        }
        set(child, instant, slot, serial);
    }

    /** Instant of the earliest entry; {@link Long#MAX_VALUE} when empty. */
    long peekInstant()
    {
        return size == 0 ? Long.MAX_VALUE : instant(0);
    }

    int peekSlot()
    {
        return entries.get(INT, SLOT_OFFSET);
    }

    int peekSerial()
    {
        return entries.get(INT, SERIAL_OFFSET);
    }

    void pop()
    {
        final int last = --size;
        copy(last, 0);
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
        int kept = 0;
        for (int i = 0; i < size; i++)
        {
            final long base = (long)i * ENTRY_BYTES;
            final int slot = entries.get(INT, base + SLOT_OFFSET);
            if (store.serial(slot) == entries.get(INT, base + SERIAL_OFFSET) &&
                store.scheduledTimer(slot) == entries.get(LONG, base + INSTANT_OFFSET))
            {
                copy(i, kept);
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
        final long base = (long)start * ENTRY_BYTES;
        final long instant = entries.get(LONG, base + INSTANT_OFFSET);
        final int slot = entries.get(INT, base + SLOT_OFFSET);
        final int serial = entries.get(INT, base + SERIAL_OFFSET);
        int parent = start;
        while (true)
        {
            int child = 2 * parent + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && instant(child + 1) < instant(child))
            {
                child++;
            }
            if (instant <= instant(child))
            {
                break;
            }
            copy(child, parent);
            parent = child;
        }
        set(parent, instant, slot, serial);
    }

    /** Off-heap bytes of the queue now (it doubles when full); any thread may read it. */
    long offHeapBytes()
    {
        return entries.byteSize();
    }

    void clear()
    {
        size = 0;
    }

    private long instant(final int i)
    {
        return entries.get(LONG, (long)i * ENTRY_BYTES + INSTANT_OFFSET);
    }

    private void set(final int i, final long instant, final int slot, final int serial)
    {
        final long base = (long)i * ENTRY_BYTES;
        entries.set(LONG, base + INSTANT_OFFSET, instant);
        entries.set(INT, base + SLOT_OFFSET, slot);
        entries.set(INT, base + SERIAL_OFFSET, serial);
    }

    private void copy(final int from, final int to)
    {
        // Slot and serial move together as one long.
        final long source = (long)from * ENTRY_BYTES;
        final long target = (long)to * ENTRY_BYTES;
        entries.set(LONG, target + INSTANT_OFFSET, entries.get(LONG, source + INSTANT_OFFSET));
        entries.set(LONG, target + SLOT_OFFSET, entries.get(LONG, source + SLOT_OFFSET));
    }
}
