package dev.flowtracker.bench.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Issue 15's targets against what a run measured. A target is met, missed, or not measured (a tool was missing
 * or failed). Immutable.
 */
record Targets(List<Target> targets)
{
    static final long TARGET_PACKETS = 2_000_000;
    static final int MAX_RSS_MEGABYTES = 400;
    static final int MAX_BYTES_PER_FLOW = 384;

    /** One target: what it asks, what was measured, and whether it holds (null: not measured). */
    record Target(String goal, String measured, Boolean met)
    {
        String verdict()
        {
            return met == null ? "not measured" : met ? "met" : "**missed**";
        }
    }

    boolean anyMissed()
    {
        return targets.stream().anyMatch(t -> Boolean.FALSE.equals(t.met()));
    }

    static Targets evaluate(
        final List<Compare.ToolResult> results, final long packets, final Footprint footprint, final long flows)
    {
        return evaluate(results, packets, footprint, flows, TARGET_PACKETS, false);
    }

    /**
     * Issue 15's targets. On short connections ({@code shortConnections}: the {@code shortconn} scenario's capture):
     * at least 4x tcptrace and 10x tshark. On a capture of real traffic (the default): at least 2x tcptrace and
     * faster than argus. On both: peak RSS at most 400 MB and at most 384 bytes of flow state per flow.
     *
     * @param minPackets the capture size the issue asks for (0: any size, e.g. a scenario of its own).
     */
    static Targets evaluate(
        final List<Compare.ToolResult> results, final long packets, final Footprint footprint, final long flows,
        final long minPackets, final boolean shortConnections)
    {
        final Compare.ToolResult ours = find(results, "tracker");
        final List<Target> targets = new ArrayList<>();
        if (shortConnections)
        {
            targets.add(speed(ours, find(results, "tcptrace"), 4,
                "whole-process `analyze` at least 4x faster than tcptrace"));
            targets.add(speed(ours, find(results, "tshark"), 10,
                "whole-process `analyze` at least 10x faster than tshark"));
        }
        else
        {
            targets.add(speed(ours, find(results, "tcptrace"), 2,
                "whole-process `analyze` at least 2x faster than tcptrace"));
            targets.add(speed(ours, find(results, "argus"), Math.nextUp(1.0),
                "whole-process `analyze` faster than argus"));
        }
        if (usable(ours))
        {
            final double rss = ours.rssMegabytes().median();
            targets.add(new Target("peak RSS of `analyze` at most " + MAX_RSS_MEGABYTES + " MB",
                String.format(Locale.ROOT, "%,.0f MB", rss), rss <= MAX_RSS_MEGABYTES));
        }
        else
        {
            targets.add(new Target("peak RSS of `analyze` at most " + MAX_RSS_MEGABYTES + " MB", "-", null));
        }
        targets.add(state(footprint, flows));
        if (packets < minPackets)
        {
            targets.add(new Target(String.format(Locale.ROOT, "a capture of %,d+ packets", minPackets),
                String.format(Locale.ROOT, "%,d packets", packets), false));
        }
        return new Targets(targets);
    }

    private static Target state(final Footprint footprint, final long flows)
    {
        final String goal = String.format(Locale.ROOT,
            "at most %d bytes of flow state per tracked flow at %,d flows", MAX_BYTES_PER_FLOW, flows);
        if (footprint == null)
        {
            return new Target(goal, "not run (--no-footprint)", null);
        }
        final double large = footprint.bytesPerFlowLarge();
        if (!Double.isNaN(large))
        {
            return new Target(goal, String.format(Locale.ROOT, "%,.0f bytes per flow", large),
                large <= MAX_BYTES_PER_FLOW);
        }
        final double fallback = footprint.bytesPerFlowFallback();
        final String why = footprint.largeDidNotFit() ? String.format(Locale.ROOT, "does not fit a %d GB heap",
            footprint.heapBytes() >> 30) : "failed";
        if (!Double.isNaN(fallback))
        {
            return new Target(goal, String.format(Locale.ROOT, "%,.0f bytes per flow at %s flows; %,d flows %s",
                fallback, footprint.fallback().get("flows"), flows, why),
                fallback <= MAX_BYTES_PER_FLOW ? null : Boolean.FALSE);
        }
        return new Target(goal, why, null);
    }

    private static Target speed(
        final Compare.ToolResult ours, final Compare.ToolResult peer, final double factor, final String goal)
    {
        if (!usable(ours) || !usable(peer))
        {
            return new Target(goal, "-", null);
        }
        final double ratio = peer.wall().median() / ours.wall().median();
        return new Target(goal, String.format(Locale.ROOT, "%.2fx (%.2f s vs. %.2f s)", ratio, ours.wall().median(),
            peer.wall().median()), ratio >= factor);
    }

    private static boolean usable(final Compare.ToolResult result)
    {
        return result != null && result.ok();
    }

    private static Compare.ToolResult find(final List<Compare.ToolResult> results, final String name)
    {
        return results.stream().filter(r -> r.tool().name().equals(name)).findFirst().orElse(null);
    }
}
