package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.ingest.pipeline.Pipeline;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The command line's one grammar: {@code --opt=value} on every command, the same values and ranges for the options
 * analyze and run share, {@code --version}, defaults from {@code TRACKER_*} variables and a config file (a flag wins,
 * then the environment, then the file), and the committed bash completion script matching the commands.
 */
class TrackerCliTest
{
    private static final String SAMPLE = Path.of("../samples/sample.pcap").toString();
    private static final Path COMPLETION_SCRIPT = Path.of("../bin/completion/tracker.bash");
    private static final Pattern WORKERS = Pattern.compile(" with (\\d+) worker\\(s\\)");

    @TempDir
    Path dir;

    private record Run(int exit, String out, String err)
    {
        List<String> errLines()
        {
            return err.lines().toList();
        }
    }

    private static Run run(final Map<String, String> environment, final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            exit = TrackerCli.run(args, o, e, environment);
        }
        return new Run(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static Run run(final String... args)
    {
        return run(Map.of(), args);
    }

    @Test
    void shouldTakeOptionValuesAfterAnEqualsSignOnEveryCommand() throws IOException
    {
        final Run spaced = run("analyze", "--workers", "1", "--working-set", "3", "--lifecycle", "zeek", "--output",
            dir.resolve("spaced.jsonl").toString(), "--no-progress", SAMPLE);
        final Run joined = run("analyze", "--workers=1", "--working-set=3", "--lifecycle=zeek",
            "--output=" + dir.resolve("joined.jsonl"), "--no-progress", SAMPLE);
        assertEquals(0, spaced.exit(), spaced.err());
        assertEquals(0, joined.exit(), joined.err());
        assertEquals(Files.readString(dir.resolve("spaced.jsonl")), Files.readString(dir.resolve("joined.jsonl")));

        final Path state = dir.resolve("state");
        final Run daemon = run("run", "--pcap=" + SAMPLE, "--no-http", "--workers=2", "--working-set=3",
            "--lifecycle=zeek", "--max-flows=1000", "--ring-size=1024", "--record-buffer=1M", "--state-dir=" + state,
            "--checkpoint-at-end", "--closed-timeout=5s", "--output=" + dir.resolve("run.jsonl"), "-q");
        assertEquals(0, daemon.exit(), daemon.err());

        final Run flows = run("flows", "--state-dir=" + state, "--limit=4", "--quiet");
        assertEquals(0, flows.exit(), flows.err());
        assertEquals(4, flows.out().lines().count(), flows.out());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({"--workers, 0", "--workers, 1025", "--workers, many", "--working-set, 0", "--working-set, -1",
        "--lifecycle, bro"})
    void shouldRefuseTheSharedOptionsInTheSameWordsOnBothCommands(final String option, final String value)
    {
        final Run analyze = run("analyze", option, value, SAMPLE);
        final Run daemon = run("run", "--no-http", "--pcap", SAMPLE, option + "=" + value);
        for (final Run refused : List.of(analyze, daemon))
        {
            assertEquals(2, refused.exit(), refused.err());
            assertEquals(1, refused.errLines().size(), refused.err());
            assertEquals("", refused.out());
        }
        assertTrue(analyze.err().startsWith("tracker analyze: "), analyze.err());
        assertTrue(daemon.err().startsWith("tracker run: "), daemon.err());
        assertEquals(problem(analyze), problem(daemon));
    }

    /** The problem a usage error names, without the command's name and the pointer to its help. */
    private static String problem(final Run refused)
    {
        final String line = refused.errLines().getFirst();
        return line.substring(line.indexOf(": ") + 2, line.lastIndexOf(" (try 'tracker "));
    }

    @Test
    void shouldPrintTheVersion()
    {
        for (final String[] args : List.of(new String[] {"--version"}, new String[] {"-V"},
            new String[] {"analyze", "--version"}, new String[] {"run", "-V"}, new String[] {"flows", "--version"},
            new String[] {"top", "--version"}, new String[] {"aggregate", "-V"}))
        {
            final Run version = run(args);
            assertEquals(0, version.exit(), version.err());
            assertTrue(version.out().matches("tracker \\d+\\.\\d+\\.\\d+[-.\\w]* \\(Java .+\\)\\R"), version.out());
            assertEquals("", version.err());
        }
    }

    @Test
    void shouldTakeAFlagOverItsVariableOverTheConfigFileOverTheDefault() throws IOException
    {
        final Path config = dir.resolve("tracker.properties");
        Files.writeString(config, "# the workers analyze and run use\nworkers = 2\nrun.workers=3\n");
        final String file = "--config=" + config;
        assertEquals(Pipeline.defaultWorkers(), workers(Map.of(), "analyze", SAMPLE));
        assertEquals(2, workers(Map.of(), "analyze", file, SAMPLE));
        assertEquals(2, workers(Map.of(), "analyze", "--config", config.toString(), SAMPLE));
        assertEquals(2, workers(Map.of("TRACKER_CONFIG", config.toString()), "analyze", SAMPLE));
        assertEquals(3, workers(Map.of("TRACKER_WORKERS", "3"), "analyze", file, SAMPLE));
        assertEquals(1, workers(Map.of("TRACKER_WORKERS", "3"), "analyze", file, "--workers", "1", SAMPLE));
        assertEquals(1, workers(Map.of("TRACKER_WORKERS", "3"), "analyze", "--workers=1", SAMPLE));

        Files.writeString(config, "workers=2\nanalyze.workers=1\nquiet=false\n");
        assertEquals(1, workers(Map.of(), "analyze", file, SAMPLE), "a command's own key wins over the plain one");
        final Run quiet = run(Map.of("TRACKER_QUIET", "true"), "analyze", file, SAMPLE);
        assertEquals(0, quiet.exit(), quiet.err());
        assertEquals("", quiet.err(), "TRACKER_QUIET over the file's quiet=false");
    }

    private static int workers(final Map<String, String> environment, final String... args)
    {
        final Run analyze = run(environment, args);
        assertEquals(0, analyze.exit(), analyze.err());
        final Matcher matcher = WORKERS.matcher(analyze.err());
        assertTrue(matcher.find(), analyze.err());
        return Integer.parseInt(matcher.group(1));
    }

    @Test
    void shouldRefuseBadDefaultsInOneLineNamingWhereTheyCameFrom() throws IOException
    {
        final Path config = dir.resolve("tracker.properties");
        Files.writeString(config, "workers=5000\n");
        final List<Run> refusals = new ArrayList<>();
        final Run fromFile = run(Map.of(), "analyze", "--config", config.toString(), SAMPLE);
        assertTrue(fromFile.err().contains("--workers must be at most 1024") &&
            fromFile.err().contains("(from " + config + ")"), fromFile.err());
        refusals.add(fromFile);
        final Run fromVariable = run(Map.of("TRACKER_WORKING_SET", "none"), "run", "--pcap", SAMPLE);
        assertTrue(fromVariable.err().startsWith("tracker run: --working-set needs a number, got 'none' (from " +
            "TRACKER_WORKING_SET)"), fromVariable.err());
        refusals.add(fromVariable);

        Files.writeString(config, "wokers=2\n");
        final Run unknownKey = run(Map.of(), "analyze", "--config", config.toString(), SAMPLE);
        assertTrue(unknownKey.err().startsWith("tracker analyze: --config " + config + ": unknown option 'wokers'"),
            unknownKey.err());
        refusals.add(unknownKey);
        Files.writeString(config, "flow.workers=2\n");
        refusals.add(run(Map.of(), "analyze", "--config", config.toString(), SAMPLE));
        final Run missing = run(Map.of("TRACKER_CONFIG", dir.resolve("none").toString()), "flows", "--state-dir", "x");
        assertTrue(missing.err().contains("none: no such file"), missing.err());
        refusals.add(missing);
        for (final Run refused : refusals)
        {
            assertEquals(2, refused.exit(), refused.err());
            assertEquals(1, refused.errLines().size(), refused.err());
            assertEquals("", refused.out());
        }
    }

    @Test
    void shouldListEveryFlagInItsHelp()
    {
        final Run analyze = run("analyze", "--help");
        for (final String flag : List.of("-o, --output", "--lifecycle", "-C, --ignore-checksums", "--workers",
            "-q, --quiet", "--[no-]progress", "-h, --help", "--config", "-V, --version",
            "exit codes: 0 ok; 1 input error"))
        {
            assertTrue(analyze.out().contains(flag), flag + " in " + analyze.out());
        }
        assertFalse(analyze.out().contains("--working-set"), "obsolete, not offered: " + analyze.out());
        final Run daemon = run("run", "--help");
        assertTrue(daemon.out().startsWith("usage: tracker run --pcap FILE"), daemon.out());
        for (final String flag : List.of("--pcap", "-i, --interface", "--fanout", "--promiscuous", "--no-filter",
            "--ring-blocks", "--block-size", "--block-timeout", "--vxlan-listen", "--geneve-listen", "--mirror-threads",
            "--workers", "--ring-size", "--replay-speed", "--topspeed", "-o, --output", "--rotate-size",
            "--rotate-interval", "--rotate-at-exit", "--record-buffer", "--lifecycle", "-C, --ignore-checksums",
            "--max-flows", "--opening-timeout", "--established-timeout", "--closed-timeout",
            "--emergency-timeouts", "--state-dir", "--checkpoint-interval", "--checkpoint-at-end", "--http-listen",
            "--no-http", "--web-config", "--exit-at-end", "-q, --quiet", "-h, --help", "\nflow table (",
            "\ncheckpoints (", "\nHTTP (", "exit codes: 0 ok; 1 input or output error"))
        {
            assertTrue(daemon.out().contains(flag), flag + " in " + daemon.out());
        }
        final Run flows = run("help", "flows");
        assertEquals(0, flows.exit(), flows.err());
        assertTrue(flows.out().startsWith("usage: tracker flows --state-dir DIR") && flows.out().contains("--limit"),
            flows.out());
    }

    @Test
    void shouldKeepTheCommittedCompletionScriptCurrent() throws IOException
    {
        final Run script = run(TrackerCli.COMPLETION);
        assertEquals(0, script.exit(), script.err());
        assertTrue(script.out().contains("complete -F _complete_tracker"), script.out());
        assertEquals(script.out(), Files.readString(COMPLETION_SCRIPT), "the commands changed: regenerate it with " +
            "'bin/tracker " + TrackerCli.COMPLETION + " > bin/completion/tracker.bash'");
    }
}
