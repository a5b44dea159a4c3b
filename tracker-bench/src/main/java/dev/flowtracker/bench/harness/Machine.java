package dev.flowtracker.bench.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/** What the README says about where a run happened: CPU, cores, memory, kernel, JDK, load. Static helpers. */
final class Machine
{
    private Machine()
    {
    }

    static String describe()
    {
        return String.format(Locale.ROOT, "%s, %d cores (nproc), %.1f GiB RAM, Linux %s", cpuModel(),
            Runtime.getRuntime().availableProcessors(), memTotalKilobytes() / 1024.0 / 1024.0, kernel());
    }

    static String jdk()
    {
        return System.getProperty("java.vm.vendor", "?") + " " + System.getProperty("java.runtime.version", "?") +
            " (" + System.getProperty("java.home") + ")";
    }

    static String loadAverage()
    {
        final String load = firstLine(Path.of("/proc/loadavg"));
        final String[] fields = load.split(" ");
        return fields.length >= 3 ? fields[0] + " " + fields[1] + " " + fields[2] : load;
    }

    /** The 1-minute load average, or NaN. */
    static double load1()
    {
        try
        {
            return Double.parseDouble(loadAverage().split(" ")[0]);
        }
        catch (final NumberFormatException e)
        {
            return Double.NaN;
        }
    }

    static long memAvailableBytes()
    {
        return meminfo("MemAvailable:") * 1024;
    }

    private static long memTotalKilobytes()
    {
        return meminfo("MemTotal:");
    }

    private static long meminfo(final String key)
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/meminfo")))
            {
                if (line.startsWith(key))
                {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        }
        catch (final IOException | NumberFormatException e)
        {
            return -1;
        }
        return -1;
    }

    private static String cpuModel()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/cpuinfo")))
            {
                if (line.startsWith("model name"))
                {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        }
        catch (final IOException e)
        {
            return "?";
        }
        return "?";
    }

    private static String kernel()
    {
        return firstLine(Path.of("/proc/sys/kernel/osrelease"));
    }

    private static String firstLine(final Path file)
    {
        try
        {
            final List<String> lines = Files.readAllLines(file);
            return lines.isEmpty() ? "?" : lines.getFirst().trim();
        }
        catch (final IOException e)
        {
            return "?";
        }
    }

    /** The first line of a command's output (stdout and stderr together), or why there is none. */
    static String firstLineOf(final List<String> command)
    {
        if (command.isEmpty())
        {
            return "";
        }
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            process.waitFor(30, TimeUnit.SECONDS);
            for (final String line : output.split("\n"))
            {
                if (!line.isBlank() && !line.startsWith("Running as user"))
                {
                    return line.trim();
                }
            }
            return "?";
        }
        catch (final IOException e)
        {
            return "not runnable: " + e.getMessage();
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }
}
