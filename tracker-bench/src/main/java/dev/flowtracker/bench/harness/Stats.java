package dev.flowtracker.bench.harness;

import java.util.Arrays;

/**
 * Median, minimum and maximum of a few measurements (rounds of one tool). The median of an even count is the
 * mean of the middle two. Immutable.
 */
public record Stats(double median, double min, double max, int count)
{
    public static Stats of(final double... values)
    {
        if (values.length == 0)
        {
            throw new IllegalArgumentException("no values");
        }
        final double[] sorted = values.clone();
        Arrays.sort(sorted);
        final int n = sorted.length;
        final double median = (n & 1) == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        return new Stats(median, sorted[0], sorted[n - 1], n);
    }

    /** Spread as a share of the median: (max - min) / median. */
    public double relativeSpread()
    {
        return median == 0 ? 0 : (max - min) / median;
    }
}
