package dev.flowtracker.bench.harness;

import dev.flowtracker.bench.capture.SyntheticCapture;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The side-by-side run behind {@code bin/bench compare}: every tool on the same capture, whole processes, several
 * rounds, then our flow-state footprint, the targets, a JFR profile of our run when one is missed, and a dated
 * report written to the results directory and into the README between its markers. {@code bin/bench} installs
 * the peers, builds, and makes the capture first; this class assumes they are there and skips (and says) any tool
 * that is not installed.
 *
 * <pre>
 * usage: Compare --root DIR --capture FILE --label TEXT --jar BENCHMARKS_JAR --out DIR --work DIR
 *                [--rounds N (5)] [--command TEXT] [--readme FILE | --no-readme] [--section NAME]
 *                [--footprint-flows N (10000000)] [--footprint-fallback N (1000000)]
 *                [--rss-flows N (1000000)] [--no-footprint] [--profile always|missed|never]
 *                [--tools tracker,tshark,tcptrace,argus,tcpdump (all)] [--min-packets-target N (2000000)]
 *                [--pipeline]
 * </pre>
 * {@code --section NAME} keeps the report between markers of its own name, so scenarios do not replace each
 * other's sections; {@code --tools} runs only the tools named; {@code --pipeline} adds the in-process pipeline
 * with one worker on the same capture ({@link InProcessPipeline}, JMH). Beside {@code runs.tsv} the results
 * directory gets {@code summary.tsv} (medians per tool) for {@link ConcurrencySummary}.
 * One thread; every measurement is a child process.
 */
public final class Compare
{
    static final String BEGIN = "<!-- bench:compare:begin -->";
    static final String END = "<!-- bench:compare:end -->";
    private static final Pattern CONNECTIONS = Pattern.compile("([0-9,]+) connections");
    private static final int RSS_BASE_FLOWS = 1_000;

    private final Options options;
    private final List<String> loads = new ArrayList<>();
    private final StringBuilder notes = new StringBuilder();

    private Compare(final Options options)
    {
        this.options = options;
    }

    public static void main(final String[] args) throws IOException, InterruptedException
    {
        new Compare(Options.parse(args)).run();
    }

    /** One tool's rounds. */
    record ToolResult(Tool tool, List<TimedProcess.Measurement> runs)
    {
        boolean ok()
        {
            return !runs.isEmpty() && runs.stream().allMatch(TimedProcess.Measurement::ok);
        }

        Stats wall()
        {
            return Stats.of(runs.stream().mapToDouble(TimedProcess.Measurement::wallSeconds).toArray());
        }

        Stats rssMegabytes()
        {
            return Stats.of(runs.stream().mapToDouble(m -> m.maxRssKilobytes() / 1024.0).toArray());
        }

        Stats cpu()
        {
            return Stats.of(runs.stream().mapToDouble(TimedProcess.Measurement::cpuSeconds).toArray());
        }
    }

    private void run() throws IOException, InterruptedException
    {
        Files.createDirectories(options.out);
        Files.createDirectories(options.work);
        final ZonedDateTime started = ZonedDateTime.now(ZoneOffset.UTC);
        final String loadBefore = Machine.loadAverage();
        final long packets = countFrames(options.capture);
        System.out.printf(Locale.ROOT, "compare: %s: %,d packets; load average %s%n", options.capture, packets,
            loadBefore);
        final List<Tool> tools = new ArrayList<>();
        tools.add(Tool.tracker(options.root));
        tools.addAll(Tool.peers());
        if (options.tools != null)
        {
            tools.removeIf(tool ->
            {
                final boolean left = !options.tools.contains(tool.name());
                if (left)
                {
                    notes.append("- ").append(tool.name()).append(" was left out (`--tools`).\n");
                }
                return left;
            });
        }
        final Map<String, String> versions = new LinkedHashMap<>();
        final List<Tool> runnable = new ArrayList<>();
        for (final Tool tool : tools)
        {
            if (tool.installed())
            {
                runnable.add(tool);
                versions.put(tool.name(), Machine.firstLineOf(tool.versionCommand()));
            }
            else
            {
                notes.append("- ").append(tool.name()).append(" is not installed: not run.\n");
            }
        }
        final String trackerFlags = trackerJvmFlags();
        readThrough(options.capture); // into the page cache, unreported: every tool reads it from memory

        final Map<String, List<TimedProcess.Measurement>> runs = new LinkedHashMap<>();
        runnable.forEach(tool -> runs.put(tool.name(), new ArrayList<>()));
        String trackerSummary = "";
        try (PrintWriter tsv = new PrintWriter(Files.newBufferedWriter(options.out.resolve("runs.tsv"))))
        {
            tsv.println("round\ttool\texit\twall_s\tmax_rss_kb\tuser_s\tsys_s\tload1_before");
            for (int round = 0; round < options.rounds; round++)
            {
                loads.add(Machine.loadAverage());
                for (int i = 0; i < runnable.size(); i++)
                {
                    final Tool tool = runnable.get((i + round) % runnable.size()); // rotate: no tool always first
                    final double load = Machine.load1();
                    final Path stderr = options.work.resolve(tool.name() + "-" + round + ".stderr");
                    final TimedProcess.Measurement m = TimedProcess.run(tool.commandFor(options.capture), Map.of(),
                        options.root, stderr);
                    runs.get(tool.name()).add(m);
                    tsv.printf(Locale.ROOT, "%d\t%s\t%d\t%.3f\t%d\t%.2f\t%.2f\t%.2f%n", round, tool.name(),
                        m.exitCode(), m.wallSeconds(), m.maxRssKilobytes(), m.userSeconds(), m.systemSeconds(), load);
                    tsv.flush();
                    System.out.printf(Locale.ROOT, "compare: round %d %-8s %7.3f s %8d KB%s%n", round, tool.name(),
                        m.wallSeconds(), m.maxRssKilobytes(), m.ok() ? "" : " FAILED (exit " + m.exitCode() + "): " +
                            m.stderrTail());
                    if (tool.name().equals("tracker") && m.ok())
                    {
                        trackerSummary = m.stderrTail();
                    }
                }
            }
        }
        loads.add(Machine.loadAverage());
        final List<ToolResult> results = new ArrayList<>();
        for (final Tool tool : runnable)
        {
            results.add(new ToolResult(tool, runs.get(tool.name())));
        }
        final Matcher connections = CONNECTIONS.matcher(trackerSummary);
        final String connectionCount = connections.find() ? connections.group(1) : "?";

        writeSummary(options.out.resolve("summary.tsv"), results, packets, connectionCount);
        final String pipeline = options.pipeline ?
            InProcessPipeline.measure(options.jar, options.capture, options.out, options.root) : null;
        final Footprint footprint = options.footprint ? footprint() : null;
        final Targets targets = Targets.evaluate(results, packets, footprint, options.footprintFlows,
            options.minPacketsTarget, options.section != null && options.section.startsWith("shortconn"));
        String profile = null;
        if (options.profile.equals("always") || (options.profile.equals("missed") && targets.anyMissed()))
        {
            profile = profile();
        }
        final String report = new Report(options, started, packets, connectionCount, loadBefore, loads,
            trackerFlags, versions, results, footprint, targets, profile,
            (pipeline == null ? "" : pipeline + "\n") + notes).markdown();
        Files.writeString(options.out.resolve("report.md"), report);
        if (options.readme != null)
        {
            writeIntoReadme(options.readme, report, options.section);
        }
        System.out.println(report);
    }

    /** The flags the tracker's JVM runs with, as -XX:+PrintCommandLineFlags prints them (on the sample). */
    private String trackerJvmFlags() throws IOException, InterruptedException
    {
        final Path log = options.work.resolve("flags.txt");
        final ProcessBuilder builder = new ProcessBuilder(options.root.resolve("bin/tracker").toString(), "analyze",
            "--quiet", options.root.resolve("samples/sample.pcap").toString())
            .directory(options.root.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("TRACKER_JAVA_OPTS", "-XX:+PrintCommandLineFlags");
        builder.start().waitFor();
        for (final String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1))
        {
            if (line.startsWith("-XX:"))
            {
                return line.trim();
            }
        }
        return "?";
    }

    /** In-process state per flow at the asked size (or the fallback, when it does not fit), and RSS per flow. */
    private Footprint footprint() throws IOException, InterruptedException
    {
        // The flow state is off-heap (the direct-memory limit is given separately): the heap needs little.
        final long heap = Math.max(1L << 30, Math.min(4L << 30, Machine.memAvailableBytes() / 4)) >> 30 << 30;
        final Map<String, String> large = inProcess(options.footprintFlows, heap);
        Map<String, String> fallback = null;
        if (large.containsKey("does_not_fit") || !large.containsKey("bytes_per_flow"))
        {
            fallback = inProcess(options.footprintFallback, heap);
        }
        // Whole process: analyze over N concurrent flows against analyze over a thousand, peak RSS apart.
        final Path many = options.work.resolve("flows-" + options.rssFlows + ".pcap");
        final Path few = options.work.resolve("flows-" + RSS_BASE_FLOWS + ".pcap");
        SyntheticCapture.concurrentFlows(many, options.rssFlows, false, false, 1_000, 1);
        SyntheticCapture.concurrentFlows(few, RSS_BASE_FLOWS, false, false, 1_000, 1);
        final Tool tracker = Tool.tracker(options.root);
        final int rounds = Math.min(3, options.rounds);
        final double[] manyRss = new double[rounds];
        final double[] fewRss = new double[rounds];
        for (int round = 0; round < rounds; round++)
        {
            final TimedProcess.Measurement m = TimedProcess.run(tracker.commandFor(many), Map.of(), options.root,
                options.work.resolve("rss-many-" + round + ".stderr"));
            final TimedProcess.Measurement b = TimedProcess.run(tracker.commandFor(few), Map.of(), options.root,
                options.work.resolve("rss-few-" + round + ".stderr"));
            manyRss[round] = m.ok() ? m.maxRssKilobytes() * 1024.0 : Double.NaN;
            fewRss[round] = b.ok() ? b.maxRssKilobytes() * 1024.0 : Double.NaN;
            System.out.printf(Locale.ROOT, "compare: RSS round %d: %,d flows %,.0f MB, %,d flows %,.0f MB%n", round,
                options.rssFlows, manyRss[round] / 1e6, RSS_BASE_FLOWS, fewRss[round] / 1e6);
        }
        Files.deleteIfExists(many);
        Files.deleteIfExists(few);
        return new Footprint(large, fallback, heap, options.rssFlows, Stats.of(manyRss), Stats.of(fewRss),
            RSS_BASE_FLOWS);
    }

    private Map<String, String> inProcess(final long flows, final long heap) throws IOException, InterruptedException
    {
        final Path log = options.work.resolve("footprint-" + flows + ".txt");
        final List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
            "-Xmx" + (heap >> 30) + "g", "-XX:MaxDirectMemorySize=" + Machine.memAvailableBytes() * 9 / 10,
            "-XX:+UseParallelGC", "--enable-native-access=ALL-UNNAMED", "-cp",
            options.jar.toString(), FlowFootprint.class.getName(), "--flows", Long.toString(flows));
        final int exit = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start()
            .waitFor();
        final Map<String, String> values = new LinkedHashMap<>();
        for (final String line : Files.readAllLines(log, StandardCharsets.ISO_8859_1))
        {
            if (line.startsWith("FlowFootprint: ") && line.contains("="))
            {
                for (final String pair : line.substring("FlowFootprint: ".length()).split(" "))
                {
                    final int eq = pair.indexOf('=');
                    if (eq > 0)
                    {
                        values.put(pair.substring(0, eq), pair.substring(eq + 1));
                    }
                }
            }
        }
        values.put("exit", Integer.toString(exit));
        values.put("command", String.join(" ", command.subList(1, command.size())).replace(options.jar.toString(),
            "tracker-bench/target/benchmarks.jar"));
        System.out.println("compare: footprint " + flows + " flows: " + values);
        return values;
    }

    /** A JFR recording (settings=profile) of our analyze on the capture, summarised. */
    private String profile() throws IOException, InterruptedException
    {
        final Path recording = options.work.resolve("analyze.jfr");
        Files.deleteIfExists(recording);
        final String jfr = "-XX:StartFlightRecording=filename=" + recording + ",settings=profile," +
            "jdk.CPUTimeSample#enabled=true,jdk.CPUTimeSample#throttle=1ms";
        final TimedProcess.Measurement m = TimedProcess.run(Tool.tracker(options.root).commandFor(options.capture),
            Map.of("TRACKER_JAVA_OPTS", jfr), options.root, options.work.resolve("profile.stderr"));
        if (!m.ok() || !Files.exists(recording))
        {
            return "The profiled run failed (exit " + m.exitCode() + "): " + m.stderrTail() + "\n";
        }
        return String.format(Locale.ROOT, "`TRACKER_JAVA_OPTS=%s bin/tracker analyze F` (%.2f s with the recorder" +
            " on), recording kept at `%s`:%n%n", jfr.replace(recording.toString(), "analyze.jfr"), m.wallSeconds(),
            recording.startsWith(options.root) ? options.root.relativize(recording) : recording) +
            JfrHotFrames.read(recording).markdown(6);
    }

    private static long countFrames(final Path capture) throws IOException
    {
        final long[] frames = new long[1];
        CaptureReplay.read(capture, frame -> frames[0]++);
        return frames[0];
    }

    private static void readThrough(final Path file) throws IOException
    {
        final byte[] buffer = new byte[1 << 20];
        try (InputStream in = Files.newInputStream(file))
        {
            while (in.read(buffer) >= 0)
            {
                // page cache
            }
        }
    }

    /** Replaces the README's section between the markers (or appends one) with {@code report}. */
    static void writeIntoReadme(final Path readme, final String report) throws IOException
    {
        writeIntoReadme(readme, report, null);
    }

    /**
     * The same for a named section ({@code <!-- bench:compare:NAME:begin -->}); a named section that is not there
     * yet goes at the end of the README.
     */
    static void writeIntoReadme(final Path readme, final String report, final String section) throws IOException
    {
        final String begin = section == null ? BEGIN : "<!-- bench:compare:" + section + ":begin -->";
        final String end = section == null ? END : "<!-- bench:compare:" + section + ":end -->";
        final String text = Files.readString(readme);
        final int at = text.indexOf(begin);
        final int until = text.indexOf(end);
        final String updated;
        if (at >= 0 && until > at)
        {
            updated = text.substring(0, at + begin.length()) + "\n" + report + text.substring(until);
        }
        else if (section == null)
        {
            updated = text + "\n## Side by side: whole processes on one capture (`bin/bench compare`)\n\n" + begin +
                "\n" + report + end + "\n";
        }
        else
        {
            updated = text + (text.endsWith("\n\n") ? "" : "\n") + begin + "\n" + report + end + "\n";
        }
        Files.writeString(readme, updated);
    }

    /** Medians per tool, one line each: what {@link ConcurrencySummary} reads back. */
    private static void writeSummary(
        final Path file, final List<ToolResult> results, final long packets, final String connections)
        throws IOException
    {
        try (PrintWriter tsv = new PrintWriter(Files.newBufferedWriter(file)))
        {
            tsv.println("tool\tok\tpackets\tconnections\twall_s_median\twall_s_min\twall_s_max\tpackets_per_s" +
                "\tmax_rss_mb_median\tcpu_s_median");
            for (final ToolResult result : results)
            {
                if (!result.ok())
                {
                    tsv.printf(Locale.ROOT, "%s\tfailed\t%d\t%s\t\t\t\t\t\t%n", result.tool().name(), packets,
                        connections.replace(",", ""));
                    continue;
                }
                final Stats wall = result.wall();
                tsv.printf(Locale.ROOT, "%s\tok\t%d\t%s\t%.3f\t%.3f\t%.3f\t%.0f\t%.1f\t%.2f%n", result.tool().name(),
                    packets, connections.replace(",", ""), wall.median(), wall.min(), wall.max(),
                    packets / wall.median(), result.rssMegabytes().median(), result.cpu().median());
            }
        }
    }

    /** Command-line options. */
    record Options(Path root, Path capture, String label, Path jar, Path out, Path work, int rounds, String command,
        Path readme, boolean footprint, long footprintFlows, long footprintFallback, long rssFlows, String profile,
        String section, List<String> tools, long minPacketsTarget, boolean pipeline)
    {
        static Options parse(final String[] args)
        {
            final Map<String, String> values = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++)
            {
                if (args[i].equals("--no-readme") || args[i].equals("--no-footprint") || args[i].equals("--pipeline"))
                {
                    values.put(args[i].substring(2), "true");
                }
                else if (args[i].startsWith("--") && i + 1 < args.length)
                {
                    values.put(args[i].substring(2), args[++i]);
                }
                else
                {
                    throw new IllegalArgumentException("unexpected argument " + args[i]);
                }
            }
            final Path root = Path.of(values.getOrDefault("root", ".")).toAbsolutePath().normalize();
            final String profile = values.getOrDefault("profile", "missed");
            if (!List.of("always", "missed", "never").contains(profile))
            {
                throw new IllegalArgumentException("--profile always|missed|never, was " + profile);
            }
            return new Options(root, Path.of(require(values, "capture")).toAbsolutePath(),
                values.getOrDefault("label", ""), Path.of(require(values, "jar")).toAbsolutePath(),
                Path.of(require(values, "out")).toAbsolutePath(), Path.of(require(values, "work")).toAbsolutePath(),
                Integer.parseInt(values.getOrDefault("rounds", "5")),
                values.getOrDefault("command", "bin/bench compare"),
                values.containsKey("no-readme") ? null :
                    Path.of(values.getOrDefault("readme", root.resolve("tracker-bench/README.md").toString())),
                !values.containsKey("no-footprint"),
                Long.parseLong(values.getOrDefault("footprint-flows", "10000000")),
                Long.parseLong(values.getOrDefault("footprint-fallback", "1000000")),
                Long.parseLong(values.getOrDefault("rss-flows", "1000000")), profile, values.get("section"),
                values.containsKey("tools") ? List.of(values.get("tools").split(",")) : null,
                Long.parseLong(values.getOrDefault("min-packets-target", Long.toString(Targets.TARGET_PACKETS))),
                values.containsKey("pipeline"));
        }

        private static String require(final Map<String, String> values, final String key)
        {
            final String value = values.get(key);
            if (value == null)
            {
                throw new IllegalArgumentException("--" + key + " is required");
            }
            return value;
        }
    }
}
