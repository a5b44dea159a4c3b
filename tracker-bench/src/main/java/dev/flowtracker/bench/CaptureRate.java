package dev.flowtracker.bench;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.SourceException;
import dev.flowtracker.ingest.source.afpacket.AfPacketOptions;
import dev.flowtracker.ingest.source.afpacket.AfPacketSource;
import dev.flowtracker.ingest.source.afpacket.KernelStats;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

/**
 * The capture side of {@code tracker-bench/scripts/capture-rate.sh}: captures on one interface with
 * {@link AfPacketSource}; each {@code report} line on standard input prints one line of running totals
 * ({@code frames=... kernel_packets=... kernel_drops=...}) once the ring has settled, and the end of input stops it
 * (final totals). One process serves several generator runs, so the runs measure a warmed-up JVM. Not a JMH
 * benchmark: the rate is set by the generator (tcpreplay), and what is measured is whether anything was lost.
 *
 * <pre>
 *   tcpreplay --pps R -> veth cr0 ==> veth cr1 -> AF_PACKET ring -> event loop -> sink
 *                                                                  count: a counter per frame, as tcpdump -w /dev/null
 *                                                                  pipeline: decode, Disruptor ring, 1 worker tracking
 * </pre>
 *
 * <p>Usage: {@code CaptureRate INTERFACE count|pipeline [--no-filter] [--fanout N] [--blocks N] [--block-size N]}.
 * Prints {@code ready} on standard output once capturing. Counting: {@code count} mode counts in the sink (one
 * counter per delivery thread), {@code pipeline} mode counts connection records.
 */
public final class CaptureRate
{
    private static final long SETTLE_POLL_MILLIS = 100;

    private CaptureRate()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        if (args.length < 2 || !(args[1].equals("count") || args[1].equals("pipeline")))
        {
            System.err.println("usage: CaptureRate INTERFACE count|pipeline [--no-filter] [--fanout N] " +
                "[--blocks N] [--block-size N]");
            System.exit(2);
        }
        final AfPacketOptions.Builder builder = AfPacketOptions.builder().addInterface(args[0]);
        for (int i = 2; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--no-filter" -> builder.tcpOnlyFilter(false);
                case "--fanout" -> builder.fanout(Integer.parseInt(args[++i]));
                case "--blocks" -> builder.blockCount(Integer.parseInt(args[++i]));
                case "--block-size" -> builder.blockSize(Long.parseLong(args[++i]));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        final AfPacketSource source = new AfPacketSource(builder.build());
        final boolean pipelined = args[1].equals("pipeline");
        final AtomicLong records = new AtomicLong();
        final Pipeline pipeline = pipelined ? new Pipeline(1, 1 << 16, false, source.deliveryThreads(),
            Lifecycle.ZEEK, ZeekOptions.builder().ignoreChecksums(true).build(), FlowLimits.builder().build(), null,
            worker -> connection -> records.incrementAndGet()) : null;
        // One counter per delivery thread, read by the report after the threads stopped.
        final long[][] counted = new long[source.deliveryThreads()][1];
        final IntFunction<FrameSink> sinks = pipelined ? pipeline::sink : thread -> frame -> counted[thread][0]++;
        try
        {
            source.start(sinks);
        }
        catch (final SourceException e)
        {
            System.err.println(e.getMessage());
            System.exit(1);
        }
        System.out.println("ready");
        System.out.flush();
        // One command per line on standard input: "report" prints the totals so far (once the ring has settled);
        // the end of input stops the capture and prints the final totals.
        final BufferedReader commands = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        for (String line; (line = commands.readLine()) != null; )
        {
            if (line.strip().equals("report"))
            {
                settle(source);
                report(source, pipeline, counted, records.get());
            }
        }
        settle(source);
        source.close();
        if (pipeline != null)
        {
            pipeline.finish(EndReason.SHUTDOWN);
        }
        report(source, pipeline, counted, records.get());
    }

    private static void report(final AfPacketSource source, final Pipeline pipeline, final long[][] counted,
        final long records)
    {
        final KernelStats kernel = source.kernelStats();
        long sinkFrames = 0;
        for (final long[] count : counted)
        {
            sinkFrames += count[0]; // racy read of the loop threads' counters: a moment stale at most
        }
        System.out.printf(Locale.ROOT, "frames=%d sink_frames=%d kernel_packets=%d kernel_drops=%d " +
            "kernel_freezes=%d ring_full_drops=%d records=%d%n", source.frames(), sinkFrames, kernel.packets(),
            kernel.drops(), kernel.freezes(), pipeline == null ? 0 : pipeline.ringFullDrops(), records);
        System.out.flush();
    }

    /** Waits until the frame count stops moving (the kernel retires the last block after its timeout). */
    private static void settle(final AfPacketSource source)
    {
        long before = -1;
        long now = source.frames();
        while (now != before)
        {
            before = now;
            try
            {
                Thread.sleep(SETTLE_POLL_MILLIS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                return;
            }
            now = source.frames();
        }
    }
}
