package dev.flowtracker.bench.harness;

import dev.flowtracker.bench.capture.FrameOutput;
import dev.flowtracker.bench.capture.SyntheticCapture;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.FrameDescriptor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * Bytes of flow state per tracked flow, in process: {@code analyze}'s pipeline (same workers, ring, lifecycle,
 * unbounded tables) is fed N concurrent flows (the {@code flows} synthetic capture's frames, made in memory, each
 * a completed handshake, none closed) and the live heap after a full GC, plus the flow tables' off-heap bytes, is
 * compared with the same pipeline before the first frame. This is the state itself, without the garbage and head
 * room a collector keeps (the harness measures the whole process's RSS beside it).
 *
 * <p>Before filling a large N it measures the first 100,000 flows and stops, exit status 3, with the estimate, when
 * the rest would not fit {@code -Xmx}, or (the flow state being off-heap) the direct-memory limit or the memory the
 * machine has: a clean "does not fit" instead of minutes of GC thrashing or an OutOfMemoryError.
 *
 * <pre>
 * usage: FlowFootprint [--flows N (10000000)] [--workers W (cores - 1)] [--ipv6]
 * </pre>
 * Prints one line of {@code key=value} pairs that the harness reads. Single-threaded (plus the pipeline's threads).
 */
public final class FlowFootprint
{
    static final int DOES_NOT_FIT = 3;
    private static final int FIT_SAMPLE = 100_000;
    private static final int RING_SIZE = 1 << 16;
    private static final int LINKTYPE_ETHERNET = 1;

    private FlowFootprint()
    {
    }

    public static void main(final String[] args) throws IOException
    {
        long flows = 10_000_000;
        int workers = Pipeline.defaultWorkers();
        boolean ipv6 = false;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--flows" -> flows = Long.parseLong(args[++i].replace("_", ""));
                case "--workers" -> workers = Integer.parseInt(args[++i]);
                case "--ipv6" -> ipv6 = true;
                default ->
                {
                    System.err.println("usage: FlowFootprint [--flows N] [--workers W] [--ipv6]");
                    System.exit(2);
                }
            }
        }
        System.exit(measure(flows, workers, ipv6));
    }

    private static int measure(final long flows, final int workers, final boolean ipv6) throws IOException
    {
        final AtomicLong records = new AtomicLong();
        final Pipeline pipeline = new Pipeline(workers, RING_SIZE, true, 1, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
            FlowLimits.UNBOUNDED, null, worker -> connection -> records.incrementAndGet());
        final long heapBefore = liveHeap();
        final long rssBefore = residentSetBytes();
        final long start = System.nanoTime();
        final Feeder feeder = new Feeder(pipeline, flows, flows > 2L * FIT_SAMPLE ? 3L * FIT_SAMPLE : -1);
        try
        {
            SyntheticCapture.concurrentFlows(feeder, flows, ipv6, false, 1_000, 1);
        }
        catch (final DoesNotFit e)
        {
            System.out.println(e.getMessage());
            return DOES_NOT_FIT;
        }
        awaitSegments(pipeline, 3 * flows);
        final long heapAfter = liveHeap();
        final long rssAfter = residentSetBytes();
        // Nothing has ended yet (no record written), so every connection created is open.
        final long open = pipeline.totals().connectionsCreated() - records.get();
        final long offHeap = pipeline.totals().flowTableOffHeapBytes();
        final double perFlow = (double)(heapAfter - heapBefore + offHeap) / flows;
        System.out.printf(Locale.ROOT, "FlowFootprint: flows=%d open=%d workers=%d live_heap_bytes=%d" +
                " off_heap_bytes=%d bytes_per_flow=%.1f rss_before=%d rss_after=%d max_heap=%d seconds=%.1f%n",
            flows, open, workers, heapAfter - heapBefore, offHeap, perFlow, rssBefore, rssAfter,
            Runtime.getRuntime().maxMemory(), (System.nanoTime() - start) / 1e9);
        pipeline.finish(EndReason.END_OF_INPUT);
        if (open != flows || records.get() != flows)
        {
            System.out.printf("FlowFootprint: expected %,d open flows and records, saw %,d open and %,d records%n",
                flows, open, records.get());
            return 1;
        }
        return 0;
    }

    /** Feeds generated frames to the pipeline; after {@code checkAt} frames, checks that the rest will fit. */
    private static final class Feeder implements FrameOutput
    {
        private final Pipeline pipeline;
        private final long checkAt;
        private final long heapAtStart;
        private final long offHeapAtStart;
        private byte[] wrapped;
        private MemorySegment segment;
        private final FrameDescriptor descriptor = new FrameDescriptor().linkType(LINKTYPE_ETHERNET).interfaceId(0);
        private final long flows;
        private long frames;

        Feeder(final Pipeline pipeline, final long flows, final long checkAt)
        {
            this.pipeline = pipeline;
            this.flows = flows;
            this.checkAt = checkAt;
            this.heapAtStart = checkAt > 0 ? liveHeap() : 0;
            this.offHeapAtStart = pipeline.totals().flowTableOffHeapBytes();
        }

        @Override
        public void write(
            final long timestampNanos, final byte[] frame, final int offset, final int capturedLength,
            final int wireLength)
        {
            if (frame != wrapped)
            {
                wrapped = frame; // the generator reuses one buffer: wrap it once
                segment = MemorySegment.ofArray(frame);
            }
            pipeline.onFrame(
                descriptor.wrap(segment, offset, capturedLength, wireLength).timestampNanos(timestampNanos));
            if (++frames == checkAt)
            {
                awaitSegments(pipeline, frames);
                // Flow state is mostly off-heap: both must fit, the off-heap part within the direct-memory limit
                // and the memory the machine has.
                final double heapPerFlow = (double)(liveHeap() - heapAtStart) / (checkAt / 3);
                final double offHeapPerFlow =
                    (double)(pipeline.totals().flowTableOffHeapBytes() - offHeapAtStart) / (checkAt / 3);
                final Runtime runtime = Runtime.getRuntime();
                final double heapNeeded = heapPerFlow * flows;
                final double offHeapNeeded = offHeapPerFlow * flows;
                final long left = runtime.maxMemory() - heapAtStart;
                final long offHeapLeft = Math.min(Machine.memAvailableBytes(), FlowLimits.jvmDirectMemoryLimit());
                if (heapNeeded > 0.9 * left || offHeapNeeded > 0.9 * offHeapLeft)
                {
                    throw new DoesNotFit(String.format(Locale.ROOT, "FlowFootprint: does_not_fit=true" +
                        " bytes_per_flow_sample=%.1f sample_flows=%d needed_bytes=%.0f max_heap=%d" +
                        " off_heap_left=%d", heapPerFlow + offHeapPerFlow, checkAt / 3, heapNeeded + offHeapNeeded,
                        runtime.maxMemory(), offHeapLeft));
                }
            }
        }
    }

    /** Stops the generator when the table would not fit. */
    private static final class DoesNotFit extends RuntimeException
    {
        private static final long serialVersionUID = 1L;

        DoesNotFit(final String message)
        {
            super(message, null, false, false);
        }
    }

    /** Waits until the workers have tracked {@code segments} segments (the ring drained that far). */
    static void awaitSegments(final Pipeline pipeline, final long segments)
    {
        while (true)
        {
            if (pipeline.totals().segments() >= segments)
            {
                return;
            }
            LockSupport.parkNanos(1_000_000);
        }
    }

    /** Heap in use after full collections (ParallelGC's System.gc is a full one): live objects. */
    static long liveHeap()
    {
        for (int i = 0; i < 3; i++)
        {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    /** VmRSS of this process, or -1 off Linux. */
    static long residentSetBytes()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
            {
                if (line.startsWith("VmRSS:"))
                {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        }
        catch (final IOException | NumberFormatException e)
        {
            return -1;
        }
        return -1;
    }
}
