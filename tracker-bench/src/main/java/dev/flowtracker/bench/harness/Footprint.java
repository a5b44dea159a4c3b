package dev.flowtracker.bench.harness;

import java.util.Map;

/**
 * Flow state per tracked flow, two ways: in process ({@link FlowFootprint}'s live heap plus off-heap bytes, at the
 * asked size, or at the fallback size when the asked one does not fit), and whole process (peak RSS of
 * {@code analyze} over many concurrent flows less its peak RSS over a few, per flow: state plus the collector's
 * head room and garbage). Immutable.
 *
 * @param large     {@link FlowFootprint}'s values at the asked size ({@code does_not_fit} when it stopped).
 * @param fallback  its values at the fallback size, or null when the asked size was measured.
 */
record Footprint(Map<String, String> large, Map<String, String> fallback, long heapBytes, long rssFlows,
    Stats rssMany, Stats rssFew, long rssBaseFlows)
{
    /** Bytes per flow at the asked size, or NaN when it was not measured. */
    double bytesPerFlowLarge()
    {
        return number(large, "bytes_per_flow");
    }

    double bytesPerFlowFallback()
    {
        return fallback == null ? Double.NaN : number(fallback, "bytes_per_flow");
    }

    boolean largeDidNotFit()
    {
        return large.containsKey("does_not_fit");
    }

    /** Whole-process peak RSS per flow (medians), bytes. */
    double rssPerFlow()
    {
        return (rssMany.median() - rssFew.median()) / (rssFlows - rssBaseFlows);
    }

    static double number(final Map<String, String> values, final String key)
    {
        try
        {
            return values == null || !values.containsKey(key) ? Double.NaN : Double.parseDouble(values.get(key));
        }
        catch (final NumberFormatException e)
        {
            return Double.NaN;
        }
    }
}
