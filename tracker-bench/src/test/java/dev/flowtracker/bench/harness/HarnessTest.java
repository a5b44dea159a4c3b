package dev.flowtracker.bench.harness;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The harness's arithmetic and bookkeeping: medians, GNU time's output, the targets, the README section. */
class HarnessTest
{
    @TempDir
    Path dir;

    @Test
    void shouldTakeTheMiddleValueOrTheMeanOfTheMiddleTwo()
    {
        assertEquals(new Stats(3, 1, 9, 5), Stats.of(9, 1, 3, 4, 2));
        assertEquals(new Stats(2.5, 1, 4, 4), Stats.of(4, 1, 3, 2));
        assertEquals(1.0, Stats.of(2, 1, 3).relativeSpread(), 1e-9);
    }

    @Test
    void shouldReadGnuTimesNumbersAfterANonZeroStatusLine()
    {
        final TimedProcess.Measurement m = TimedProcess.parse(
            List.of("Command exited with non-zero status 1", "2.41 106424 1.60 0.22"), 1, "tail");
        assertEquals(1, m.exitCode());
        assertEquals(2.41, m.wallSeconds(), 1e-9);
        assertEquals(106_424, m.maxRssKilobytes());
        assertEquals(1.82, m.cpuSeconds(), 1e-9);
        assertFalse(m.ok());
        assertFalse(TimedProcess.parse(List.of("garbage"), 0, "").ok(), "no numbers is a failure");
    }

    @Test
    void shouldMeasureAWholeProcessUnderGnuTime() throws IOException, InterruptedException
    {
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(TimedProcess.GNU_TIME),
            "skipped: GNU time is not installed (apt-get install time)");
        final TimedProcess.Measurement m = TimedProcess.run(List.of("sh", "-c", "echo oops >&2; exit 3"), Map.of(),
            dir, dir.resolve("err"));
        assertEquals(3, m.exitCode());
        assertTrue(m.wallSeconds() >= 0 && m.maxRssKilobytes() > 0);
        assertEquals("oops", m.stderrTail());
    }

    @Test
    void shouldJudgeTheTargetsFromMedians()
    {
        final List<Compare.ToolResult> results = List.of(
            result("tracker", 2.0, 300_000), result("tshark", 25.0, 500_000), result("tcptrace", 6.0, 20_000),
            result("argus", 1.8, 200_000), result("tcpdump", 0.5, 6_000));
        final Targets mixed = Targets.evaluate(results, 2_500_000, null, 10_000_000);
        final List<Targets.Target> list = mixed.targets();
        assertEquals(Boolean.TRUE, list.get(0).met(), "3x tcptrace is 2x or more: " + list.get(0));
        assertEquals(Boolean.FALSE, list.get(1).met(), "argus's 1.8 s beats our 2.0 s: " + list.get(1));
        assertEquals(Boolean.TRUE, list.get(2).met(), "300 MB is within 400 MB: " + list.get(2));
        assertNull(list.get(3).met(), "no footprint: not measured");
        assertEquals(4, list.size(), "2.5 M packets: no capture-size complaint");
        assertTrue(mixed.anyMissed());

        final List<Targets.Target> shortConnections =
            Targets.evaluate(results, 1_300_000, null, 10_000_000, 0, true).targets();
        assertEquals(Boolean.FALSE, shortConnections.get(0).met(), "3x tcptrace is short of 4x");
        assertEquals(Boolean.TRUE, shortConnections.get(1).met(), "12.5x tshark is 10x or more");
        assertEquals(4, shortConnections.size(), "a scenario of its own: no capture-size complaint");
    }

    @Test
    void shouldReplaceOnlyTheMarkedSectionOfTheReadme() throws IOException
    {
        final Path readme = dir.resolve("README.md");
        Files.writeString(readme, "# bench\n\nintro\n");
        Compare.writeIntoReadme(readme, "first run\n");
        final String once = Files.readString(readme);
        assertTrue(once.startsWith("# bench\n\nintro\n"));
        assertTrue(once.contains(Compare.BEGIN + "\nfirst run\n" + Compare.END));
        Files.writeString(readme, once + "\n## after\n");
        Compare.writeIntoReadme(readme, "second run\n");
        final String twice = Files.readString(readme);
        assertFalse(twice.contains("first run"));
        assertTrue(twice.contains(Compare.BEGIN + "\nsecond run\n" + Compare.END));
        assertTrue(twice.endsWith("\n## after\n"), "what follows the section stays");
    }

    @Test
    void shouldKeepNamedSectionsApartFromEachOtherAndFromTheDefault() throws IOException
    {
        final Path readme = dir.resolve("README.md");
        Files.writeString(readme, "# bench\n");
        Compare.writeIntoReadme(readme, "default\n");
        Compare.writeIntoReadme(readme, "k10\n", "shortconn-k10");
        Compare.writeIntoReadme(readme, "k20\n", "shortconn-k20");
        Compare.writeIntoReadme(readme, "k10 again\n", "shortconn-k10");
        final String text = Files.readString(readme);
        assertTrue(text.contains(Compare.BEGIN + "\ndefault\n" + Compare.END));
        assertTrue(text.contains("<!-- bench:compare:shortconn-k10:begin -->\nk10 again\n" +
            "<!-- bench:compare:shortconn-k10:end -->"));
        assertTrue(text.contains("<!-- bench:compare:shortconn-k20:begin -->\nk20\n"));
        assertFalse(text.contains("k10\n<"), "the first k10 report was replaced");
    }

    @Test
    void shouldReadThePacketsCounterFromJmhsCsv() throws IOException
    {
        final Path csv = dir.resolve("jmh.csv");
        Files.writeString(csv, String.join("\n",
            "\"Benchmark\",\"Mode\",\"Threads\",\"Samples\",\"Score\",\"Score Error (99.9%)\",\"Unit\"",
            "\"dev.flowtracker.bench.PipelineBenchmark.pipeline\",\"thrpt\",1,3,2.5,0.4,\"ops/s\"",
            "\"dev.flowtracker.bench.PipelineBenchmark.pipeline:packets\",\"thrpt\",1,3," +
                "3250000.5,120000.25,\"ops/s\""));
        final String[] packets = InProcessPipeline.packetsRow(csv);
        assertEquals("3250000.5", packets[0]);
        assertEquals("120000.25", packets[1]);
    }

    @Test
    void shouldSetEachToolBesideItsFirstRunAcrossConcurrencies()
    {
        final Map<String, List<ConcurrencySummary.Row>> rows = new java.util.LinkedHashMap<>();
        rows.put("10000", List.of(new ConcurrencySummary.Row("tracker", true, 1_300, "100", 2.0, 650, 300)));
        rows.put("1000000", List.of(new ConcurrencySummary.Row("tracker", true, 1_300, "100", 4.0, 325, 900)));
        final String markdown = ConcurrencySummary.markdown("cmd", rows,
            Map.of("10000", dir.resolve("a"), "1000000", dir.resolve("b")));
        assertTrue(markdown.contains("| 10000 | tracker | 1,300 | 2.00 | 650 | 1.00 | 300 | 1.00 |"), markdown);
        assertTrue(markdown.contains("| 1000000 | tracker | 1,300 | 4.00 | 325 | 0.50 | 900 | 3.00 |"), markdown);
    }

    private static Compare.ToolResult result(final String name, final double wall, final long rssKilobytes)
    {
        final Tool tool = new Tool(name, name, List.of(name), List.of());
        return new Compare.ToolResult(tool, List.of(
            new TimedProcess.Measurement(0, wall, rssKilobytes, wall, 0, ""),
            new TimedProcess.Measurement(0, wall * 1.1, rssKilobytes, wall, 0, ""),
            new TimedProcess.Measurement(0, wall * 0.9, rssKilobytes, wall, 0, "")));
    }
}
