package dev.flowtracker.ingest.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Checkpoint and restart: replay part of a capture, shut down (open connections go into the checkpoint, not into
 * records), start a new pipeline on the same state directory, possibly with another worker count, replay the
 * rest: the records are exactly those of one uninterrupted run.
 */
class PipelineCheckpointTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final Path CORPUS = Path.of(System.getProperty("tracker.corpus", "../shared/corpus"), "pcaps");

    /** Passes on frames {@code from} (inclusive) to {@code to} (exclusive) of what it is offered. */
    private static final class FrameRange implements FrameSink
    {
        private final FrameSink next;
        private final long from;
        private final long to;
        private long index;

        FrameRange(final FrameSink next, final long from, final long to)
        {
            this.next = next;
            this.from = from;
            this.to = to;
        }

        @Override
        public void onFrame(final FrameDescriptor frame)
        {
            if (index >= from && index < to)
            {
                next.onFrame(frame);
            }
            index++;
        }
    }

    private static Pipeline pipeline(
        final int workers, final Lifecycle lifecycle, final Checkpointing checkpointing, final List<String> records)
    {
        return new Pipeline(workers, 1 << 10, true, lifecycle, ZeekOptions.DEFAULTS, FlowLimits.builder().build(),
            checkpointing, worker ->
            {
                final FlowRecordFormat format = new FlowRecordFormat();
                return c -> records.add(format.format(c).toString());
            });
    }

    private static void replay(final Path capture, final FrameSink sink) throws IOException
    {
        CaptureReplay.read(capture, sink);
    }

    private static long frames(final Path capture) throws IOException
    {
        final long[] count = new long[1];
        replay(capture, frame -> count[0]++);
        return count[0];
    }

    @ParameterizedTest(name = "{0} {1}, {2} then {3} workers")
    @CsvSource({
        "sample.pcap, ZEEK, 2, 2",
        "sample.pcap, TSHARK, 1, 3",
        "zeek/bench__echo-connections.pcap, ZEEK, 3, 1",
        "zeek/bench__echo-connections.pcap, TSHARK, 2, 3",
        "zeek/tcp__retransmit-fast009.pcap, ZEEK, 1, 2",
        "zeek/ssh__ssh.client-side-half-duplex.pcap, ZEEK, 3, 2"})
    void shouldContinueEveryConnectionAfterAGracefulRestart(
        final String name, final Lifecycle lifecycle, final int workersBefore, final int workersAfter,
        @TempDir final Path stateDir) throws IOException
    {
        final Path capture = name.equals("sample.pcap") ? SAMPLE : CORPUS.resolve(name);
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isRegularFile(capture),
            () -> "skipped: " + capture + " absent (shared corpus missing)");
        final long frames = frames(capture);

        final List<String> uninterrupted = Collections.synchronizedList(new ArrayList<>());
        final Pipeline whole = pipeline(2, lifecycle, null, uninterrupted);
        replay(capture, whole);
        whole.finish();

        final List<String> restarted = Collections.synchronizedList(new ArrayList<>());
        final long restored;
        try (CheckpointStore store = new CheckpointStore(stateDir))
        {
            final Pipeline first = pipeline(workersBefore, lifecycle, new Checkpointing(store, 0, false, () -> true),
                restarted);
            replay(capture, new FrameRange(first, 0, frames / 2));
            first.checkpoint(); // a periodic one in the middle, superseded by the final one
            first.finish(EndReason.SHUTDOWN);
            assertTrue(first.checkpoints().written() >= workersBefore,
                "final checkpoints: " + first.checkpoints().written());
        }
        try (CheckpointStore store = new CheckpointStore(stateDir))
        {
            final Pipeline second = pipeline(workersAfter, lifecycle, new Checkpointing(store, 0, false, () -> true),
                restarted);
            restored = second.checkpoints().restoredFlows();
            replay(capture, new FrameRange(second, frames / 2, Long.MAX_VALUE));
            second.finish(EndReason.END_OF_INPUT);
            assertEquals(0, second.checkpoints().failed(), second.checkpoints().failure());
            // Everything was written at the end of input: the checkpoints are empty, a third start restores nothing.
            for (final var info : store.list())
            {
                assertEquals(0, info.entries(), "shard " + info.shard() + " after the end of input");
            }
            assertTrue(store.list().stream().allMatch(info -> info.shard() < workersAfter),
                "shards of the first run's larger worker count are gone: " + store.list());
        }

        assertTrue(restored > 0, "the middle of the capture has open connections");
        final List<String> expected = new ArrayList<>(uninterrupted);
        final List<String> actual = new ArrayList<>(restarted);
        Collections.sort(expected);
        Collections.sort(actual);
        assertEquals(expected, actual, "records of the restarted run (" + restored + " connections restored)");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"garbage", "truncated"})
    void shouldRefuseToStartFromACorruptCheckpointWithAClearError(final String damage, @TempDir final Path stateDir)
        throws IOException
    {
        try (CheckpointStore store = new CheckpointStore(stateDir))
        {
            final Pipeline first = pipeline(1, Lifecycle.ZEEK, new Checkpointing(store, 0, false, () -> true),
                new ArrayList<>());
            replay(SAMPLE, new FrameRange(first, 0, 20));
            first.finish(EndReason.SHUTDOWN);
        }
        try (var files = Files.list(stateDir))
        {
            final Path data = files.filter(f -> f.getFileName().toString().endsWith(".cmap")).findFirst().orElseThrow();
            final byte[] bytes = Files.readAllBytes(data);
            Files.write(data, damage.equals("garbage") ? new byte[bytes.length] : java.util.Arrays.copyOf(bytes,
                bytes.length / 2));
        }
        try (CheckpointStore store = new CheckpointStore(stateDir))
        {
            final UncheckedIOException failure = assertThrows(UncheckedIOException.class,
                () -> pipeline(1, Lifecycle.ZEEK, new Checkpointing(store, 0, false, () -> true), new ArrayList<>()));
            assertTrue(failure.getCause().getMessage().contains(stateDir.toString()), failure.getCause().getMessage());
        }
    }
}
