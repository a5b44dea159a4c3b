package dev.flowtracker.core.tcp;

import java.util.Arrays;

/**
 * A binary min-heap of (instant, connection) entries: each connection's earliest pending timer. Entries go stale
 * when a connection's timers move; the tracker skips those when it pops them ({@link
 * TcpConnection#scheduledTimerNanos} holds the live one). Arrays grow by doubling, so steady state allocates
 * nothing. Single-threaded: owned by the tracker.
 */
final class TimerQueue
{
    private long[] instants;
    private TcpConnection[] connections;
    private int size;

    TimerQueue(final int initialCapacity)
    {
        instants = new long[Math.max(16, initialCapacity)];
        connections = new TcpConnection[instants.length];
    }

    int size()
    {
        return size;
    }

    void push(final long instant, final TcpConnection connection)
    {
        if (size == instants.length)
        {
            instants = Arrays.copyOf(instants, size * 2);
            connections = Arrays.copyOf(connections, size * 2);
        }
        int child = size++;
        while (child > 0)
        {
            final int parent = (child - 1) >>> 1;
            if (instants[parent] <= instant)
            {
                break;
            }
            instants[child] = instants[parent];
            connections[child] = connections[parent];
            child = parent;
        }
        instants[child] = instant;
        connections[child] = connection;
    }

    /** Instant of the earliest entry; {@link Long#MAX_VALUE} when empty. */
    long peekInstant()
    {
        return size == 0 ? Long.MAX_VALUE : instants[0];
    }

    TcpConnection peekConnection()
    {
        return connections[0];
    }

    void pop()
    {
        final int last = --size;
        instants[0] = instants[last];
        connections[0] = connections[last];
        connections[last] = null;
        if (last > 0)
        {
            siftDown(0);
        }
    }

    /**
     * Drops the stale entries (those whose connection's live timer is elsewhere or gone) and restores heap order in
     * linear time. Stale entries otherwise pile up at the rate connections come and go, not with the number alive.
     */
    void dropStale()
    {
        int kept = 0;
        for (int i = 0; i < size; i++)
        {
            if (connections[i].scheduledTimerNanos == instants[i])
            {
                instants[kept] = instants[i];
                connections[kept] = connections[i];
                kept++;
            }
        }
        Arrays.fill(connections, kept, size, null);
        size = kept;
        for (int parent = (size >>> 1) - 1; parent >= 0; parent--)
        {
            siftDown(parent);
        }
    }

    private void siftDown(final int start)
    {
        final long instant = instants[start];
        final TcpConnection connection = connections[start];
        int parent = start;
        while (true)
        {
            int child = 2 * parent + 1;
            if (child >= size)
            {
                break;
            }
            if (child + 1 < size && instants[child + 1] < instants[child])
            {
                child++;
            }
            if (instant <= instants[child])
            {
                break;
            }
            instants[parent] = instants[child];
            connections[parent] = connections[child];
            parent = child;
        }
        instants[parent] = instant;
        connections[parent] = connection;
    }

    void clear()
    {
        Arrays.fill(connections, 0, size, null);
        size = 0;
    }
}
