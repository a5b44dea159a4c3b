package dev.flowtracker.ingest.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The record writer thread: every record once, in each writer's order; flush barrier; rotation; a failing sink
 * (records buffered, retried, resumed without a cut or a repeat; dropped and counted when the buffer is full or at
 * close).
 */
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
    void shouldBufferWhileTheSinkFailsThenResumeWithoutCuttingOrRepeatingARecord() throws IOException
    {
        final FillableChannel disk = new FillableChannel();
        disk.allowance = 1_000; // the disk fills up in the middle of a record
        final RecordWriter writer = RecordWriter.toChannel(() -> disk, 1 << 20, 10_000_000L, 0);
        final List<String> expected = new ArrayList<>();
        for (int i = 0; i < 1_000; i++)
        {
            final String record = "{\"n\":" + i + "}";
            expected.add(record);
            writer.write(record);
        }
        assertFalse(writer.flush(), "a flush does not wait for a full disk");
        assertTrue(writer.failing());
        assertEquals("No space left on device", writer.failure());
        assertTrue(writer.written() < 1_000, "written before the disk filled: " + writer.written());
        assertEquals(1_000, writer.written() + writer.backlogRecords(), "every record is written or waiting");
        assertEquals(0, writer.lost());

        disk.allowance = Long.MAX_VALUE; // space freed: the next retry writes the rest
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (writer.written() < 1_000 && System.nanoTime() < deadline)
        {
            writer.flush();
        }
        assertTrue(writer.flush());
        assertFalse(writer.failing());
        assertEquals(0, writer.backlogRecords());
        assertEquals(0, writer.backlogBytes());
        writer.close();
        assertEquals(expected, List.of(disk.contents().split("\n")));
        assertEquals(0, writer.lost());
        assertTrue(writer.sinkFailures() > 0);
    }

    @Test
    void shouldContinueAnExistingFileAndCutTheTornLineAKilledRunLeft(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        final String torn = "{\"n\":2,\"half";
        Files.writeString(file, "{\"n\":0}\n{\"n\":1}\n" + torn);
        final RecordWriter writer = RecordWriter.continuing(file, 0, 0, false, 1 << 20);
        assertEquals(torn.length(), writer.tornBytesCut());
        assertEquals(16, writer.continuedBytes(), "the two whole records are kept");
        writer.write("{\"n\":3}");
        writer.write("{\"n\":4}");
        writer.close();
        assertEquals(List.of("{\"n\":0}", "{\"n\":1}", "{\"n\":3}", "{\"n\":4}"), Files.readAllLines(file));
        assertEquals(2, writer.written());
    }

    @Test
    void shouldCutAFileWithoutAnyNewlineToNothingWhenContinuingIt(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        Files.writeString(file, "{\"torn\"");
        final RecordWriter writer = RecordWriter.continuing(file, 0, 0, false, 1 << 20);
        writer.write("{\"n\":1}");
        writer.close();
        assertEquals(7, writer.tornBytesCut());
        assertEquals(List.of("{\"n\":1}"), Files.readAllLines(file));
    }

    @Test
    void shouldCountTheBytesAlreadyInAContinuedFileTowardsRotationBySize(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        final String earlier = "e".repeat(99) + "\n";
        Files.writeString(file, earlier.repeat(9)); // 900 bytes of a 1,000-byte limit
        final RecordWriter writer = RecordWriter.continuing(file, 1_000, 0, false, 1 << 20);
        for (int i = 0; i < 3; i++)
        {
            writer.write("n".repeat(98) + i);
        }
        writer.close();
        assertEquals(1, writer.rotations(), "the first new record reached the limit");
        try (Stream<Path> files = Files.list(dir))
        {
            final List<Path> rotated = files.filter(f -> !f.equals(file)).toList();
            assertEquals(1, rotated.size(), rotated.toString());
            final List<String> old = Files.readAllLines(rotated.getFirst());
            assertEquals(10, old.size(), "nine earlier records and the one that reached the limit");
            assertEquals("n".repeat(98) + 0, old.get(9));
        }
        assertEquals(List.of("n".repeat(98) + 1, "n".repeat(98) + 2), Files.readAllLines(file));
    }

    @Test
    void shouldRotateTheFileAsideAtExitWhenAsked(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        final RecordWriter writer = RecordWriter.continuing(file, 0, 0, true, 1 << 20);
        writer.write("{\"n\":1}");
        writer.close();
        assertFalse(Files.exists(file), "moved aside at exit");
        try (Stream<Path> files = Files.list(dir))
        {
            final List<Path> rotated = files.toList();
            assertEquals(1, rotated.size(), rotated.toString());
            assertTrue(rotated.getFirst().getFileName().toString().matches("records\\.jsonl\\.\\d{8}T\\d{6}\\.\\d{3}Z"),
                rotated.toString());
            assertEquals(List.of("{\"n\":1}"), Files.readAllLines(rotated.getFirst()));
        }
    }

    @Test
    void shouldDropAndCountTheNewestRecordsWhenTheBufferIsFullWhileTheSinkFails() throws IOException
    {
        final FillableChannel disk = new FillableChannel();
        final String record = "x".repeat(98); // 100 bytes with a letter and the newline
        final RecordWriter writer = RecordWriter.toChannel(() -> disk, 1_000, 10_000_000L, 0);
        for (int i = 0; i < 25; i++)
        {
            writer.write(record + (char)('a' + i));
        }
        assertFalse(writer.flush());
        assertEquals(10, writer.backlogRecords(), "1,000 bytes of buffer hold ten 100-byte records");
        assertEquals(15, writer.lost(RecordWriter.LossReason.BUFFER_FULL));
        disk.allowance = Long.MAX_VALUE;
        final long deadline = System.nanoTime() + 30_000_000_000L;
        while (writer.backlogRecords() > 0 && System.nanoTime() < deadline)
        {
            writer.flush();
        }
        writer.close();
        final String[] lines = disk.contents().split("\n");
        assertEquals(writer.written(), lines.length);
        assertEquals(25, writer.written() + writer.lost(RecordWriter.LossReason.BUFFER_FULL), "every record counted");
        assertEquals(record + 'a', lines[0], "the oldest records are kept");
        assertEquals(0, writer.lost(RecordWriter.LossReason.SHUTDOWN));
    }

    @Test
    void shouldCountRecordsStillUnwritableWhenClosed() throws IOException
    {
        final FillableChannel disk = new FillableChannel();
        final RecordWriter writer = RecordWriter.toChannel(() -> disk, 1 << 20, 10_000_000L, 100_000_000L);
        for (int i = 0; i < 5; i++)
        {
            writer.write("{\"n\":" + i + "}");
        }
        writer.close();
        assertEquals(5, writer.lost(RecordWriter.LossReason.SHUTDOWN));
        assertEquals(5, writer.lost());
        assertEquals(0, writer.written());
        assertEquals("No space left on device", writer.failure());
        assertTrue(writer.sinkFailures() >= 2, "retried during the close grace: " + writer.sinkFailures());
    }

    /**
     * A disk with {@code allowance} bytes of space: a write takes what fits (a short count, as the kernel does)
     * and the next one fails with ENOSPC's message. Written on the writer thread, changed by the test thread.
     */
    private static final class FillableChannel implements GatheringByteChannel
    {
        volatile long allowance;
        private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        @Override
        public synchronized long write(final ByteBuffer[] sources, final int offset, final int length)
            throws IOException
        {
            if (allowance <= 0)
            {
                throw new IOException("No space left on device");
            }
            long total = 0;
            for (int i = offset; i < offset + length && allowance > 0; i++)
            {
                final ByteBuffer source = sources[i];
                final int n = (int)Math.min(source.remaining(), allowance);
                bytes.write(source.array(), source.arrayOffset() + source.position(), n);
                source.position(source.position() + n);
                allowance -= n;
                total += n;
            }
            return total;
        }

        synchronized String contents()
        {
            return bytes.toString(StandardCharsets.UTF_8);
        }

        @Override
        public long write(final ByteBuffer[] sources) throws IOException
        {
            return write(sources, 0, sources.length);
        }

        @Override
        public int write(final ByteBuffer source) throws IOException
        {
            return (int)write(new ByteBuffer[] {source}, 0, 1);
        }

        @Override
        public boolean isOpen()
        {
            return true;
        }

        @Override
        public void close()
        {
        }
    }
}
