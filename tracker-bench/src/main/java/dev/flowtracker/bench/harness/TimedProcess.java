package dev.flowtracker.bench.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Runs one whole process under GNU time ({@code /usr/bin/time -f}), standard output discarded, standard error
 * kept in a file, and reads back wall time, peak RSS (the largest resident set of the process and its children)
 * and CPU time. GNU time writes its numbers to a file of its own, so the tool's output cannot mix with them.
 */
final class TimedProcess
{
    static final Path GNU_TIME = Path.of("/usr/bin/time");
    private static final String FORMAT = "%e %M %U %S";

    /** One run's numbers; {@code exitCode} is the tool's. */
    record Measurement(int exitCode, double wallSeconds, long maxRssKilobytes, double userSeconds,
        double systemSeconds, String stderrTail)
    {
        boolean ok()
        {
            return exitCode == 0;
        }

        double cpuSeconds()
        {
            return userSeconds + systemSeconds;
        }
    }

    private TimedProcess()
    {
    }

    static Measurement run(
        final List<String> command, final Map<String, String> environment, final Path directory, final Path stderr)
        throws IOException, InterruptedException
    {
        final Path times = Files.createTempFile("bench-time", ".txt");
        try
        {
            final List<String> timed = new ArrayList<>(List.of(GNU_TIME.toString(), "-f", FORMAT, "-o",
                times.toString()));
            timed.addAll(command);
            final ProcessBuilder builder = new ProcessBuilder(timed).directory(directory.toFile())
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            builder.environment().putAll(environment);
            final int exit = builder.start().waitFor();
            return parse(Files.readAllLines(times, StandardCharsets.UTF_8), exit, tail(stderr));
        }
        finally
        {
            Files.deleteIfExists(times);
        }
    }

    /** The last line GNU time wrote holds the numbers (a "Command exited with non-zero status" line may precede). */
    static Measurement parse(final List<String> lines, final int exit, final String stderrTail)
    {
        for (int i = lines.size() - 1; i >= 0; i--)
        {
            final String[] fields = lines.get(i).trim().split("\\s+");
            if (fields.length == 4 && fields[0].matches("[0-9.]+"))
            {
                return new Measurement(exit, Double.parseDouble(fields[0]), Long.parseLong(fields[1]),
                    Double.parseDouble(fields[2]), Double.parseDouble(fields[3]), stderrTail);
            }
        }
        return new Measurement(exit == 0 ? -1 : exit, Double.NaN, -1, Double.NaN, Double.NaN,
            "GNU time wrote no numbers: " + String.join(" | ", lines) + " " + stderrTail);
    }

    private static String tail(final Path file) throws IOException
    {
        if (!Files.exists(file))
        {
            return "";
        }
        final List<String> lines = Files.readAllLines(file, StandardCharsets.ISO_8859_1);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
    }

    static String format(final double value)
    {
        return String.format(Locale.ROOT, "%.3f", value);
    }
}
