package dev.flowtracker.bench.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The targets against what a run measured. A target is met, missed, or not measured (a tool was missing
 * or failed). Immutable.
 */
record Targets(List<Target> targets)
{
    static final long TARGET_PACKETS = 2_000_000;

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
        return evaluate(results, packets, footprint, flows, TARGET_PACKETS);
    }

    /** @param minPackets the capture size the issue asks for (0: any size, e.g. a scenario of its own). */
    static Targets evaluate(
        final List<Compare.ToolResult> results, final long packets, final Footprint footprint, final long flows,
        final long minPackets)
    {
        final Compare.ToolResult ours = find(results, "tracker");
        final List<Target> targets = new ArrayList<>();
        targets.add(speed(ours, find(results, "tcptrace"), 2,
            "whole-process `analyze` at least 2x faster than tcptrace"));
        targets.add(speed(ours, find(results, "tshark"), 30,
            "whole-process `analyze` at least 30x faster than tshark"));
        final Compare.ToolResult tcpdump = find(results, "tcpdump");
        if (usable(ours) && usable(tcpdump))
        {
            final double share = tcpdump.wall().median() / ours.wall().median();
            targets.add(new Target("at least 50 % of the bare libpcap read loop's packets/s (`tcpdump -w /dev/null`)",
                String.format(Locale.ROOT, "%.1f %% (%,.0f vs. %,.0f packets/s)", 100 * share,
                    packets / ours.wall().median(), packets / tcpdump.wall().median()), share >= 0.5));
        }
        else
        {
            targets.add(new Target("at least 50 % of the bare libpcap read loop's packets/s", "-", null));
        }
        final Compare.ToolResult tshark = find(results, "tshark");
        if (usable(ours) && usable(tshark))
        {
            final double ratio = ours.rssMegabytes().median() / tshark.rssMegabytes().median();
            targets.add(new Target("peak RSS at most a quarter of tshark's on the same file",
                String.format(Locale.ROOT, "%.2f of tshark's (%,.0f MB vs. %,.0f MB)", ratio,
                    ours.rssMegabytes().median(), tshark.rssMegabytes().median()), ratio <= 0.25));
        }
        else
        {
            targets.add(new Target("peak RSS at most a quarter of tshark's", "-", null));
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
        final String goal = String.format(Locale.ROOT, "under 300 bytes of flow state per tracked flow at %,d flows",
            flows);
        if (footprint == null)
        {
            return new Target(goal, "not run (--no-footprint)", null);
        }
        final double large = footprint.bytesPerFlowLarge();
        if (!Double.isNaN(large))
        {
            return new Target(goal, String.format(Locale.ROOT, "%,.0f bytes per flow", large), large < 300);
        }
        final double fallback = footprint.bytesPerFlowFallback();
        final String why = footprint.largeDidNotFit() ? String.format(Locale.ROOT, "does not fit a %d GB heap",
            footprint.heapBytes() >> 30) : "failed";
        if (!Double.isNaN(fallback))
        {
            return new Target(goal, String.format(Locale.ROOT, "%,.0f bytes per flow at %s flows; %,d flows %s",
                fallback, footprint.fallback().get("flows"), flows, why), fallback < 300 ? null : Boolean.FALSE);
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
