package dev.flowtracker.bench.harness;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The in-process pipeline with one worker on the compare capture: {@code PipelineBenchmark.pipeline} with
 * {@code ring=offline} (what {@code analyze} builds), the capture held in memory, a short JMH run (one fork, two
 * 2 s warm-ups, three 2 s measurements). No JVM start-up and, after warm-up, no JIT: the steady-state rate to set
 * beside the whole-process one. Static helper; runs JMH as a child process.
 */
final class InProcessPipeline
{
    private InProcessPipeline()
    {
    }

    /** Runs the benchmark and returns a markdown paragraph with its packets/s (or why there is none). */
    static String measure(final Path jar, final Path capture, final Path out, final Path root)
        throws IOException, InterruptedException
    {
        final Path csv = out.resolve("pipeline-jmh.csv");
        final Path log = out.resolve("pipeline-jmh.txt");
        final List<String> arguments = List.of("PipelineBenchmark.pipeline$", "-p", "capture=" + capture,
            "-p", "ring=offline", "-p", "workers=1", "-f", "1", "-wi", "2", "-w", "2s", "-i", "3", "-r", "2s",
            "-rf", "csv", "-rff", csv.toString());
        final List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
            .toString(), "-jar", jar.toString()));
        command.addAll(arguments);
        final String load = Machine.loadAverage();
        System.out.println("compare: in-process pipeline (JMH), load average " + load + ", log " + log);
        final int exit = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start()
            .waitFor();
        final String shown = "java -jar tracker-bench/target/benchmarks.jar " + String.join(" ", arguments)
            .replace(capture.toString(), "F").replace(csv.toString(), "pipeline-jmh.csv");
        final String[] packets = exit == 0 && Files.exists(csv) ? packetsRow(csv) : null;
        if (packets == null)
        {
            return "In process, one worker (`" + shown + "`): failed (exit " + exit + "); see `" +
                root.relativize(log) + "`.\n";
        }
        return String.format(Locale.ROOT, "In process, one worker, warm (`%s`; load average %s before): **%,.0f ±" +
                " %,.0f packets/s** (3 iterations; `PipelineBenchmark`'s `packets` counter; output in `%s`).%n", shown,
            load, Double.parseDouble(packets[0]), Double.parseDouble(packets[1]),
            out.startsWith(root) ? root.relativize(log) : log);
    }

    /** Score and error of the {@code :packets} secondary result, from JMH's CSV. */
    static String[] packetsRow(final Path csv) throws IOException
    {
        for (final String line : Files.readAllLines(csv, StandardCharsets.UTF_8))
        {
            final String[] fields = line.split(",");
            if (fields.length > 5 && fields[0].replace("\"", "").endsWith(":packets"))
            {
                return new String[] {fields[4].replace("\"", ""), fields[5].replace("\"", "")};
            }
        }
        return null;
    }
}
