package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.ingest.checkpoint.CheckpointStore;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * bin/tracker's default {@code -Xmx} and {@code -XX:MaxDirectMemorySize} for {@code run} (bin/lib/memory.sh, issue
 * 19): read from the launcher itself ({@code TRACKER_DRY_RUN=1}, which prints its JVM options and neither builds nor
 * starts anything), checked against what the daemon computes it needs from the same options, which it refuses to start
 * without. Given bounds win; {@code analyze} keeps its young-generation cap and no heap bound.
 */
class RunMemoryDefaultsTest
{
    private static final Path LAUNCHER = Path.of("../bin/tracker");
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final long MIB = 1L << 20;

    @ParameterizedTest(name = "--max-flows {0} --workers {1} {2}")
    @CsvSource({
        "1000, 1, ''",
        "100000, 3, ''",
        "1000000, 1, ''",
        "1000000, 8, ''",
        "1000000, 3, --state-dir",
        "10000000, 8, ''",
        "10000000, 8, --state-dir",
        "50000000, 16, --record-buffer 1g"})
    void shouldBoundHeapAndDirectMemoryByWhatTheDaemonNeedsForItsOptions(
        final int maxFlows, final int workers, final String extra) throws Exception
    {
        final List<String> args = new ArrayList<>(List.of("run", "--pcap", SAMPLE.toString(), "--max-flows",
            Integer.toString(maxFlows), "--workers", Integer.toString(workers)));
        if (extra.equals("--state-dir"))
        {
            args.addAll(List.of(extra, "/nonexistent/state"));
        }
        else if (!extra.isEmpty())
        {
            args.addAll(List.of(extra.split(" ")));
        }
        final List<String> jvm = dryRun(Map.of(), args);
        final long heap = mebibytes(jvm, "-Xmx");
        final long direct = mebibytes(jvm, "-XX:MaxDirectMemorySize=");

        final RunOptions options = RunOptions.parse(args.subList(1, args.size()).toArray(String[]::new));
        final long heapNeeded = RunCommand.heapNeeded(options.ringSize, options.workers, options.limits(),
            options.recordBufferBytes, options.stateDir != null);
        final long directNeeded = RunCommand.offHeapNeeded(options.limits(), options.workers);
        // Enough for the daemon's own check, with room for the collector, and not much more than that.
        assertTrue(heap >= heapNeeded * 5 / 4 && heap <= heapNeeded * 5 / 4 + MIB,
            "-Xmx" + heap + " for a need of " + heapNeeded + " bytes: " + jvm);
        assertTrue(direct >= directNeeded && direct <= directNeeded * 11 / 10 + (66 + 8L * workers) * MIB,
            "MaxDirectMemorySize " + direct + " for a need of " + directNeeded + " bytes: " + jvm);
    }

    @Test
    void shouldStartTheDaemonWithTheDerivedBoundsThatItRefusesToStartWithinOneGigabyte(@TempDir final Path dir)
        throws Exception
    {
        // 1 M flows with checkpoints: 1.5 GB of direct memory and 1.6 GB of heap. A JVM given the derived bounds runs
        // the sample to the end; one given 1 GB of heap (and so of direct memory) is refused.
        final List<String> args = List.of("run", "--no-http", "--exit-at-end", "--pcap", SAMPLE.toString(), "--workers",
            "2", "--max-flows", "1000000", "--state-dir", dir.resolve("state").toString(), "-o",
            dir.resolve("records.jsonl").toString());
        final List<String> derived = new ArrayList<>();
        for (final String option : dryRun(Map.of(), args))
        {
            if (option.startsWith("-Xmx") || option.startsWith("-XX:MaxDirectMemorySize="))
            {
                derived.add(option);
            }
        }
        assertEquals(2, derived.size(), derived.toString());
        assertEquals(0, daemon(derived, args, dir.resolve("derived.err")), "with " + derived);
        assertEquals(ExitCodes.USAGE, daemon(List.of("-Xmx1g"), args, dir.resolve("small.err")), "with -Xmx1g");
    }

    @Test
    void shouldLeaveBoundsGivenInTheEnvironmentAndAnalyzeAlone() throws Exception
    {
        final List<String> run = List.of("run", "--pcap", SAMPLE.toString(), "--max-flows", "100000");
        final List<String> given = dryRun(Map.of("TRACKER_JAVA_OPTS", "-Xmx3g -XX:MaxDirectMemorySize=5g"), run);
        assertEquals(List.of("-Xmx3g", "-XX:MaxDirectMemorySize=5g"),
            given.stream().filter(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxDirect")).toList(),
            given.toString());
        final List<String> heapPercent = dryRun(Map.of("JDK_JAVA_OPTIONS", "-XX:MaxRAMPercentage=50"), run);
        assertTrue(heapPercent.stream().noneMatch(o -> o.startsWith("-Xmx")), heapPercent.toString());
        assertTrue(heapPercent.stream().anyMatch(o -> o.startsWith("-XX:MaxDirectMemorySize=")),
            heapPercent.toString());
        final List<String> unparsable = dryRun(Map.of(), List.of("run", "--pcap", SAMPLE.toString(), "--max-flows",
            "lots"));
        assertTrue(unparsable.stream().noneMatch(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxDirect")),
            "run names the problem itself: " + unparsable);

        final List<String> analyze = dryRun(Map.of(), List.of("analyze", SAMPLE.toString()));
        assertTrue(analyze.contains("-XX:MaxNewSize=64m"), analyze.toString());
        assertTrue(analyze.stream().noneMatch(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxDirect")),
            analyze.toString());
    }

    /** bin/lib/memory.sh reads run's options as run does: --opt=value, TRACKER_* variables and the config file. */
    @Test
    void shouldReadTheOptionsInEveryFormRunTakes(@TempDir final Path dir) throws Exception
    {
        final String sample = SAMPLE.toString();
        final List<String> expected = memoryBounds(dryRun(Map.of(), List.of("run", "--pcap", sample, "--workers", "2",
            "--max-flows", "100000", "--record-buffer", "1g")));
        assertEquals(2, expected.size(), expected.toString());
        assertEquals(expected, memoryBounds(dryRun(Map.of(), List.of("run", "--pcap=" + sample, "--workers=2",
            "--max-flows=100000", "--record-buffer=1g"))));
        assertEquals(expected, memoryBounds(dryRun(Map.of("TRACKER_WORKERS", "2", "TRACKER_MAX_FLOWS", "100000",
            "TRACKER_RECORD_BUFFER", "1g"), List.of("run", "--pcap", sample))));
        final Path config = dir.resolve("tracker.properties");
        Files.writeString(config, "# run's memory\nworkers = 5\nrun.workers: 2\nmax-flows 100000\nrecord-buffer=1g\n");
        assertEquals(expected, memoryBounds(dryRun(Map.of(), List.of("run", "--config", config.toString(), "--pcap",
            sample))));
        assertEquals(expected, memoryBounds(dryRun(Map.of("TRACKER_CONFIG", config.toString()), List.of("run",
            "--pcap", sample))));
        assertEquals(expected, memoryBounds(dryRun(Map.of("TRACKER_WORKERS", "7"), List.of("run",
            "--config=" + config, "--pcap", sample, "--workers=2"))), "a flag over its variable over the file");
    }

    private static List<String> memoryBounds(final List<String> jvm)
    {
        return jvm.stream().filter(o -> o.startsWith("-Xmx") || o.startsWith("-XX:MaxDirectMemorySize=")).toList();
    }

    /** The JVM options bin/tracker would start {@code args} with, given {@code env} (and none of the user's). */
    private static List<String> dryRun(final Map<String, String> env, final List<String> args)
        throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of("bash", LAUNCHER.toString()));
        command.addAll(args);
        final ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().keySet().removeAll(List.of("TRACKER_JAVA_OPTS", "JDK_JAVA_OPTIONS", "JAVA_TOOL_OPTIONS"));
        builder.environment().putAll(env);
        builder.environment().put("TRACKER_DRY_RUN", "1");
        final Process process = builder.start();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(20, TimeUnit.SECONDS), "bin/tracker dry run did not end");
        assertEquals(0, process.exitValue(), out);
        return out.lines().toList();
    }

    /** The one option starting with {@code prefix}, a size in MiB ({@code 123m}), in bytes. */
    private static long mebibytes(final List<String> options, final String prefix)
    {
        final List<String> matching = options.stream().filter(o -> o.startsWith(prefix)).toList();
        assertEquals(1, matching.size(), prefix + " in " + options);
        final String value = matching.getFirst().substring(prefix.length());
        assertTrue(value.endsWith("m"), value);
        return Long.parseLong(value.substring(0, value.length() - 1)) * MIB;
    }

    /** Runs {@code tracker run} in a child JVM with {@code memory} options; its exit status. */
    private static int daemon(final List<String> memory, final List<String> args, final Path stderr) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow()));
        command.addAll(CheckpointStore.jvmOptions());
        command.addAll(memory);
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TrackerCli.class.getName()));
        command.addAll(args);
        final Process process = new ProcessBuilder(command).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "tracker run did not end");
        return process.exitValue();
    }
}
