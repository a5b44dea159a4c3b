package dev.flowtracker.ingest.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.capture.CaptureFiles;
import dev.flowtracker.ingest.capture.CaptureReader;
import dev.flowtracker.ingest.output.FlowRecordFormat;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The streaming pipeline: same records whatever the worker count, and its backpressure policies. */
class PipelineTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    /** Corpus captures with many connections, port reuse and tunnels, when the shared corpus is present. */
    private static final List<String> CORPUS_CAPTURES = List.of(
        "pcaps/zeek/bench__echo-connections.pcap", "pcaps/zeek/ssh__ssh.client-side-half-duplex.pcap",
        "pcaps/zeek/llc.pcap", "pcaps/zeek/tunnels__gtp__gtp1_gn_normal_incl_fragmentation.pcap");

    private static List<String> offline(final Path capture, final Lifecycle lifecycle) throws IOException
    {
        final FlowRecordFormat format = new FlowRecordFormat();
        final List<String> lines = new ArrayList<>();
        final OfflineAnalysis analysis =
            new OfflineAnalysis(c -> lines.add(format.format(c).toString()), lifecycle, ZeekOptions.DEFAULTS);
        try (CaptureReader reader = CaptureFiles.open(capture))
        {
            analysis.read(reader, null);
        }
        analysis.finish(EndReason.END_OF_INPUT);
        Collections.sort(lines);
        return lines;
    }

    private static List<String> pipelined(final Path capture, final Lifecycle lifecycle, final int workers)
        throws IOException
    {
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        final Pipeline pipeline = new Pipeline(workers, 1 << 10, true, lifecycle, ZeekOptions.DEFAULTS, worker ->
        {
            final FlowRecordFormat format = new FlowRecordFormat();
            return c -> lines.add(format.format(c).toString());
        });
        try (CaptureReader reader = CaptureFiles.open(capture))
        {
            while (reader.read(pipeline, 4096) > 0)
            {
                // all of it
            }
        }
        pipeline.finish();
        final List<String> sorted = new ArrayList<>(lines);
        Collections.sort(sorted);
        return sorted;
    }

    private static List<Path> captures()
    {
        final List<Path> captures = new ArrayList<>(List.of(SAMPLE));
        final Path corpus = Path.of(System.getProperty("tracker.corpus", "../shared/corpus"));
        for (final String relative : CORPUS_CAPTURES)
        {
            final Path capture = corpus.resolve(relative);
            if (Files.isRegularFile(capture))
            {
                captures.add(capture);
            }
            else
            {
                System.out.println("PipelineTest: " + capture + " absent (shared corpus missing), not compared");
            }
        }
        return captures;
    }

    @Test
    void shouldWriteTheSameRecordsWithOneOrThreeWorkersAsTheSingleThreadedAnalysis() throws IOException
    {
        for (final Path capture : captures())
        {
            for (final Lifecycle lifecycle : Lifecycle.values())
            {
                final List<String> expected = offline(capture, lifecycle);
                assertFalse(expected.isEmpty(), capture.toString());
                assertEquals(expected, pipelined(capture, lifecycle, 1), capture + " " + lifecycle + ", 1 worker");
                assertEquals(expected, pipelined(capture, lifecycle, 3), capture + " " + lifecycle + ", 3 workers");
            }
        }
    }

    @Test
    void shouldDropAndCountFramesWhenALossyRingIsFull() throws InterruptedException
    {
        final CountDownLatch workerStuck = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        // The attempt timer ends the first connection 5 s into the trace; its listener then holds the worker.
        final Pipeline pipeline = new Pipeline(1, 8, false, Lifecycle.ZEEK, ZeekOptions.DEFAULTS, worker -> c ->
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
        final MemorySegment frame = MemorySegment.ofArray(syn);
        pipeline.onFrame(frame, 0, syn.length, syn.length, 101, 0, 0);
        pipeline.onFrame(frame, 0, syn.length, syn.length, 101, TimeUnit.SECONDS.toNanos(6), 0);
        assertTrue(workerStuck.await(10, TimeUnit.SECONDS), "worker did not reach the listener");
        final int offered = 100;
        for (int i = 0; i < offered; i++)
        {
            pipeline.onFrame(frame, 0, syn.length, syn.length, 101, TimeUnit.SECONDS.toNanos(7), 0);
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
            () -> new Pipeline(0, 8, true, Lifecycle.ZEEK, ZeekOptions.DEFAULTS, w -> c -> { }));
        assertThrows(IllegalArgumentException.class,
            () -> new Pipeline(1, 12, true, Lifecycle.ZEEK, ZeekOptions.DEFAULTS, w -> c -> { }));
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
