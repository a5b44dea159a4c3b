package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.decode.CaptureStats;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * An {@link AfPacketSource} feeding a live (lossy, multi-producer) {@link Pipeline}, the way {@code tracker run
 * --interface} wires them, started inside a namespace; and the single-threaded analysis of a capture file, to
 * compare with.
 *
 * <p>Checksums are not verified (like {@code zeek -C}): locally sent packets leave the stack before the NIC (here
 * the veth) would fill in their checksums, so every capture of them, tcpdump's included, sees partial checksums.
 * Packet time only (no clock thread), as in the offline analysis, so both give the same records.
 */
final class LiveCapture implements AutoCloseable
{
    static final ZeekOptions OPTIONS = ZeekOptions.builder().ignoreChecksums(true).build();
    private static final long SETTLE_POLL_MILLIS = 20;

    final AfPacketSource source;
    final Pipeline pipeline;
    /** Written by the pipeline's workers. */
    private final List<String> records;
    private boolean finished;

    private LiveCapture(final AfPacketSource source, final Pipeline pipeline, final List<String> records)
    {
        this.source = source;
        this.pipeline = pipeline;
        this.records = records;
    }

    /** Starts capturing in {@code namespace} (the sockets are created there). */
    static LiveCapture start(final String namespace, final AfPacketOptions options) throws Exception
    {
        return start(namespace, options, OPTIONS);
    }

    /** As {@link #start(String, AfPacketOptions)} with other Zeek options (e.g. checksums verified). */
    static LiveCapture start(final String namespace, final AfPacketOptions options, final ZeekOptions zeekOptions)
        throws Exception
    {
        final AfPacketSource source = new AfPacketSource(options);
        final List<String> lines = Collections.synchronizedList(new ArrayList<>());
        final Pipeline pipeline = new Pipeline(2, 1 << 14, false, source.deliveryThreads(), Lifecycle.ZEEK, zeekOptions,
            FlowLimits.builder().maxFlows(10_000).build(), null, worker ->
        {
            final FlowRecordFormat format = new FlowRecordFormat();
            return connection -> lines.add(format.format(connection).toString());
        });
        try
        {
            NetnsPair.call(namespace, 30, () ->
            {
                source.start(pipeline::sink);
                return null;
            });
        }
        catch (final Exception | Error e)
        {
            pipeline.finish();
            throw e;
        }
        return new LiveCapture(source, pipeline, lines);
    }

    /** Waits until {@code counter} reaches {@code expected} (or {@code timeoutMillis} passes); returns its value. */
    static long awaitCount(final LongSupplier counter, final long expected, final long timeoutMillis)
        throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        long value = counter.getAsLong();
        while (value < expected && System.nanoTime() - deadline < 0)
        {
            Thread.sleep(SETTLE_POLL_MILLIS);
            value = counter.getAsLong();
        }
        return value;
    }

    /** Closes the source, ends the pipeline (open connections end with end_of_input) and returns its records sorted. */
    List<String> finish()
    {
        if (!finished)
        {
            finished = true;
            source.close();
            pipeline.finish(EndReason.END_OF_INPUT);
        }
        final List<String> sorted;
        synchronized (records)
        {
            sorted = new ArrayList<>(records);
        }
        Collections.sort(sorted);
        return sorted;
    }

    @Override
    public void close()
    {
        finish();
    }

    /** The single-threaded analysis of a capture file with the same options: records sorted, and its counters. */
    record Offline(List<String> records, CaptureStats stats)
    {
    }

    static Offline analyze(final Path capture) throws IOException
    {
        return analyze(capture, OPTIONS);
    }

    static Offline analyze(final Path capture, final ZeekOptions zeekOptions) throws IOException
    {
        final FlowRecordFormat format = new FlowRecordFormat();
        final List<String> lines = new ArrayList<>();
        final OfflineAnalysis analysis =
            new OfflineAnalysis(c -> lines.add(format.format(c).toString()), Lifecycle.ZEEK, zeekOptions);
        CaptureReplay.read(capture, analysis);
        analysis.finish(EndReason.END_OF_INPUT);
        Collections.sort(lines);
        return new Offline(lines, analysis.stats());
    }
}
