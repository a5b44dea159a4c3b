package dev.flowtracker.core.flow;

import java.util.Arrays;

/**
 * The order in which {@link ConnectionTracker#finish} emits the connections still open: oldest first (first packet
 * time, then generation), ties in the table's order. A merge sort over primitive keys read once per connection
 * (sorting boxed slots with a comparator that read each record's keys again for every comparison cost more than the
 * rest of a short capture's end), in arrays kept from one finish to the next: a tracker that ends its connections
 * again and again (a benchmark's passes, a tool's rounds) allocates nothing once they are big enough.
 *
 * <p>Owned by the tracker's thread.
 */
final class FinishOrder
{
    private int[] slots = new int[0];
    private long[] firstNanos = new long[0];
    private long[] generations = new long[0];
    private int[] from = new int[0];
    private int[] to = new int[0];
    private int count;

    /** Forgets what was added; room for {@code expected} connections. */
    void clear(final int expected)
    {
        count = 0;
        if (slots.length < expected)
        {
            grow(expected);
        }
    }

    void add(final int slot, final long firstTimestampNanos, final long generation)
    {
        if (count == slots.length)
        {
            grow(Math.max(16, count * 2));
        }
        slots[count] = slot;
        firstNanos[count] = firstTimestampNanos;
        generations[count] = generation;
        count++;
    }

    int size()
    {
        return count;
    }

    /** The slot added {@code index}-th. */
    int slot(final int index)
    {
        return slots[index];
    }

    /**
     * The indices 0..size()-1 sorted by (first packet time, generation), stable; the first {@link #size} entries of
     * the array are the order, valid until the next call here.
     */
    int[] oldestFirst()
    {
        final int n = count;
        int[] in = from;
        int[] out = to;
        for (int i = 0; i < n; i++)
        {
            in[i] = i;
        }
        for (int width = 1; width < n; width <<= 1)
        {
            for (int low = 0; low < n; low += width << 1)
            {
                final int mid = Math.min(low + width, n);
                final int high = Math.min(low + (width << 1), n);
                int left = low;
                int right = mid;
                for (int k = low; k < high; k++)
                {
                    // Left wins ties: stable.
                    if (left < mid && (right >= high || !before(in[right], in[left])))
                    {
                        out[k] = in[left++];
                    }
                    else
                    {
                        out[k] = in[right++];
                    }
                }
            }
            final int[] swap = in;
            in = out;
            out = swap;
        }
        return in;
    }

    /** Whether index {@code a} sorts strictly before index {@code b}. */
    private boolean before(final int a, final int b)
    {
        return firstNanos[a] < firstNanos[b] || (firstNanos[a] == firstNanos[b] && generations[a] < generations[b]);
    }

    private void grow(final int capacity)
    {
        slots = Arrays.copyOf(slots, capacity);
        firstNanos = Arrays.copyOf(firstNanos, capacity);
        generations = Arrays.copyOf(generations, capacity);
        from = new int[capacity];
        to = new int[capacity];
    }
}
