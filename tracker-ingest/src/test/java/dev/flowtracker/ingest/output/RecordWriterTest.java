package dev.flowtracker.ingest.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The record writer thread: every record once, in each writer's order; flush barrier; rotation; write errors. */
class RecordWriterTest
{
    @Test
    void shouldWriteEveryRecordFromSeveralThreadsInEachThreadsOrder() throws InterruptedException
    {
        final ByteArrayOutputStream sink = new ByteArrayOutputStream();
        final RecordWriter writer = RecordWriter.toStream(sink);
        final List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 3; t++)
        {
            final int thread = t;
            threads.add(Thread.ofPlatform().start(() ->
            {
                for (int i = 0; i < 10_000; i++)
                {
                    writer.write("t" + thread + " " + i);
                }
            }));
        }
        for (final Thread thread : threads)
        {
            thread.join();
        }
        writer.close();

        final String[] lines = sink.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals(30_000, lines.length);
        assertEquals(30_000, writer.written());
        final int[] next = new int[3];
        for (final String line : lines)
        {
            final String[] parts = line.split(" ");
            final int thread = parts[0].charAt(1) - '0';
            assertEquals(next[thread]++, Integer.parseInt(parts[1]), "thread " + thread + " out of order");
        }
    }

    @Test
    void shouldHaveEverythingOutOfTheProcessAfterFlush(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        final RecordWriter writer = RecordWriter.toFile(file, 0, 0);
        for (int i = 0; i < 1_000; i++)
        {
            writer.write("{\"n\":" + i + "}");
        }
        writer.flush();
        assertEquals(1_000, Files.readAllLines(file).size(), "visible to another reader without close");
        writer.close();
    }

    @Test
    void shouldRotateBySizeWithoutLosingOrSplittingARecord(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        final RecordWriter writer = RecordWriter.toFile(file, 10_000, 0);
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 5_000; i++)
        {
            final String record = "{\"n\":" + i + ",\"pad\":\"" + "x".repeat(i % 50) + "\"}";
            expected.add(record);
            writer.write(record);
        }
        writer.close();

        final List<Path> files;
        try (Stream<Path> listing = Files.list(dir))
        {
            files = listing.sorted().toList(); // records.jsonl sorts before records.jsonl.<time>
        }
        assertTrue(files.size() > 10, "rotated into " + files.size() + " files");
        assertEquals(files.size() - 1, writer.rotations());
        final List<String> actual = new ArrayList<>();
        for (final Path rotated : files.subList(1, files.size()))
        {
            final long size = Files.size(rotated);
            assertTrue(size >= 10_000 && size < 10_000 + 100, rotated + " has " + size + " bytes");
            actual.addAll(Files.readAllLines(rotated));
        }
        actual.addAll(Files.readAllLines(files.getFirst())); // the current file holds the newest records
        assertEquals(expected, actual);
    }

    @Test
    void shouldRotateAFileThatHasBeenOpenLongEnough(@TempDir final Path dir) throws IOException, InterruptedException
    {
        final Path file = dir.resolve("records.jsonl");
        final RecordWriter writer = RecordWriter.toFile(file, 0, 200_000_000L);
        writer.write("{\"first\":true}");
        // The writer looks at the file's age at least every 200 ms even with nothing to write.
        for (int i = 0; i < 50 && writer.rotations() == 0; i++)
        {
            Thread.sleep(100);
        }
        writer.write("{\"second\":true}");
        writer.close();
        assertEquals(1, writer.rotations(), "an idle file past its age is rotated once, not again while empty");
        try (Stream<Path> listing = Files.list(dir))
        {
            final List<Path> files = listing.sorted().toList();
            assertEquals(2, files.size(), files.toString());
            assertEquals(List.of("{\"second\":true}"), Files.readAllLines(files.get(0)));
            assertEquals(List.of("{\"first\":true}"), Files.readAllLines(files.get(1)));
        }
    }

    @Test
    void shouldCountRecordsLostToWriteErrorsAndKeepGoing()
    {
        final OutputStream failing = new OutputStream()
        {
            @Override
            public void write(final int b) throws IOException
            {
                throw new IOException("No space left on device");
            }

            @Override
            public void write(final byte[] b, final int off, final int len) throws IOException
            {
                throw new IOException("No space left on device");
            }
        };
        final RecordWriter writer = RecordWriter.toStream(failing);
        // Larger than the 64 KB buffer in front of the stream, so the writes reach it.
        final String record = "x".repeat(100_000);
        for (int i = 0; i < 5; i++)
        {
            writer.write(record);
        }
        writer.close();
        assertEquals(5, writer.lost());
        assertEquals(0, writer.written());
        assertEquals("No space left on device", writer.failure());
    }
}
