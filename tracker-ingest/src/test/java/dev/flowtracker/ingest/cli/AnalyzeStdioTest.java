package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.cli.AnalyzeFormatTest.Run;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tracker analyze}'s inputs and outputs as a shell uses them, in real processes where it matters: {@code -}
 * reads a pipe (pcap, pcapng, gzip), {@code -r FILE}, {@code -o -}, a closed standard output ({@code | head -1}),
 * every input checked before reading, {@code help analyze}.
 */
class AnalyzeStdioTest
{
    private static final Path SAMPLE = AnalyzeFormatTest.SAMPLE;
    private static final long TIMEOUT_SECONDS = 120;

    @TempDir
    Path dir;

    /** A real process's result. */
    private record Exit(int code, byte[] out, String err)
    {
    }

    private static List<String> tracker(final String... args)
    {
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
            "-XX:TieredStopAtLevel=1", "--enable-native-access=ALL-UNNAMED", "-cp",
            System.getProperty("java.class.path"), TrackerCli.class.getName()));
        command.addAll(Arrays.asList(args));
        return command;
    }

    /** Runs tracker with {@code input} written to its standard input through a pipe, then closed. */
    private Exit runPiped(final byte[] input, final Map<String, String> environment, final String... args)
        throws IOException, InterruptedException
    {
        final Path err = dir.resolve("stderr.txt");
        final ProcessBuilder builder = new ProcessBuilder(tracker(args)).redirectError(err.toFile());
        builder.environment().putAll(environment);
        final Process process = builder.start();
        final Thread feeder = Thread.ofPlatform().start(() ->
        {
            try (OutputStream stdin = process.getOutputStream())
            {
                // In pieces, as a pipe delivers them: the reader must not need the whole capture at once.
                for (int at = 0; at < input.length; at += 1000)
                {
                    stdin.write(input, at, Math.min(1000, input.length - at));
                    stdin.flush();
                }
            }
            catch (final IOException e)
            {
                // the process stopped reading; its exit status tells
            }
        });
        final byte[] out = process.getInputStream().readAllBytes();
        assertTrue(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "tracker did not end");
        feeder.join();
        return new Exit(process.exitValue(), out, Files.readString(err));
    }

    private static byte[] records(final String... args)
    {
        final List<String> all = new ArrayList<>(List.of("analyze", "--no-progress", "-q", "--workers", "1"));
        all.addAll(Arrays.asList(args));
        final Run run = AnalyzeFormatTest.run(all.toArray(String[]::new));
        assertEquals(0, run.exit(), run.err());
        return run.out();
    }

    @Test
    void shouldReadPcapPcapngAndGzipFromAPipe() throws IOException, InterruptedException
    {
        final byte[] expected = records(SAMPLE.toString());
        final byte[] pcap = Files.readAllBytes(SAMPLE);
        final ByteArrayOutputStream gzip = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gzip))
        {
            out.write(pcap);
        }
        for (final byte[] input : List.of(pcap, toPcapng(pcap), gzip.toByteArray()))
        {
            final Exit exit = runPiped(input, Map.of(), "analyze", "--no-progress", "-q", "--workers", "1", "-");
            assertEquals(0, exit.code(), exit.err());
            assertArrayEquals(expected, exit.out(), "the same records as from the file");
        }
    }

    @Test
    void shouldSayWhatIsWrongWithAPipeThatIsNotACapture() throws IOException, InterruptedException
    {
        final Exit exit = runPiped("not a capture at all".getBytes(StandardCharsets.US_ASCII), Map.of(), "analyze",
            "--no-progress", "-");
        assertEquals(ExitCodes.INPUT_ERROR, exit.code());
        assertTrue(exit.err().contains("standard input") && exit.err().contains("not a pcap or pcapng"), exit.err());
    }

    @Test
    void shouldReadFilesGivenWithRInOrderWithThePositionalOnes() throws IOException
    {
        final Path copy = dir.resolve("copy.pcap");
        Files.copy(SAMPLE, copy);
        assertArrayEquals(records(SAMPLE.toString()), records("-r", SAMPLE.toString()));
        assertArrayEquals(records(SAMPLE.toString(), copy.toString()),
            records("-r", SAMPLE.toString(), copy.toString()));
        assertArrayEquals(records(copy.toString(), SAMPLE.toString(), copy.toString()),
            records(copy.toString(), "-r", SAMPLE.toString(), "-r", copy.toString()));
    }

    @Test
    void shouldWriteToStandardOutputWithOutputDash() throws IOException, InterruptedException
    {
        final Path dash = Path.of("-");
        Files.deleteIfExists(dash);
        assertArrayEquals(records(SAMPLE.toString()), records("-o", "-", SAMPLE.toString()));
        assertFalse(Files.exists(dash), "no file named -");
        // And in a real process, whose standard output is its file descriptor.
        final Exit exit = runPiped(new byte[0], Map.of(), "analyze", "--no-progress", "-q", "--workers", "1",
            "-o", "-", SAMPLE.toString());
        assertEquals(0, exit.code(), exit.err());
        assertArrayEquals(records(SAMPLE.toString()), exit.out());
        assertFalse(Files.exists(dash), "no file named -");
    }

    @Test
    void shouldEndQuietlyWhenTheReaderClosesStandardOutput() throws IOException, InterruptedException
    {
        // 300 copies of the sample: 2,700 records, far more than a pipe holds, so the writer meets the closed pipe.
        final List<String> inputs = new ArrayList<>();
        for (int i = 0; i < 300; i++)
        {
            inputs.add(SAMPLE.toString());
        }
        for (final String format : List.of("json", "zeek", "table"))
        {
            final List<String> args = new ArrayList<>(List.of("analyze", "--no-progress", "--format", format));
            args.addAll(inputs);
            final Path err = dir.resolve("stderr-" + format + ".txt");
            final Process process = new ProcessBuilder(tracker(args.toArray(String[]::new)))
                .redirectError(err.toFile()).start();
            process.getOutputStream().close();
            final String first;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.US_ASCII)))
            {
                first = out.readLine(); // as head -1: one line, then the pipe is closed
            }
            assertTrue(process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS), "tracker did not end");
            assertTrue(first != null && !first.isEmpty(), format + ": a first line");
            assertEquals(0, process.exitValue(), format + ": " + Files.readString(err));
            assertEquals("", Files.readString(err), format + ": nothing said, nothing counted lost");
        }
    }

    @Test
    void shouldNameEveryBadInputBeforeReadingAny() throws IOException
    {
        final Path output = dir.resolve("records.jsonl");
        final Path missing = dir.resolve("missing.pcap");
        final Run run = AnalyzeFormatTest.run("analyze", "--no-progress", "-o", output.toString(), SAMPLE.toString(),
            missing.toString(), dir.toString(), "-r", missing.toString());
        assertEquals(ExitCodes.INPUT_ERROR, run.exit());
        assertEquals(List.of(
            "tracker analyze: error: " + missing + ": no such file (nothing was read)",
            "tracker analyze: error: " + dir + ": is a directory (nothing was read)",
            "tracker analyze: error: " + missing + ": no such file (nothing was read)"), run.err().lines().toList());
        assertFalse(Files.exists(output), "nothing written, not even an empty output");
        final Run twice = AnalyzeFormatTest.run("analyze", "--no-progress", "-", "-");
        assertEquals(ExitCodes.USAGE, twice.exit());
        assertEquals(1, twice.err().lines().count(), twice.err());
    }

    @Test
    void shouldPrintAnalyzesHelpForHelpAnalyze()
    {
        final Run help = AnalyzeFormatTest.run("help", "analyze");
        assertEquals(0, help.exit(), help.err());
        final String text = new String(help.out(), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("usage: tracker analyze"), text);
        assertTrue(text.contains("--format") && text.contains("--fields") && text.contains("-r=FILE"), text);
    }

    @Test
    void shouldFitTheTableToColumns() throws IOException, InterruptedException
    {
        int columns = 0;
        for (final int width : List.of(80, 120, 200))
        {
            final Exit exit = runPiped(new byte[0], Map.of("COLUMNS", Integer.toString(width)), "analyze",
                "--no-progress", "-q", "--format", "table", SAMPLE.toString());
            assertEquals(0, exit.code(), exit.err());
            final List<String> lines = new String(exit.out(), StandardCharsets.US_ASCII).lines().toList();
            assertEquals(10, lines.size(), "a header and 9 rows");
            for (final String line : lines)
            {
                assertTrue(line.length() <= width, width + ": " + line);
            }
            final int shown = lines.getFirst().strip().split(" +").length;
            assertTrue(shown > columns, width + ": more columns in more width: " + lines.getFirst());
            columns = shown;
        }
    }

    /** The pcap (little-endian, microseconds) as pcapng: a section header, one interface, enhanced packet blocks. */
    private static byte[] toPcapng(final byte[] pcap)
    {
        final ByteBuffer in = ByteBuffer.wrap(pcap).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xA1B2C3D4, in.getInt(0), "a little-endian microsecond pcap");
        final int linkType = in.getInt(20);
        final ByteBuffer out = ByteBuffer.allocate(pcap.length * 2 + 64).order(ByteOrder.LITTLE_ENDIAN);
        out.putInt(0x0A0D0D0A).putInt(28).putInt(0x1A2B3C4D).putShort((short)1).putShort((short)0).putLong(-1)
            .putInt(28);
        out.putInt(1).putInt(20).putShort((short)linkType).putShort((short)0).putInt(65535).putInt(20);
        int at = 24;
        while (at < pcap.length)
        {
            final long micros = (in.getInt(at) & 0xFFFFFFFFL) * 1_000_000L + (in.getInt(at + 4) & 0xFFFFFFFFL);
            final int captured = in.getInt(at + 8);
            final int original = in.getInt(at + 12);
            final int padded = (captured + 3) & ~3;
            out.putInt(6).putInt(32 + padded).putInt(0).putInt((int)(micros >>> 32)).putInt((int)micros)
                .putInt(captured).putInt(original).put(pcap, at + 16, captured).put(new byte[padded - captured])
                .putInt(32 + padded);
            at += 16 + captured;
        }
        return Arrays.copyOf(out.array(), out.position());
    }
}
