package dev.flowtracker.ingest.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.output.AsciiRecord;
import dev.flowtracker.ingest.output.FlowRecordSink;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The runtime's one stop order: whatever started is stopped once, the pipeline's last records before the sinks. */
class TrackerRuntimeTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");

    private final PrintStream err = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);

    @Test
    void shouldCloseTheSinksOnceWhenNothingElseStarted()
    {
        final CountingSink sink = new CountingSink();
        final TrackerRuntime runtime = new TrackerRuntime("test", new FlowRecords(sink), err);
        runtime.closeRecords();
        runtime.close();
        runtime.close();
        assertEquals(1, sink.closes);
    }

    @Test
    void shouldFinishThePipelineBeforeTheSinksCloseWhenStoppedMidRun() throws IOException
    {
        final CountingSink sink = new CountingSink();
        try (TrackerRuntime runtime = new TrackerRuntime("test", new FlowRecords(sink), err))
        {
            final Pipeline pipeline = runtime.pipeline(records -> Pipeline.offline(1, 1 << 10, Lifecycle.ZEEK,
                ZeekOptions.DEFAULTS, FlowLimits.UNBOUNDED, records.fields(), records::listenerFor));
            CaptureReplay.read(SAMPLE, pipeline);
            assertEquals(0, sink.closes);
            // No finish: a command that failed half-way leaves it to close.
        }
        assertEquals(1, sink.closes);
        assertEquals(9, sink.lines.size());
        assertFalse(sink.writtenAfterClose);
    }

    @Test
    void shouldFindASinkByItsType()
    {
        final CountingSink counting = new CountingSink();
        final RecordWriter writer = RecordWriter.toStream(new ByteArrayOutputStream());
        try (TrackerRuntime runtime = new TrackerRuntime("test", new FlowRecords(List.of(counting, writer)), err))
        {
            assertSame(writer, runtime.sink(RecordWriter.class));
            assertSame(counting, runtime.sink(CountingSink.class));
        }
        final TrackerRuntime without = new TrackerRuntime("test", new FlowRecords(new CountingSink()), err);
        assertNull(without.sink(RecordWriter.class));
        without.close();
    }

    private static final class CountingSink implements FlowRecordSink
    {
        private final List<String> lines = new ArrayList<>();
        private int closes;
        private boolean writtenAfterClose;

        @Override
        public String name()
        {
            return "counting";
        }

        @Override
        public void write(final AsciiRecord record)
        {
            writtenAfterClose |= closes > 0;
            lines.add(new String(record.bytes(), 0, record.length(), StandardCharsets.US_ASCII));
        }

        @Override
        public boolean flush()
        {
            return true;
        }

        @Override
        public long written()
        {
            return lines.size();
        }

        @Override
        public long lost()
        {
            return 0;
        }

        @Override
        public String failure()
        {
            return null;
        }

        @Override
        public void close()
        {
            closes++;
        }
    }
}
