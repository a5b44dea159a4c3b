package dev.flowtracker.ingest.output;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * The record stage: one formatting per connection, the same bytes to every sink, the per-worker hook told first,
 * and the sinks' flush, loss and failure seen together.
 */
class FlowRecordsTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");

    @Test
    void shouldHandEverySinkTheSameLinesAndTellTheHookFirst() throws IOException
    {
        final ByteArrayOutputStream first = new ByteArrayOutputStream();
        final ByteArrayOutputStream second = new ByteArrayOutputStream();
        final RecordingSink recording = new RecordingSink("recording");
        final List<String> hookSaw = new ArrayList<>();
        final FlowRecords records = new FlowRecords(List.of(RecordWriter.toStream(first), recording,
            RecordWriter.toStream(second)));
        final OfflineAnalysis analysis = new OfflineAnalysis(records.listenerFor(0, connection ->
        {
            hookSaw.add(FlowRecordFormat.uid(connection));
            assertEquals(hookSaw.size() - 1, recording.lines.size(), "the hook runs before the sinks");
        }));
        CaptureReplay.read(SAMPLE, analysis);
        analysis.finish(EndReason.END_OF_INPUT);
        assertTrue(records.flush());
        records.close();

        final String written = first.toString(StandardCharsets.UTF_8);
        final long connections = analysis.stats().connections();
        assertTrue(connections > 0, "the sample has connections");
        assertEquals(connections, written.lines().count());
        assertEquals(written, second.toString(StandardCharsets.UTF_8));
        assertEquals(written, String.join("", recording.lines));
        assertEquals(connections, records.written());
        assertEquals(connections, hookSaw.size());
        for (int i = 0; i < hookSaw.size(); i++)
        {
            assertTrue(recording.lines.get(i).contains("\"uid\":\"" + hookSaw.get(i) + "\""), recording.lines.get(i));
        }
        assertEquals(0, records.lost());
        assertNull(records.failure());
    }

    @Test
    void shouldReportTheFirstFailingSinkByNameAndSumWhatIsLost()
    {
        final RecordingSink healthy = new RecordingSink("file");
        final RecordingSink failing = new RecordingSink("kafka");
        final FlowRecords records = new FlowRecords(List.of(healthy, failing));
        assertTrue(records.flush());
        assertNull(records.failure());

        failing.failure = "broker unreachable";
        failing.lost = 7;
        healthy.lost = 2;
        assertFalse(records.flush(), "one sink could not deliver");
        assertEquals("kafka: broker unreachable", records.failure());
        assertEquals(9, records.lost());
        records.close();
        assertTrue(healthy.closed && failing.closed);

        final RecordingSink alone = new RecordingSink("file");
        alone.failure = "disk full";
        assertEquals("disk full", new FlowRecords(alone).failure(), "a single sink needs no name");
        assertThrows(IllegalArgumentException.class, () -> new FlowRecords(List.of()));
    }

    /** Keeps every line it is handed; fails and loses as the test says. */
    private static final class RecordingSink implements FlowRecordSink
    {
        private final String name;
        private final List<String> lines = new ArrayList<>();
        private String failure;
        private long lost;
        private boolean closed;

        RecordingSink(final String name)
        {
            this.name = name;
        }

        @Override
        public String name()
        {
            return name;
        }

        @Override
        public void write(final AsciiRecord record)
        {
            lines.add(new String(record.bytes(), 0, record.length(), StandardCharsets.US_ASCII) + "\n");
        }

        @Override
        public boolean flush()
        {
            return failure == null;
        }

        @Override
        public long written()
        {
            return lines.size();
        }

        @Override
        public long lost()
        {
            return lost;
        }

        @Override
        public String failure()
        {
            return failure;
        }

        @Override
        public void close()
        {
            closed = true;
        }
    }
}
