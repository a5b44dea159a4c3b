package dev.flowtracker.ingest.output;

import com.sun.management.ThreadMXBean;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.source.file.CaptureReplay;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The text layouts below the command line: formatting allocates nothing per record, and the record writer frames a
 * file with the layout's header and footer (once per file, also across rotations; not again in a continued file),
 * counting only records.
 */
class TextRecordFormatTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final int RECORDS = 100_000;
    private static final List<TcpConnection> CONNECTIONS = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeAll
    static void readSample() throws IOException
    {
        final OfflineAnalysis analysis = new OfflineAnalysis(CONNECTIONS::add);
        CaptureReplay.read(SAMPLE, analysis);
        analysis.finish(EndReason.END_OF_INPUT);
        assertTrue(CONNECTIONS.size() >= 5, "the sample's connections: " + CONNECTIONS.size());
    }

    private static List<RecordLayout> layouts()
    {
        final List<String> some = List.of("ts", "uid", "orig", "tcp.orig.mss", "tcp.vni", "tap",
            "tcp.resp.sack_permitted", "community_id", "history", "conn_state");
        return List.of(RecordLayout.of(OutputFormat.TSV, null, 0), RecordLayout.of(OutputFormat.ZEEK, null, 0),
            RecordLayout.of(OutputFormat.TABLE, null, RecordLayout.DEFAULT_TABLE_WIDTH),
            RecordLayout.of(OutputFormat.JSON, some, 0), RecordLayout.of(OutputFormat.TABLE, some, 0));
    }

    @Test
    void shouldAllocateNothingPerRecordInAnyLayout()
    {
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        threads.setThreadAllocatedMemoryEnabled(true);
        final long threadId = Thread.currentThread().threadId();
        final RecordFields fields = new RecordFields(0, "tap1");
        for (final RecordLayout layout : layouts())
        {
            final RecordFormatter format = layout.formatter(fields);
            long length = 0;
            for (int i = 0; i < RECORDS; i++) // warm-up: JIT
            {
                length += format.format(CONNECTIONS.get(i % CONNECTIONS.size())).length();
            }
            final long before = threads.getThreadAllocatedBytes(threadId);
            for (int i = 0; i < RECORDS; i++)
            {
                length += format.format(CONNECTIONS.get(i % CONNECTIONS.size())).length();
            }
            final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
            assertTrue(length > 0);
            assertTrue(allocated < RECORDS, layout.format() + " " + layout.columns().size() + " columns: allocated " +
                allocated + " bytes for " + RECORDS + " records");
        }
    }

    @Test
    void shouldFitTheDefaultTableAndKeepChosenColumns()
    {
        final int narrow = RecordLayout.of(OutputFormat.TABLE, null, 60).columns().size();
        final int wide = RecordLayout.of(OutputFormat.TABLE, null, 400).columns().size();
        assertTrue(narrow < wide, narrow + " columns in 60, " + wide + " in 400");
        assertEquals(RecordLayout.TABLE_COLUMNS.size(), wide, "all default columns in 400");
        assertEquals(3, RecordLayout.of(OutputFormat.TABLE, List.of("uid", "tcp.orig.state", "ts"), 20).columns()
            .size(), "chosen columns are never dropped");
        assertThrows(IllegalArgumentException.class, () -> RecordLayout.of(OutputFormat.TSV, List.of("uid", "x"), 0));
    }

    @Test
    void shouldFrameAFileWithHeaderAndFooterCountingOnlyRecords() throws IOException
    {
        final RecordLayout zeek = RecordLayout.of(OutputFormat.ZEEK, null, 0);
        final Path file = dir.resolve("conn.log");
        final RecordWriter writer = RecordWriter.toFile(file, 0, 0);
        writer.frame(zeek);
        final RecordFormatter format = zeek.formatter(RecordFields.DEFAULTS);
        for (final TcpConnection c : CONNECTIONS)
        {
            writer.write(format.format(c));
        }
        writer.close();
        assertEquals(CONNECTIONS.size(), writer.written());
        assertEquals(0, writer.lost());
        final List<String> lines = Files.readAllLines(file);
        assertEquals("#separator \\x09", lines.getFirst());
        assertTrue(lines.getLast().startsWith("#close\t"), lines.getLast());
        assertEquals(CONNECTIONS.size(), lines.stream().filter(line -> !line.startsWith("#")).count());
        assertEquals(1, lines.stream().filter(line -> line.startsWith("#fields")).count());
    }

    @Test
    void shouldFrameEveryRotatedFileAndNotAContinuedOne() throws IOException
    {
        final RecordLayout tsv = RecordLayout.of(OutputFormat.TSV, List.of("uid", "conn_state"), 0);
        final Path file = dir.resolve("records.tsv");
        final RecordFormatter format = tsv.formatter(RecordFields.DEFAULTS);
        final RecordWriter rotating = RecordWriter.continuing(file, 60, 0, true, 1 << 20);
        rotating.frame(tsv);
        for (int i = 0; i < 3; i++)
        {
            for (final TcpConnection c : CONNECTIONS)
            {
                rotating.write(format.format(c));
            }
        }
        rotating.close();
        final List<Path> files;
        try (Stream<Path> listed = Files.list(dir))
        {
            files = listed.toList();
        }
        assertTrue(files.size() > 2, "rotated: " + files);
        long rows = 0;
        for (final Path rotated : files)
        {
            final List<String> lines = Files.readAllLines(rotated);
            assertEquals("uid\tconn_state", lines.getFirst(), rotated + " starts with the header");
            assertEquals(1, lines.stream().filter(line -> line.equals("uid\tconn_state")).count(), rotated.toString());
            rows += lines.size() - 1;
        }
        assertEquals(3L * CONNECTIONS.size(), rows, "every record once");
        assertEquals(rows, rotating.written());

        final Path continued = dir.resolve("continued.tsv");
        Files.writeString(continued, "uid\tconn_state\nCx\tSF\n");
        final RecordWriter writer = RecordWriter.continuing(continued, 0, 0, false, 1 << 20);
        writer.frame(tsv);
        writer.write(format.format(CONNECTIONS.getFirst()));
        writer.close();
        final List<String> lines = Files.readAllLines(continued);
        assertEquals(3, lines.size(), "no second header: " + lines);
        assertFalse(lines.get(2).startsWith("uid"), lines.get(2));
    }
}
