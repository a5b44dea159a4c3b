package dev.flowtracker.bench.harness;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Sets side by side the compare runs of the same connections at different concurrency (each run's
 * {@code summary.tsv}): packets/s and peak RSS per tool, and each tool's ratio to its first run. Writes the table
 * to {@code --out}/concurrency.md and into the README's named section.
 *
 * <pre>
 * usage: ConcurrencySummary --readme FILE --section NAME --command TEXT --out DIR LABEL=RESULTS_DIR...
 * </pre>
 * One thread, run once.
 */
public final class ConcurrencySummary
{
    private ConcurrencySummary()
    {
    }

    /** One tool's medians in one run. */
    record Row(String tool, boolean ok, long packets, String connections, double wall, double packetsPerSecond,
        double rssMegabytes)
    {
        static Row parse(final String line)
        {
            final String[] f = line.split("\t", -1);
            final boolean ok = f[1].equals("ok");
            return new Row(f[0], ok, Long.parseLong(f[2]), f[3], ok ? Double.parseDouble(f[4]) : Double.NaN,
                ok ? Double.parseDouble(f[7]) : Double.NaN, ok ? Double.parseDouble(f[8]) : Double.NaN);
        }
    }

    public static void main(final String[] args) throws IOException
    {
        Path readme = null;
        String section = "concurrency";
        String command = "";
        Path out = null;
        final Map<String, Path> runs = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--readme" -> readme = Path.of(args[++i]);
                case "--section" -> section = args[++i];
                case "--command" -> command = args[++i];
                case "--out" -> out = Path.of(args[++i]);
                default ->
                {
                    final int eq = args[i].indexOf('=');
                    if (eq < 1)
                    {
                        throw new IllegalArgumentException("expected LABEL=RESULTS_DIR, was " + args[i]);
                    }
                    runs.put(args[i].substring(0, eq), Path.of(args[i].substring(eq + 1)));
                }
            }
        }
        final Map<String, List<Row>> rows = new LinkedHashMap<>();
        for (final Map.Entry<String, Path> run : runs.entrySet())
        {
            final List<Row> parsed = new ArrayList<>();
            final List<String> lines = Files.readAllLines(run.getValue().resolve("summary.tsv"));
            lines.subList(1, lines.size()).forEach(line -> parsed.add(Row.parse(line)));
            rows.put(run.getKey(), parsed);
        }
        final String markdown = markdown(command, rows, runs);
        if (out != null)
        {
            Files.createDirectories(out);
            Files.writeString(out.resolve("concurrency.md"), markdown);
        }
        if (readme != null)
        {
            Compare.writeIntoReadme(readme, markdown, section);
        }
        System.out.println(markdown);
    }

    static String markdown(final String command, final Map<String, List<Row>> rows, final Map<String, Path> runs)
    {
        final StringBuilder out = new StringBuilder();
        out.append("### ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern(
            "yyyy-MM-dd HH:mm 'UTC'"))).append(": `").append(command).append("`, side by side\n\n");
        out.append("The same connections at each concurrency (medians of each run above; raw numbers in ");
        runs.values().forEach(dir -> out.append('`').append(dir.getFileName()).append("` "));
        out.setLength(out.length() - 1);
        out.append("). Ratios are to the first row of the same tool.\n\n");
        out.append("| open at once | tool | packets | wall s | packets/s | packets/s ratio | peak RSS MB |" +
            " RSS ratio |\n");
        out.append("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
        final Map<String, Row> first = new LinkedHashMap<>();
        final List<String> tools = new ArrayList<>();
        rows.values().forEach(list -> list.forEach(row ->
        {
            if (!tools.contains(row.tool()))
            {
                tools.add(row.tool());
            }
        }));
        for (final String tool : tools)
        {
            for (final Map.Entry<String, List<Row>> run : rows.entrySet())
            {
                final Row row = run.getValue().stream().filter(r -> r.tool().equals(tool)).findFirst().orElse(null);
                if (row == null)
                {
                    out.append("| ").append(run.getKey()).append(" | ").append(tool).append(" | not run | | | | | |\n");
                    continue;
                }
                if (!row.ok())
                {
                    out.append("| ").append(run.getKey()).append(" | ").append(tool).append(" | failed | | | | | |\n");
                    continue;
                }
                final Row base = first.computeIfAbsent(tool, t -> row);
                out.append(String.format(Locale.ROOT, "| %s | %s | %,d | %.2f | %,.0f | %.2f | %,.0f | %.2f |%n",
                    run.getKey(), tool, row.packets(), row.wall(), row.packetsPerSecond(),
                    row.packetsPerSecond() / base.packetsPerSecond(), row.rssMegabytes(),
                    row.rssMegabytes() / base.rssMegabytes()));
            }
        }
        return out.toString();
    }
}
