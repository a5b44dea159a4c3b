package dev.flowtracker.core.tcp;

/**
 * The order in which {@link ConnectionTracker#finish} emits the connections still open: oldest first (first packet
 * time, then generation), ties in the table's order. A merge sort over primitive keys read once per connection
 * (sorting boxed slots with a comparator that read each record's keys again for every comparison cost more than the
 * rest of a short capture's end). Stateless.
 */
final class FinishOrder
{
    private FinishOrder()
    {
    }

    /** The indices 0..n-1 sorted by ({@code firstNanos}, {@code generations}), stable. */
    static int[] oldestFirst(final long[] firstNanos, final long[] generations, final int n)
    {
        int[] from = new int[n];
        int[] to = new int[n];
        for (int i = 0; i < n; i++)
        {
            from[i] = i;
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
                    if (left < mid && (right >= high || !before(firstNanos, generations, from[right], from[left])))
                    {
                        to[k] = from[left++];
                    }
                    else
                    {
                        to[k] = from[right++];
                    }
                }
            }
            final int[] swap = from;
            from = to;
            to = swap;
        }
        return from;
    }

    /** Whether index {@code a} sorts strictly before index {@code b}. */
    private static boolean before(final long[] firstNanos, final long[] generations, final int a, final int b)
    {
        return firstNanos[a] < firstNanos[b] || (firstNanos[a] == firstNanos[b] && generations[a] < generations[b]);
    }
}
