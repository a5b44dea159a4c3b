package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/** The finish order against a stable library sort of the same keys, with many ties, for sizes around powers of 2. */
class FinishOrderTest
{
    @Test
    void shouldSortOldestFirstAndKeepTheTablesOrderForTies()
    {
        final SplittableRandom random = new SplittableRandom(7);
        final FinishOrder order = new FinishOrder(); // reused, as a tracker does: a big sort then small ones too
        for (final int n : new int[] {0, 1, 2, 3, 7, 8, 9, 63, 64, 65, 1000, 4097, 65, 3, 0, 9})
        {
            final long[] firstNanos = new long[n];
            final long[] generations = new long[n];
            for (int i = 0; i < n; i++)
            {
                firstNanos[i] = random.nextInt(Math.max(1, n / 4)); // many equal times
                generations[i] = random.nextInt(3);
            }
            final Integer[] expected = new Integer[n];
            Arrays.setAll(expected, i -> i);
            Arrays.sort(expected, Comparator.comparingLong((Integer i) -> firstNanos[i])
                .thenComparingLong(i -> generations[i])); // stable
            order.clear(n / 2); // grows as connections are added
            for (int i = 0; i < n; i++)
            {
                order.add(1000 + i, firstNanos[i], generations[i]);
            }
            final int[] sorted = Arrays.copyOf(order.oldestFirst(), order.size());
            assertArrayEquals(Arrays.stream(expected).mapToInt(Integer::intValue).toArray(), sorted, "n = " + n);
            for (int i = 0; i < n; i++)
            {
                assertEquals(1000 + sorted[i], order.slot(sorted[i]));
            }
        }
    }
}
