package dev.flowtracker.ingest.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code tracker run --format} to {@code -o -} (standard output) and to a file, in a real process. */
class RunFormatTest
{
    private static final Path SAMPLE = AnalyzeFormatTest.SAMPLE;

    @TempDir
    Path dir;

    private String run(final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
            "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED", "-cp",
            System.getProperty("java.class.path"), TrackerCli.class.getName(), "run", "--pcap", SAMPLE.toString(),
            "--no-http", "--exit-at-end", "-q", "--workers", "1"));
        command.addAll(Arrays.asList(args));
        final Path err = dir.resolve("stderr.txt");
        final Process process = new ProcessBuilder(command).redirectError(err.toFile()).start();
        process.getOutputStream().close();
        final String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        assertTrue(process.waitFor(120, TimeUnit.SECONDS), "run did not end");
        assertEquals(0, process.exitValue(), Files.readString(err));
        return out;
    }

    @Test
    void shouldWriteZeekLogsToStandardOutputWithOutputDash() throws IOException, InterruptedException
    {
        final List<String> lines = run("--format", "zeek", "-o", "-").lines().toList();
        assertEquals("#separator \\x09", lines.getFirst());
        assertTrue(lines.getLast().startsWith("#close\t"), lines.getLast());
        final List<List<String>> rows = AnalyzeFormatTest.zeekCut(lines, List.of("uid", "conn_state"));
        assertEquals(9, rows.size(), "the sample's connections");
        assertFalse(Files.exists(Path.of("-")), "no file named -");
    }

    @Test
    void shouldWriteTheChosenFieldsAsTsvToAFile() throws IOException, InterruptedException
    {
        final Path file = dir.resolve("records.tsv");
        assertEquals("", run("--format", "tsv", "--fields", "uid,orig,conn_state", "-o", file.toString()));
        final List<String> lines = Files.readAllLines(file);
        assertEquals("uid\torig\tconn_state", lines.getFirst());
        assertEquals(10, lines.size(), "a header and the sample's 9 connections");
        for (final String line : lines.subList(1, lines.size()))
        {
            assertEquals(3, line.split("\t", -1).length, line);
        }
    }
}
