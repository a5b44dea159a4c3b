package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;

import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Open-addressing hash table (linear probing, backward-shift deletion) from a 4-tuple, in either direction, to its
 * live {@link TcpConnection}. Lookups allocate nothing. It doubles when three quarters full; bounded, off-heap
 * storage replaces it in the streaming pipeline.
 *
 * <p>Owned by one tracker thread.
 */
final class ConnectionTable
{
    private TcpConnection[] slots;
    private int mask;
    private int size;

    ConnectionTable(final int initialCapacity)
    {
        final int capacity = Integer.highestOneBit(Math.max(16, initialCapacity - 1) << 1);
        slots = new TcpConnection[capacity];
        mask = capacity - 1;
    }

    int size()
    {
        return size;
    }

    TcpConnection find(final DecodedPacket p, final int hash)
    {
        for (int i = hash & mask; ; i = (i + 1) & mask)
        {
            final TcpConnection candidate = slots[i];
            if (candidate == null)
            {
                return null;
            }
            if (candidate.hash == hash && candidate.matches(p))
            {
                return candidate;
            }
        }
    }

    void insert(final TcpConnection connection)
    {
        if ((size + 1) * 4L > slots.length * 3L)
        {
            grow();
        }
        put(connection);
        size++;
    }

    /** Puts {@code replacement} in the slot of {@code existing}, which must be present and have the same hash. */
    void replace(final TcpConnection existing, final TcpConnection replacement)
    {
        for (int i = existing.hash & mask; ; i = (i + 1) & mask)
        {
            if (slots[i] == existing)
            {
                slots[i] = replacement;
                return;
            }
        }
    }

    void remove(final TcpConnection connection)
    {
        int hole = connection.hash & mask;
        while (slots[hole] != connection)
        {
            hole = (hole + 1) & mask;
        }
        // Backward-shift deletion keeps every probe chain unbroken without tombstones.
        for (int i = (hole + 1) & mask; slots[i] != null; i = (i + 1) & mask)
        {
            final int home = slots[i].hash & mask;
            if (((i - home) & mask) >= ((i - hole) & mask))
            {
                slots[hole] = slots[i];
                hole = i;
            }
        }
        slots[hole] = null;
        size--;
    }

    void forEach(final Consumer<TcpConnection> action)
    {
        for (final TcpConnection connection : slots)
        {
            if (connection != null)
            {
                action.accept(connection);
            }
        }
    }

    void clear()
    {
        Arrays.fill(slots, null);
        size = 0;
    }

    private void put(final TcpConnection connection)
    {
        int i = connection.hash & mask;
        while (slots[i] != null)
        {
            i = (i + 1) & mask;
        }
        slots[i] = connection;
    }

    private void grow()
    {
        final TcpConnection[] old = slots;
        slots = new TcpConnection[old.length * 2];
        mask = slots.length - 1;
        for (final TcpConnection connection : old)
        {
            if (connection != null)
            {
                put(connection);
            }
        }
    }
}
