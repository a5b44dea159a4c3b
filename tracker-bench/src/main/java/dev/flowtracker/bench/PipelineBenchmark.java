package dev.flowtracker.bench;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.decode.FrameIntake;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.file.CaptureReplay;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * The whole in-process pipeline, in packets per second: a capture's frames, held in memory, replayed into
 * {@link Pipeline} as {@code tracker analyze} builds it (decode on this thread into the Disruptor ring, shard
 * workers tracking with the whole engine, Zeek's lifecycle, checksums verified, each finished connection formatted
 * as a JSON record and handed to a {@link RecordWriter} thread that writes to nowhere).
 *
 * <pre>
 *   JMH thread                     ring (65,536)          worker threads (workers)      writer thread
 *  +-----------------------+     +---------------+     +------------------------+     +----------------+
 *  | frames in memory, one |---->| PacketEvent[] |---->| track, format records  |---->| RecordWriter   |
 *  | pass per op: decode,  |     | lossless:     |     | of ended connections   |     | to a null      |
 *  | defragment, publish   |     | producer waits|     |                        |     | stream         |
 *  +-----------------------+     +---------------+     +------------------------+     +----------------+
 * </pre>
 *
 * One op is one pass over the capture; the {@code packets} counter is the rate that matters (frames/s). Every pass
 * is shifted in time by the capture's duration plus two hours, so the previous pass's connections have all ended
 * by Zeek's timers (and been written) before the same 4-tuples come again: every pass is fresh traffic. The
 * producer can run at most one ring ahead of the workers, so over an iteration of a few million packets the rate
 * is the slower side's to within a few per cent. With {@code -prof gc}, {@code gc.alloc.rate.norm} is bytes per
 * pass, all threads: divide by the frames per pass that setup prints (records allocate per connection).
 *
 * <p>Baselines beside it, same frames (the two that track connections get the same shifts):
 * <ul>
 *   <li>{@link #offlineAnalysisOneThread}: {@link OfflineAnalysis} (decode and track on this one thread, records
 *       formatted, no ring, no writer thread): what the ring and the workers cost or gain.</li>
 *   <li>{@link #decodeOnly}: the producer's share alone ({@link FrameIntake}: decode, checksums, defragment).</li>
 *   <li>{@link #readOnly}: a bare loop that touches every frame, the in-process read-loop limit.</li>
 * </ul>
 * Run: {@code java -jar tracker-bench/target/benchmarks.jar PipelineBenchmark -p capture=FILE -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-XX:+UseParallelGC"})
public class PipelineBenchmark
{
    private static final long PASS_GAP_NANOS = TimeUnit.HOURS.toNanos(2);

    @Param("samples/sample.pcap")
    public String capture;

    private Frames frames;
    private long passShift;
    private long shift;
    /** Every frame replayed, in turn (the benchmark thread's). */
    private final FrameDescriptor replayed = new FrameDescriptor();

    @Setup(Level.Trial)
    public void load() throws IOException
    {
        frames = Frames.load(Path.of(capture));
        passShift = frames.durationNanos + PASS_GAP_NANOS;
        System.out.printf("%nPipelineBenchmark: %,d frames (%,d bytes) per pass from %s%n", frames.count,
            frames.bytes, capture);
    }

    @TearDown(Level.Trial)
    public void unload()
    {
        frames.close();
    }

    /** Frames per second, JMH's secondary result {@code packets}. Reset every iteration. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Packets
    {
        public long packets;

        @Setup(Level.Iteration)
        public void reset()
        {
            packets = 0;
        }
    }

    /** The pipeline, built once per trial (its threads live through every iteration), finished at the end. */
    @State(Scope.Thread)
    public static class PipelineState
    {
        @Param("1")
        public int workers;

        /**
         * {@code offline}: the pipeline {@code analyze} builds ({@link Pipeline#offline}: one producer publishing
         * in batches); {@code shared}: the one {@code run} builds, whose ring any thread may publish to, one event
         * at a time.
         */
        @Param({"offline", "shared"})
        public String ring;

        /** Ring slots ({@code analyze} and {@code run} use 65,536). */
        @Param("65536")
        public int ringSize;

        private Pipeline pipeline;
        private FlowRecords records;

        @Setup(Level.Trial)
        public void start()
        {
            records = new FlowRecords(RecordWriter.toStream(OutputStream.nullOutputStream()));
            final IntFunction<ConnectionListener> listeners = records::listenerFor;
            pipeline = switch (ring)
            {
                case "offline" -> Pipeline.offline(workers, ringSize, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
                    FlowLimits.UNBOUNDED, listeners);
                case "shared" -> new Pipeline(workers, ringSize, true, 1, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
                    FlowLimits.UNBOUNDED, null, listeners);
                default -> throw new IllegalArgumentException("ring is offline or shared, was " + ring);
            };
        }

        @TearDown(Level.Trial)
        public void finish()
        {
            pipeline.finish(EndReason.END_OF_INPUT);
            records.close();
            System.out.printf("%nPipelineBenchmark: pipeline tracked %s segments, wrote %,d records, %d worker" +
                " failures%n", Arrays.toString(pipeline.totals().segmentsPerWorker()), records.written(),
                pipeline.workerFailures());
        }
    }

    /** The one-thread reference, built once per trial. */
    @State(Scope.Thread)
    public static class OfflineState
    {
        private OfflineAnalysis analysis;
        private long recordChars;
        private long connections;

        @Setup(Level.Trial)
        public void start()
        {
            final FlowRecordFormat format = new FlowRecordFormat();
            analysis = new OfflineAnalysis(connection ->
            {
                recordChars += format.format(connection).length();
                connections++;
            }, Lifecycle.ZEEK, ZeekOptions.DEFAULTS);
        }

        @TearDown(Level.Trial)
        public void finish()
        {
            analysis.finish(EndReason.END_OF_INPUT);
            System.out.printf("%nPipelineBenchmark: offline analysis formatted %,d records (%,d chars)%n",
                connections, recordChars);
        }
    }

    /** The decoder alone. */
    @State(Scope.Thread)
    public static class IntakeState
    {
        private final FrameIntake intake = new FrameIntake(true);
        private final FrameDescriptor frame = new FrameDescriptor().interfaceId(0);
    }

    @Benchmark
    public long pipeline(final PipelineState state, final Packets counter)
    {
        final Pipeline pipeline = state.pipeline;
        replay(pipeline);
        counter.packets += frames.count;
        return pipeline.ringRemaining();
    }

    @Benchmark
    public long offlineAnalysisOneThread(final OfflineState state, final Packets counter)
    {
        replay(state.analysis);
        counter.packets += frames.count;
        return state.connections;
    }

    @Benchmark
    public long decodeOnly(final IntakeState state, final Packets counter)
    {
        final Frames f = frames;
        final FrameIntake intake = state.intake;
        final FrameDescriptor frame = state.frame;
        long sum = 0;
        for (int i = 0; i < f.count; i++)
        {
            final DecodedPacket p = intake.onFrame(frame.wrap(f.segment, f.offsets[i], f.capturedLengths[i],
                f.wireLengths[i]).linkType(f.linkTypes[i]).timestampNanos(f.timestamps[i]));
            if (p != null)
            {
                sum += p.seq;
            }
        }
        counter.packets += f.count;
        return sum;
    }

    /** The read-loop limit: each frame's header fields and one byte of it, nothing decoded. */
    @Benchmark
    public long readOnly(final Packets counter)
    {
        final Frames f = frames;
        long sum = 0;
        for (int i = 0; i < f.count; i++)
        {
            sum += f.segment.get(ValueLayout.JAVA_BYTE, f.offsets[i] + (f.capturedLengths[i] >> 1)) +
                f.wireLengths[i] + f.timestamps[i];
        }
        counter.packets += f.count;
        return sum;
    }

    private void replay(final FrameSink sink)
    {
        final Frames f = frames;
        final FrameDescriptor frame = replayed;
        final long at = shift;
        shift += passShift;
        for (int i = 0; i < f.count; i++)
        {
            sink.onFrame(frame.wrap(f.segment, f.offsets[i], f.capturedLengths[i], f.wireLengths[i])
                .linkType(f.linkTypes[i]).timestampNanos(f.timestamps[i] + at));
        }
    }

    /** A capture's frames copied off-heap once, with their record fields in arrays. Read by the JMH thread. */
    static final class Frames implements FrameSink
    {
        private final Arena arena = Arena.ofShared();
        private MemorySegment segment = MemorySegment.NULL;
        private long[] offsets = new long[1024];
        private int[] capturedLengths = new int[1024];
        private int[] wireLengths = new int[1024];
        private int[] linkTypes = new int[1024];
        private long[] timestamps = new long[1024];
        private int count;
        private long bytes;
        private long durationNanos;

        static Frames load(final Path file) throws IOException
        {
            final Frames frames = new Frames();
            long total = 0;
            // Two passes: sizes first, so the frames go into one allocation.
            final long[] sum = new long[1];
            CaptureReplay.read(file, frame -> sum[0] += frame.capturedLength());
            total = sum[0];
            frames.segment = frames.arena.allocate(Math.max(1, total), 8);
            CaptureReplay.read(file, frames);
            if (frames.count == 0)
            {
                throw new IOException(file + ": no frames");
            }
            long first = Long.MAX_VALUE;
            long last = Long.MIN_VALUE;
            for (int i = 0; i < frames.count; i++)
            {
                first = Math.min(first, frames.timestamps[i]);
                last = Math.max(last, frames.timestamps[i]);
            }
            frames.durationNanos = last - first;
            return frames;
        }

        @Override
        public void onFrame(final FrameDescriptor frame)
        {
            final MemorySegment source = frame.segment();
            final long offset = frame.offset();
            final int capturedLength = frame.capturedLength();
            final int wireLength = frame.wireLength();
            final int linkType = frame.linkType();
            final long timestampNanos = frame.timestampNanos();
            if (count == offsets.length)
            {
                final int grown = count * 2;
                offsets = Arrays.copyOf(offsets, grown);
                capturedLengths = Arrays.copyOf(capturedLengths, grown);
                wireLengths = Arrays.copyOf(wireLengths, grown);
                linkTypes = Arrays.copyOf(linkTypes, grown);
                timestamps = Arrays.copyOf(timestamps, grown);
            }
            MemorySegment.copy(source, offset, segment, bytes, capturedLength);
            offsets[count] = bytes;
            capturedLengths[count] = capturedLength;
            wireLengths[count] = wireLength;
            linkTypes[count] = linkType;
            timestamps[count] = timestampNanos;
            bytes += capturedLength;
            count++;
        }

        void close()
        {
            arena.close();
        }
    }
}
