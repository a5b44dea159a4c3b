package dev.flowtracker.ingest.source;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.IntFunction;

import static org.junit.jupiter.api.Assertions.fail;

/** Test tools for packet sources: frames copied out of sinks, a recording sink factory, reference analyses. */
public final class SourceFrames
{
    private SourceFrames()
    {
    }

    /** One frame, its bytes copied out. */
    public record Frame(byte[] data, int wireLength, int linkType, long timestampNanos, int interfaceId, int tunnelId)
    {
        /** The bytes as a map key (equality by content). */
        public ByteBuffer key()
        {
            return ByteBuffer.wrap(data);
        }

        @Override
        public boolean equals(final Object other)
        {
            return other instanceof Frame f && Arrays.equals(data, f.data) && wireLength == f.wireLength &&
                linkType == f.linkType && timestampNanos == f.timestampNanos && interfaceId == f.interfaceId &&
                tunnelId == f.tunnelId;
        }

        @Override
        public int hashCode()
        {
            return Arrays.hashCode(data) * 31 + Long.hashCode(timestampNanos);
        }

        @Override
        public String toString()
        {
            return "Frame[captured=" + data.length + ", wire=" + wireLength + ", linkType=" + linkType + ", ts=" +
                timestampNanos + ", if=" + interfaceId + ", tunnel=" + tunnelId + "]";
        }

        static Frame copy(final FrameDescriptor frame)
        {
            final byte[] data = new byte[frame.capturedLength()];
            MemorySegment.copy(frame.segment(), ValueLayout.JAVA_BYTE, frame.offset(), data, 0, data.length);
            return new Frame(data, frame.wireLength(), frame.linkType(), frame.timestampNanos(), frame.interfaceId(),
                frame.tunnelId());
        }
    }

    /** Every frame of a capture file, in order. */
    public static List<Frame> read(final Path capture) throws IOException
    {
        final List<Frame> frames = new ArrayList<>();
        CaptureReplay.read(capture, frame -> frames.add(Frame.copy(frame)));
        return frames;
    }

    /**
     * Builds the sinks a source asks for: each records the frames it is given (copied, unless told to only count)
     * and the threads that call it, and passes them on to downstream sinks (a pipeline's). Counts calls made after
     * {@link #markClosed}.
     */
    public static final class Recorder implements IntFunction<FrameSink>
    {
        private final boolean copy;
        private final IntFunction<FrameSink[]> downstream;
        private final Map<Integer, List<Frame>> frames = new ConcurrentHashMap<>();
        private final Map<Integer, Set<Thread>> threads = new ConcurrentHashMap<>();
        private final Map<Integer, AtomicInteger> sinksBuilt = new ConcurrentHashMap<>();
        private final AtomicLong calls = new AtomicLong();
        private final AtomicLong callsAfterClose = new AtomicLong();
        private volatile boolean closed;

        /** Records copies of the frames, passes them nowhere. */
        public Recorder()
        {
            this(true, i -> new FrameSink[0]);
        }

        /**
         * @param copy       whether to keep copies of the frames (false: only count them).
         * @param downstream the sinks each delivery thread's frames are passed on to, by thread index.
         */
        public Recorder(final boolean copy, final IntFunction<FrameSink[]> downstream)
        {
            this.copy = copy;
            this.downstream = downstream;
        }

        @Override
        public FrameSink apply(final int index)
        {
            sinksBuilt.computeIfAbsent(index, i -> new AtomicInteger()).incrementAndGet();
            final List<Frame> own = Collections.synchronizedList(new ArrayList<>());
            frames.put(index, own);
            final Set<Thread> callers = ConcurrentHashMap.newKeySet();
            threads.put(index, callers);
            final FrameSink[] next = downstream.apply(index);
            return frame ->
            {
                calls.incrementAndGet();
                if (closed)
                {
                    callsAfterClose.incrementAndGet();
                }
                callers.add(Thread.currentThread());
                if (copy)
                {
                    own.add(Frame.copy(frame));
                }
                for (final FrameSink sink : next)
                {
                    sink.onFrame(frame);
                }
            };
        }

        /** From now on every call is one too many. */
        public void markClosed()
        {
            closed = true;
        }

        /** Whether this recorder keeps copies of the frames. */
        public boolean copies()
        {
            return copy;
        }

        public long calls()
        {
            return calls.get();
        }

        public long callsAfterClose()
        {
            return callsAfterClose.get();
        }

        /** Sink index to the frames it was given, in order. */
        public Map<Integer, List<Frame>> frames()
        {
            return frames;
        }

        /** Sink index to the threads that called it. */
        public Map<Integer, Set<Thread>> threads()
        {
            return threads;
        }

        /** Sink index to how often the source asked for it. */
        public Map<Integer, AtomicInteger> sinksBuilt()
        {
            return sinksBuilt;
        }

        /** Every sink's frames, merged by timestamp, each sink's own order kept. */
        public List<Frame> merged()
        {
            final List<List<Frame>> lists = new ArrayList<>();
            for (final List<Frame> list : new TreeMap<>(frames).values())
            {
                synchronized (list)
                {
                    lists.add(new ArrayList<>(list));
                }
            }
            return merge(lists);
        }
    }

    /** A k-way merge by timestamp that keeps each list's own order (ties go to the lower list). */
    public static List<Frame> merge(final List<List<Frame>> lists)
    {
        final int[] next = new int[lists.size()];
        final List<Frame> out = new ArrayList<>();
        while (true)
        {
            int best = -1;
            for (int i = 0; i < lists.size(); i++)
            {
                if (next[i] < lists.get(i).size() && (best < 0 ||
                    lists.get(i).get(next[i]).timestampNanos() < lists.get(best).get(next[best]).timestampNanos()))
                {
                    best = i;
                }
            }
            if (best < 0)
            {
                return out;
            }
            out.add(lists.get(best).get(next[best]++));
        }
    }

    /** Records of the single-threaded analysis of these frames (tunnel ids included), sorted. */
    public static List<String> analyse(final List<Frame> frames, final Lifecycle lifecycle)
    {
        final FlowRecordFormat format = new FlowRecordFormat();
        final List<String> lines = new ArrayList<>();
        final OfflineAnalysis analysis =
            new OfflineAnalysis(c -> lines.add(format.format(c).toString()), lifecycle, ZeekOptions.DEFAULTS);
        final FrameDescriptor frame = new FrameDescriptor();
        for (final Frame f : frames)
        {
            analysis.onFrame(frame.wrap(MemorySegment.ofArray(f.data()), 0, f.data().length, f.wireLength())
                .linkType(f.linkType()).timestampNanos(f.timestampNanos()).interfaceId(f.interfaceId())
                .tunnelId(f.tunnelId()));
        }
        analysis.finish(EndReason.END_OF_INPUT);
        Collections.sort(lines);
        return lines;
    }

    /** Records of the single-threaded analysis of a capture file, sorted. */
    public static List<String> analyse(final Path capture, final Lifecycle lifecycle) throws IOException
    {
        final FlowRecordFormat format = new FlowRecordFormat();
        final List<String> lines = new ArrayList<>();
        final OfflineAnalysis analysis =
            new OfflineAnalysis(c -> lines.add(format.format(c).toString()), lifecycle, ZeekOptions.DEFAULTS);
        CaptureReplay.read(capture, analysis);
        analysis.finish(EndReason.END_OF_INPUT);
        Collections.sort(lines);
        return lines;
    }

    /** A pipeline fed by a source's delivery threads, collecting its records. */
    public static final class PipelineRun
    {
        private final Pipeline pipeline;
        private final List<String> lines = Collections.synchronizedList(new ArrayList<>());

        /**
         * Two workers, a ring large enough for a test, lossy when the source is live. One producer more than the
         * source has delivery threads: {@link #finish} is called from the test's thread, and a single-producer ring
         * (a lossless pipeline with one producer) must only ever see one thread. No clock thread, even for a live
         * source: worker time then moves with the frames only, as in the single-threaded analysis, so a slow
         * machine (more than Zeek's 5 s timers between a capture's last frame and the finish) cannot make the
         * records differ.
         */
        public PipelineRun(final PacketSource source, final Lifecycle lifecycle)
        {
            pipeline = new Pipeline(2, 1 << 15, !source.live(), source.deliveryThreads() + 1, lifecycle,
                ZeekOptions.DEFAULTS, FlowLimits.builder().build(), null, worker ->
            {
                final FlowRecordFormat format = new FlowRecordFormat();
                return c -> lines.add(format.format(c).toString());
            });
        }

        public FrameSink sink(final int producer)
        {
            return pipeline.sink(producer);
        }

        /** Finishes the pipeline (the source must have stopped delivering) and returns its records, sorted. */
        public List<String> finish()
        {
            pipeline.finish();
            if (pipeline.ringFullDrops() != 0)
            {
                fail("the pipeline's ring dropped " + pipeline.ringFullDrops() + " frames: records not comparable");
            }
            final List<String> sorted = new ArrayList<>(lines);
            Collections.sort(sorted);
            return sorted;
        }
    }

    /** Polls until {@code condition} holds; false when {@code timeoutMillis} passed first. */
    public static boolean await(final BooleanSupplier condition, final long timeoutMillis) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (!condition.getAsBoolean())
        {
            if (System.nanoTime() - deadline > 0)
            {
                return false;
            }
            Thread.sleep(1);
        }
        return true;
    }

    /** Equal lists, or a failure naming the counts and the first difference (records are long). */
    public static void assertSameRecords(final List<String> expected, final List<String> actual, final String what)
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

    /** Content multiset of frames: bytes to how often they occur. */
    public static Map<ByteBuffer, Integer> contents(final List<Frame> frames)
    {
        final Map<ByteBuffer, Integer> counts = new HashMap<>();
        for (final Frame f : frames)
        {
            counts.merge(f.key(), 1, Integer::sum);
        }
        return counts;
    }
}
