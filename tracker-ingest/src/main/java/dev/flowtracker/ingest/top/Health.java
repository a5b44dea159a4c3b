package dev.flowtracker.ingest.top;

import dev.flowtracker.ingest.metrics.TrackerMetric;

/**
 * The tracker's health as its {@code /metrics} tell it, the same sums the live page shows. Immutable.
 *
 * @param packets       packets the sources received ({@code tracker_source_packets_total}, all sources).
 * @param dropped       packets dropped ({@code tracker_packets_dropped_total}, all reasons).
 * @param active        active flows ({@code tracker_flows_active}, all workers).
 * @param capacity      the flow tables' capacity ({@code tracker_flow_table_capacity}, the {@code --max-flows}).
 * @param inputFinished whether a replay's input has ended ({@code tracker_input_finished} is 1).
 */
record Health(double packets, double dropped, double active, double capacity, boolean inputFinished)
{
    /** The health in a Prometheus text exposition; sums of absent metrics are 0. */
    static Health parse(final String exposition)
    {
        return new Health(
            sum(exposition, TrackerMetric.SOURCE_PACKETS.metricName()),
            sum(exposition, TrackerMetric.PACKETS_DROPPED.metricName()),
            sum(exposition, TrackerMetric.FLOWS_ACTIVE.metricName()),
            sum(exposition, TrackerMetric.FLOW_TABLE_CAPACITY.metricName()),
            sum(exposition, TrackerMetric.INPUT_FINISHED.metricName()) == 1);
    }

    /** The sum of every sample of {@code name} (any labels). */
    static double sum(final String exposition, final String name)
    {
        double sum = 0;
        for (final String line : exposition.split("\n"))
        {
            if (line.startsWith(name) && line.length() > name.length())
            {
                final char next = line.charAt(name.length());
                if (next == '{' || next == ' ')
                {
                    final String[] parts = line.substring(line.lastIndexOf('}') + 1).strip().split(" ");
                    try
                    {
                        sum += Double.parseDouble(parts[next == '{' ? 0 : 1].strip());
                    }
                    catch (final NumberFormatException | ArrayIndexOutOfBoundsException e)
                    {
                        // not a sample line of ours: skip it
                    }
                }
            }
        }
        return sum;
    }
}
