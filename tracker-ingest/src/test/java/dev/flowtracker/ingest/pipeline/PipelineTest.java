package dev.flowtracker.ingest.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.file.CaptureFormatException;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/** The streaming pipeline: same records whatever the worker count, and its backpressure policies. */
class PipelineTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final FlowLimits DEFAULT_LIMITS = FlowLimits.builder().build();

    /** Records of the single-threaded analysis, sorted; a capture that is cut short keeps what was read. */
    private static List<String> offline(final Path capture, final Lifecycle lifecycle) throws IOException
    {
        final FlowRecordFormat format = new FlowRecordFormat();
        final List<String> lines = new ArrayList<>();
        final OfflineAnalysis analysis =
            new OfflineAnalysis(c -> lines.add(format.format(c).toString()), lifecycle, ZeekOptions.DEFAULTS);
        try
        {
            CaptureReplay.read(capture, analysis);
        }
        catch (final CaptureFormatException e)
        {
            // a truncated corpus file: compare what both read before the fault
        }
        analysis.finish(EndReason.END_OF_INPUT);
        Collections.sort(lines);
        return lines;
    }

    /** Records of the pipeline, sorted, and how many connections its flow tables removed on their own. */
    record Pipelined(List<String> records, long removedByTable, long timerCapHits)
    {
    }

    /** Which ring: the shared one {@code run} builds, or {@link Pipeline#offline}'s (analyze) of the given size. */
    private static Pipeline pipeline(
        final boolean offlineRing, final int ringSize, final Lifecycle lifecycle, final int workers,
        final List<String> lines)
    {
        final IntFunction<ConnectionListener> listeners = worker ->
        {
            final FlowRecordFormat format = new FlowRecordFormat();
            return c -> lines.add(format.format(c).toString());
        };
        return offlineRing ?
            Pipeline.offline(workers, ringSize, lifecycle, ZeekOptions.DEFAULTS, DEFAULT_LIMITS, listeners) :
            new Pipeline(workers, ringSize, true, lifecycle, ZeekOptions.DEFAULTS, DEFAULT_LIMITS, listeners);
    }

    private static Pipelined pipelined(final Path capture, final Lifecycle lifecycle, final int workers)
        throws IOException
    {
        // One worker on the shared ring, three on the offline one: each kind checks the other.
        return pipelined(capture, lifecycle, workers, workers > 1, 1 << 10);
    }

    private static Pipelined pipelined(
        final Path capture, final Lifecycle lifecycle, final int workers, final boolean offlineRing,
        final int ringSize) throws IOException
    {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        final Pipeline pipeline = pipeline(offlineRing, ringSize, lifecycle, workers, lines);
        try
        {
            CaptureReplay.read(capture, pipeline);
        }
        catch (final CaptureFormatException e)
        {
            // a truncated corpus file: compare what both read before the fault
        }
        pipeline.finish();
        final List<String> sorted = new ArrayList<>(lines);
        Collections.sort(sorted);
        long removed = 0;
        for (final FlowRemoval removal : FlowRemoval.values())
        {
            removed += pipeline.totals().flowsRemoved(removal);
        }
        return new Pipelined(sorted, removed, pipeline.totals().timerCapHits());
    }

    /**
     * The sample, the snaplen conformance captures kept in this repository (frames cut inside their TCP headers,
     * whose flags go uncounted: the ring must carry what says so), and every capture of the shared corpus when it is
     * present.
     */
    private static List<Path> captures() throws IOException
    {
        final List<Path> captures = new ArrayList<>(List.of(SAMPLE));
        try (Stream<Path> files = Files.list(snaplenCaptures()))
        {
            files.filter(Files::isRegularFile).sorted().forEach(captures::add);
        }
        final Path corpus = Path.of(System.getProperty("tracker.corpus", "../shared/corpus"), "pcaps");
        if (!Files.isDirectory(corpus))
        {
            System.out.println("PipelineTest: " + corpus + " absent (shared corpus missing): only the sample and the " +
                "snaplen captures compared");
            return captures;
        }
        try (Stream<Path> files = Files.walk(corpus))
        {
            files.filter(Files::isRegularFile).sorted().forEach(captures::add);
        }
        return captures;
    }

    /** tracker-ingest's test resource conformance/snaplen/pcaps. */
    private static Path snaplenCaptures()
    {
        final URL resource = Objects.requireNonNull(PipelineTest.class.getResource("/conformance/snaplen/pcaps"),
            "test resource conformance/snaplen/pcaps is missing from the class path");
        try
        {
            return Path.of(resource.toURI());
        }
        catch (final URISyntaxException e)
        {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Determinism: for every capture and both lifecycles, one worker and three workers give the same records,
     * except where Zeek's per-packet timer cap bit (Zeek applies it to one event loop, each shard here to its own
     * timers; reported). Where the bounded flow table removed nothing on its own (no idle timeout or eviction, which
     * the unbounded single-threaded analysis does not have), they also equal the single-threaded analysis.
     */
    @Test
    void shouldWriteTheSameRecordsWithOneOrThreeWorkersAsTheSingleThreadedAnalysis() throws IOException
    {
        int compared = 0;
        int comparedWithAnalysis = 0;
        final List<String> timerCapped = new ArrayList<>();
        for (final Path capture : captures())
        {
            for (final Lifecycle lifecycle : Lifecycle.values())
            {
                final Pipelined one = pipelined(capture, lifecycle, 1);
                final Pipelined three = pipelined(capture, lifecycle, 3);
                if (one.timerCapHits() > 0 || three.timerCapHits() > 0)
                {
                    timerCapped.add(capture.getFileName() + " " + lifecycle + " (" + one.timerCapHits() + " / " +
                        three.timerCapHits() + " capped packets)");
                    continue;
                }
                assertSameRecords(one.records(), three.records(), capture + " " + lifecycle + ": 1 vs 3 workers");
                assertEquals(one.removedByTable(), three.removedByTable(), capture + " " + lifecycle);
                compared++;
                if (one.removedByTable() == 0)
                {
                    assertSameRecords(offline(capture, lifecycle), one.records(), capture + " " + lifecycle +
                        ": analyze vs 1 worker");
                    comparedWithAnalysis++;
                }
            }
        }
        System.out.println("PipelineTest: " + compared + " capture x lifecycle runs identical with 1 and 3 workers; " +
            comparedWithAnalysis + " also identical to the single-threaded analysis (the rest had idle timeouts); " +
            "not compared, Zeek's timer cap bit: " + timerCapped);
        assertTrue(comparedWithAnalysis > 0);
        assertTrue(timerCapped.size() <= 2, "the timer cap should be rare: " + timerCapped);
    }

    /**
     * The offline ring holds up to {@link Pipeline#PUBLISH_BATCH} events back: the smallest ring it accepts (two
     * batches, so the producer wraps and waits for the workers while it holds events) loses and delays nothing.
     */
    @Test
    void shouldWriteTheSameRecordsThroughTheSmallestOfflineRing() throws IOException
    {
        final Path capture = largestCapture();
        for (final int workers : new int[] {1, 2})
        {
            assertSameRecords(pipelined(capture, Lifecycle.ZEEK, 1, false, 1 << 10).records(),
                pipelined(capture, Lifecycle.ZEEK, workers, true, 2 * Pipeline.PUBLISH_BATCH).records(),
                capture + ": shared ring vs the smallest offline ring, " + workers + " workers");
        }
        assertThrows(IllegalArgumentException.class, () -> pipeline(true, Pipeline.PUBLISH_BATCH, Lifecycle.ZEEK, 1,
            new ArrayList<>()), "a ring smaller than two batches");
    }

    @Test
    void shouldRefuseFlowQueriesOnAnOfflinePipeline()
    {
        final Pipeline pipeline = pipeline(true, 1 << 10, Lifecycle.ZEEK, 1, new ArrayList<>());
        try
        {
            assertThrows(IllegalStateException.class, () -> pipeline.query(FlowQuery.byUid("C0", 1)));
        }
        finally
        {
            pipeline.finish();
        }
    }

    /** The corpus's largest capture when present (many wraps of a small ring), else the sample. */
    private static Path largestCapture() throws IOException
    {
        Path largest = SAMPLE;
        for (final Path capture : captures())
        {
            if (Files.size(capture) > Files.size(largest) && Files.size(capture) < 20_000_000)
            {
                largest = capture;
            }
        }
        return largest;
    }

    /** Equal lists, or a failure naming the counts and the first difference (records are long). */
    private static void assertSameRecords(final List<String> expected, final List<String> actual, final String what)
    {
        if (expected.equals(actual))
        {
            return;
        }
        int i = 0;
        while (i < Math.min(expected.size(), actual.size()) && expected.get(i).equals(actual.get(i)))
        {
            i++;
        }
        fail(what + ": " + expected.size() + " vs " + actual.size() + " records; first difference at " + i + ":\n" +
            (i < expected.size() ? expected.get(i) : "(none)") + "\n" + (i < actual.size() ? actual.get(i) : "(none)"));
    }

    @Test
    void shouldDropAndCountFramesWhenALossyRingIsFull() throws InterruptedException
    {
        final CountDownLatch workerStuck = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        // The attempt timer ends the first connection 5 s into the trace; its listener then holds the worker.
        final Pipeline pipeline = new Pipeline(1, 8, false, Lifecycle.ZEEK, ZeekOptions.DEFAULTS, DEFAULT_LIMITS,
            worker -> c ->
        {
            workerStuck.countDown();
            try
            {
                release.await(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        });
        final byte[] syn = tcpSyn();
        final FrameDescriptor frame =
            new FrameDescriptor().wrap(MemorySegment.ofArray(syn), 0, syn.length, syn.length).linkType(101);
        pipeline.onFrame(frame.timestampNanos(0));
        pipeline.onFrame(frame.timestampNanos(TimeUnit.SECONDS.toNanos(6)));
        assertTrue(workerStuck.await(10, TimeUnit.SECONDS), "worker did not reach the listener");
        final int offered = 100;
        for (int i = 0; i < offered; i++)
        {
            pipeline.onFrame(frame.timestampNanos(TimeUnit.SECONDS.toNanos(7)));
        }
        final long dropped = pipeline.ringFullDrops();
        release.countDown();
        pipeline.finish();
        // Eight slots: at most eight of the hundred frames found room while the worker was held.
        assertTrue(dropped >= offered - 8 && dropped <= offered, "dropped " + dropped);
        assertEquals(offered + 2, pipeline.stats().frames(), "every frame is counted, dropped or not");
    }

    @Test
    void shouldRejectBadSizes()
    {
        assertThrows(IllegalArgumentException.class,
            () -> new Pipeline(0, 8, true, Lifecycle.ZEEK, ZeekOptions.DEFAULTS, DEFAULT_LIMITS, w -> c -> { }));
        assertThrows(IllegalArgumentException.class,
            () -> new Pipeline(1, 12, true, Lifecycle.ZEEK, ZeekOptions.DEFAULTS, DEFAULT_LIMITS, w -> c -> { }));
    }

    /** A raw IPv4 (link type 101) TCP SYN with correct checksums, 10.0.0.1:40000 -> 10.0.0.2:80. */
    private static byte[] tcpSyn()
    {
        final byte[] p = new byte[40];
        p[0] = 0x45;
        p[3] = 40;
        p[8] = 64;
        p[9] = 6;
        p[12] = 10;
        p[15] = 1;
        p[16] = 10;
        p[19] = 2;
        p[20] = (byte)(40000 >>> 8);
        p[21] = (byte)40000;
        p[23] = 80;
        p[27] = 1;
        p[32] = 0x50;
        p[33] = 0x02;
        p[34] = (byte)0xFF;
        p[35] = (byte)0xFF;
        put16(p, 10, ~sum(p, 0, 20, 0) & 0xFFFF);
        final long pseudo = 0x0A00 + 0x0001 + 0x0A00 + 0x0002 + 6 + 20;
        put16(p, 36, ~sum(p, 20, 20, pseudo) & 0xFFFF);
        return p;
    }

    private static int sum(final byte[] p, final int offset, final int length, final long initial)
    {
        long s = initial;
        for (int i = 0; i < length; i += 2)
        {
            s += ((p[offset + i] & 0xFF) << 8) | (p[offset + i + 1] & 0xFF);
        }
        while ((s >>> 16) != 0)
        {
            s = (s & 0xFFFF) + (s >>> 16);
        }
        return (int)s;
    }

    private static void put16(final byte[] p, final int offset, final int value)
    {
        p[offset] = (byte)(value >>> 8);
        p[offset + 1] = (byte)value;
    }
}
