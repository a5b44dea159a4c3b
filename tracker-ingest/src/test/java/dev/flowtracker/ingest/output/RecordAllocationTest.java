package dev.flowtracker.ingest.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.management.ThreadMXBean;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * What a shard worker does per ended connection on the record path, formatting the record and handing it to the
 * writer thread, allocates less than one object per record once warm: measured with the JVM's per-thread allocation
 * counter. What remains is the hand-over queue's lock: when the writer thread holds it, a producer that must wait
 * allocates a small wait node (1 to 3 bytes per record on average seen here); a lock-free queue would remove that.
 * The core's {@code ZeroAllocationTest} covers the tracking of connections that come and go; this covers their
 * records.
 */
class RecordAllocationTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final int RECORDS = 200_000;
    /** Less than the smallest object (16 bytes) per record: one allocation per record fails. */
    private static final long ALLOWED_BYTES_PER_RECORD = 15;

    @Test
    void shouldAllocateNothingPerRecordWhenFormattingAndHandingRecordsToTheWriter() throws IOException
    {
        final List<TcpConnection> connections = new ArrayList<>();
        final OfflineAnalysis analysis = new OfflineAnalysis(connections::add); // this listener may keep them
        CaptureReplay.read(SAMPLE, analysis);
        analysis.finish(EndReason.END_OF_INPUT);
        assertTrue(connections.size() >= 5, "the sample's connections: " + connections.size());

        final CountingChannel sink = new CountingChannel();
        final RecordWriter writer = RecordWriter.toChannel(() -> sink, 1 << 20, 10_000_000L, 0);
        final FlowRecordFormat format = new FlowRecordFormat();
        // Every buffer that can wait for reuse, made now: a writer thread that falls behind (a loaded machine, a
        // descheduled thread) must not turn into allocation in the measurement.
        writer.fillPool();
        long expectedBytes = 0;
        for (int i = 0; i < RECORDS; i++) // warm-up: JIT
        {
            final AsciiRecord record = format.format(connections.get(i % connections.size()));
            expectedBytes += record.length() + 1;
            writer.write(record);
        }
        writer.flush();

        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        assertTrue(threads.isThreadAllocatedMemorySupported(), "JVM cannot measure allocation");
        threads.setThreadAllocatedMemoryEnabled(true);
        final long threadId = Thread.currentThread().threadId();
        final long before = threads.getThreadAllocatedBytes(threadId);
        for (int i = 0; i < RECORDS; i++)
        {
            final AsciiRecord record = format.format(connections.get(i % connections.size()));
            expectedBytes += record.length() + 1;
            writer.write(record);
        }
        final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
        writer.close();

        assertEquals(2L * RECORDS, writer.written());
        assertEquals(expectedBytes, sink.bytes, "every record written whole");
        assertEquals(format.format(connections.getFirst()).toString() + "\n", sink.first,
            "the bytes handed over are the formatted record");
        assertTrue(allocated < ALLOWED_BYTES_PER_RECORD * RECORDS,
            "allocated " + allocated + " bytes for " + RECORDS + " records");
    }

    /** Takes everything, keeps the first record's text and counts the bytes (writer thread only). */
    private static final class CountingChannel implements GatheringByteChannel
    {
        volatile long bytes;
        volatile String first;
        @Override
        public long write(final ByteBuffer[] sources, final int offset, final int length)
        {
            long total = 0;
            for (int i = offset; i < offset + length; i++)
            {
                final ByteBuffer source = sources[i];
                if (first == null)
                {
                    first = StandardCharsets.US_ASCII.decode(source.duplicate()).toString();
                }
                total += source.remaining();
                source.position(source.limit());
            }
            bytes += total;
            return total;
        }

        @Override
        public long write(final ByteBuffer[] sources)
        {
            return write(sources, 0, sources.length);
        }

        @Override
        public int write(final ByteBuffer source)
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
