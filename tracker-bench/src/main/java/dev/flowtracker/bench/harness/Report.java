package dev.flowtracker.bench.harness;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The dated results section {@code bin/bench compare} writes: setting, table, targets, footprint, profile. */
final class Report
{
    private final Compare.Options options;
    private final ZonedDateTime started;
    private final long packets;
    private final String connections;
    private final String loadBefore;
    private final List<String> loads;
    private final String trackerFlags;
    private final Map<String, String> versions;
    private final List<Compare.ToolResult> results;
    private final Footprint footprint;
    private final Targets targets;
    private final String profile;
    private final String notes;

    Report(
        final Compare.Options options, final ZonedDateTime started, final long packets, final String connections,
        final String loadBefore, final List<String> loads, final String trackerFlags,
        final Map<String, String> versions,
        final List<Compare.ToolResult> results, final Footprint footprint, final Targets targets, final String profile,
        final String notes)
    {
        this.options = options;
        this.started = started;
        this.packets = packets;
        this.connections = connections;
        this.loadBefore = loadBefore;
        this.loads = loads;
        this.trackerFlags = trackerFlags;
        this.versions = versions;
        this.results = results;
        this.footprint = footprint;
        this.targets = targets;
        this.profile = profile;
        this.notes = notes;
    }

    String markdown()
    {
        final StringBuilder out = new StringBuilder();
        out.append("### ").append(started.format(DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm 'UTC'")))
            .append(": `").append(options.command()).append("`\n\n");
        out.append("- Machine: ").append(Machine.describe()).append(". Load average (1, 5, 15 min) before: ")
            .append(loadBefore).append("; at the start of each round and at the end: ")
            .append(String.join("; ", loads)).append(".\n");
        out.append("- JDK: ").append(Machine.jdk()).append(". Our JVM's flags (`bin/tracker`, printed by")
            .append(" `-XX:+PrintCommandLineFlags`): `").append(trackerFlags).append("`.\n");
        out.append("- Versions: ");
        versions.forEach((tool, version) -> out.append(tool).append(" `").append(version.isEmpty() ?
            "this worktree" : version).append("`; "));
        out.setLength(out.length() - 2);
        out.append(".\n");
        out.append(String.format(Locale.ROOT, "- Capture F: `%s`, %s: %,d packets, %,d bytes, %s connections" +
            " (ours).%n", options.capture().getFileName(), options.label(), packets, size(options.capture()),
            connections));
        out.append(String.format(Locale.ROOT, "- %d rounds; each runs every tool once on F (the order rotates by" +
            " one each round), after one unreported read of F into the page cache. Whole processes, start-up" +
            " included; wall time and peak RSS from GNU time (`/usr/bin/time -f \"%%e %%M %%U %%S\"`); packets/s =" +
            " packets / median wall time. Raw numbers: `tracker-bench/results/%s/runs.tsv`.%n%n", options.rounds(),
            options.out().getFileName()));
        table(out);
        out.append("\nTargets (issue 15, on this machine):\n\n| target | measured | |\n| --- | --- | --- |\n");
        for (final Targets.Target target : targets.targets())
        {
            out.append("| ").append(target.goal()).append(" | ").append(target.measured()).append(" | ")
                .append(target.verdict()).append(" |\n");
        }
        if (footprint != null)
        {
            out.append('\n').append(footprintText()).append('\n');
        }
        if (profile != null)
        {
            out.append("\nProfile of our run (JFR):\n\n").append(profile);
        }
        if (!notes.isEmpty())
        {
            out.append('\n').append(notes);
        }
        return out.toString();
    }

    private void table(final StringBuilder out)
    {
        final Compare.ToolResult ours = results.stream().filter(r -> r.tool().name().equals("tracker")).findFirst()
            .orElse(null);
        out.append("| tool | command | wall s, median (min-max) | packets/s | ours faster by | peak RSS MB, median" +
            " (min-max) | RSS / ours | CPU s, median |\n");
        out.append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        for (final Compare.ToolResult result : results)
        {
            out.append("| ").append(result.tool().name()).append(" | `").append(result.tool().shown()).append("` | ");
            if (!result.ok())
            {
                final TimedProcess.Measurement failed = result.runs().stream().filter(m -> !m.ok()).findFirst()
                    .orElse(null);
                out.append("failed (exit ").append(failed == null ? "?" : failed.exitCode()).append(") | | | | | |\n");
                continue;
            }
            final Stats wall = result.wall();
            final Stats rss = result.rssMegabytes();
            final boolean comparable = ours != null && ours.ok();
            out.append(String.format(Locale.ROOT, "%.2f (%.2f-%.2f) | %,.0f | %s | %,.0f (%,.0f-%,.0f) | %s | %.2f |%n",
                wall.median(), wall.min(), wall.max(), packets / wall.median(),
                comparable ? String.format(Locale.ROOT, "%.2fx", wall.median() / ours.wall().median()) : "-",
                rss.median(), rss.min(), rss.max(),
                comparable ? String.format(Locale.ROOT, "%.2f", rss.median() / ours.rssMegabytes().median()) : "-",
                result.cpu().median()));
        }
    }

    private String footprintText()
    {
        final StringBuilder out = new StringBuilder("Flow state per tracked flow (`analyze`'s pipeline, Zeek's" +
            " lifecycle, N concurrent flows that each completed a handshake and stay open):\n\n");
        out.append(inProcessLine(footprint.large()));
        if (footprint.fallback() != null)
        {
            out.append(inProcessLine(footprint.fallback()));
        }
        out.append(String.format(Locale.ROOT, "- Whole process: peak RSS of `bin/tracker analyze` over %,d flows" +
                " (%,.0f MB, median of %d) less over %,d flows (%,.0f MB), per flow: **%,.0f bytes**. This is what" +
                " the process costs, the collector's head room and garbage included, not the state alone.%n",
            footprint.rssFlows(), footprint.rssMany().median() / 1e6, footprint.rssMany().count(),
            footprint.rssBaseFlows(), footprint.rssFew().median() / 1e6, footprint.rssPerFlow()));
        return out.toString();
    }

    private static String inProcessLine(final Map<String, String> values)
    {
        final String command = "`java " + values.getOrDefault("command", "?") + "`";
        if (values.containsKey("does_not_fit"))
        {
            return String.format(Locale.ROOT, "- In process, %s: does not fit: %,.0f bytes of live heap per flow" +
                    " over the first %s flows, so about %.1f GB for all, more than the %.1f GB heap.%n", command,
                Footprint.number(values, "bytes_per_flow_sample"), values.get("sample_flows"),
                Footprint.number(values, "needed_bytes") / 1e9, Footprint.number(values, "max_heap") / 1e9);
        }
        if (!values.containsKey("bytes_per_flow"))
        {
            return "- In process, " + command + ": failed (exit " + values.get("exit") + "); see its log in the" +
                " work directory.\n";
        }
        return String.format(Locale.ROOT, "- In process, %s: %s flows open, live heap %,.0f MB (after full GCs) +" +
                " %,.0f MB off-heap flow tables: **%,.0f bytes per flow**.%n", command, values.get("open"),
            Footprint.number(values, "live_heap_bytes") / 1e6, Footprint.number(values, "off_heap_bytes") / 1e6,
            Footprint.number(values, "bytes_per_flow"));
    }

    private static long size(final Path file)
    {
        try
        {
            return Files.size(file);
        }
        catch (final java.io.IOException e)
        {
            return -1;
        }
    }
}
