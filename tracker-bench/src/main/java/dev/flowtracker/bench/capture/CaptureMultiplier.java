package dev.flowtracker.bench.capture;

import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Makes a large capture from a small real one: K copies of the input, copy {@code k} moved to its own address
 * block (see {@link FrameRewriter}) and {@code k} time steps later, merged by time into one pcap. Each copy's
 * frames keep the input's order; copies interleave. The flow count scales with K; each copy's connections analyse
 * like the input's (same packets, flags and states), only their addresses and times differ.
 *
 * <p>The input (pcap or pcapng, any size that fits in memory) is read once into memory; the output is streamed.
 * All frames must share one link type. The time step defaults to the input's duration divided by K, so all copies
 * overlap and the output lasts about twice the input. Deterministic: the same input and arguments give the same
 * bytes. Single-threaded.
 *
 * <pre>
 * usage: CaptureMultiplier [--copies K | --min-packets N] [--step-us MICROS] [--nanos] INPUT OUTPUT
 * </pre>
 */
public final class CaptureMultiplier
{
    private final byte[] data;
    private final int[] offsets;
    private final int[] capturedLengths;
    private final int[] wireLengths;
    private final long[] timestamps;
    private final int frames;
    private final int linkType;
    private final int snapLength;

    /** What a multiplication wrote. */
    public record Result(long inputFrames, int copies, long outputFrames, long unchangedFrames, long stepNanos,
        long bytes, int ipv4Addresses, int ipv6Addresses)
    {
    }

    private CaptureMultiplier(final Frames input)
    {
        this.data = input.data;
        this.offsets = input.offsets;
        this.capturedLengths = input.capturedLengths;
        this.wireLengths = input.wireLengths;
        this.timestamps = input.timestamps;
        this.frames = input.count;
        this.linkType = input.linkType;
        this.snapLength = Math.max(65_535, input.maxCaptured);
    }

    /** Reads {@code input} into memory. */
    public static CaptureMultiplier read(final Path input) throws IOException
    {
        final Frames frames = new Frames();
        CaptureReplay.read(List.of(input), frames, CaptureReplay.BATCH, frames);
        if (frames.mixedLinkTypes)
        {
            throw new IOException(input + ": frames of more than one link type; use a pcap of one");
        }
        if (frames.count == 0)
        {
            throw new IOException(input + ": no frames");
        }
        return new CaptureMultiplier(frames);
    }

    public int frames()
    {
        return frames;
    }

    /** Copies needed for at least {@code packets} frames. */
    public int copiesFor(final long packets)
    {
        return (int)Math.max(1, (packets + frames - 1) / frames);
    }

    /**
     * Writes {@code copies} interleaved copies to {@code output}.
     *
     * @param stepNanos time between copies' starts; negative for the input's duration / copies (at least 1 µs).
     * @param nanosecondFile write nanosecond timestamps (else microseconds, which every tool reads).
     */
    public Result write(final Path output, final int copies, final long stepNanos, final boolean nanosecondFile)
        throws IOException
    {
        if (copies < 1)
        {
            throw new IllegalArgumentException("copies must be at least 1, was " + copies);
        }
        final FrameRewriter rewriter = new FrameRewriter();
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (int i = 0; i < frames; i++)
        {
            rewriter.learn(data, offsets[i], capturedLengths[i], linkType);
            first = Math.min(first, timestamps[i]);
            last = Math.max(last, timestamps[i]);
        }
        rewriter.plan(copies);
        final long unit = nanosecondFile ? 1 : 1_000;
        final long step = stepNanos >= 0 ? stepNanos : Math.max(unit, (last - first) / copies / unit * unit);

        // K-way merge by (time, copy): a min-heap of copies keyed by their next frame's shifted time.
        final int[] next = new int[copies];
        final CopyHeap heap = new CopyHeap(copies);
        for (int k = 0; k < copies; k++)
        {
            heap.push(k, timestamps[0] + k * step);
        }
        final byte[] frame = new byte[snapLength];
        long unchanged = 0;
        try (PcapWriter writer = new PcapWriter(output, linkType, snapLength, nanosecondFile))
        {
            while (!heap.isEmpty())
            {
                final int k = heap.popCopy();
                final int i = next[k]++;
                final int length = capturedLengths[i];
                System.arraycopy(data, offsets[i], frame, 0, length);
                if (rewriter.rewrite(frame, 0, length, linkType, k) == FrameRewriter.Outcome.UNCHANGED)
                {
                    unchanged++;
                }
                writer.write(timestamps[i] + k * step, frame, 0, length, wireLengths[i]);
                if (next[k] < frames)
                {
                    heap.push(k, timestamps[next[k]] + k * step);
                }
            }
            return new Result(frames, copies, writer.records(), unchanged, step, writer.bytes(),
                rewriter.ipv4Addresses(), rewriter.ipv6Addresses());
        }
    }

    public static void main(final String[] args) throws IOException
    {
        int copies = 0;
        long minPackets = 0;
        long stepNanos = -1;
        boolean nanos = false;
        Path input = null;
        Path output = null;
        for (int i = 0; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--copies" -> copies = Integer.parseInt(args[++i]);
                case "--min-packets" -> minPackets = Long.parseLong(args[++i]);
                case "--step-us" -> stepNanos = Long.parseLong(args[++i]) * 1_000;
                case "--nanos" -> nanos = true;
                default ->
                {
                    if (args[i].startsWith("-"))
                    {
                        usage("unknown option " + args[i]);
                    }
                    if (input == null)
                    {
                        input = Path.of(args[i]);
                    }
                    else if (output == null)
                    {
                        output = Path.of(args[i]);
                    }
                    else
                    {
                        usage("too many arguments");
                    }
                }
            }
        }
        if (input == null || output == null || (copies > 0) == (minPackets > 0))
        {
            usage("give INPUT OUTPUT and one of --copies or --min-packets");
        }
        final CaptureMultiplier multiplier = read(input);
        final int k = copies > 0 ? copies : multiplier.copiesFor(minPackets);
        final long start = System.nanoTime();
        final Result result = multiplier.write(output, k, stepNanos, nanos);
        System.out.printf(Locale.ROOT, "CaptureMultiplier: %s: %,d frames x %d copies = %,d frames (%,d left" +
                " unchanged: not IP), %d IPv4 + %d IPv6 addresses per copy, step %.6f s, %,d bytes, %s in %.1f s%n",
            input, result.inputFrames(), result.copies(), result.outputFrames(), result.unchangedFrames(),
            result.ipv4Addresses(), result.ipv6Addresses(), result.stepNanos() / 1e9, result.bytes(), output,
            (System.nanoTime() - start) / 1e9);
    }

    private static void usage(final String message)
    {
        System.err.println("CaptureMultiplier: " + message);
        System.err.println("usage: CaptureMultiplier [--copies K | --min-packets N] [--step-us MICROS] [--nanos]" +
            " INPUT OUTPUT");
        System.exit(2);
    }

    /** The input's frames, packed into one array. Filled on the reading thread. */
    private static final class Frames implements FrameSink, CaptureReplay.Observer
    {
        byte[] data = new byte[1 << 20];
        int[] offsets = new int[1024];
        int[] capturedLengths = new int[1024];
        int[] wireLengths = new int[1024];
        long[] timestamps = new long[1024];
        int count;
        int used;
        int linkType = -1;
        int maxCaptured;
        boolean mixedLinkTypes;

        /** Reads on until a frame of another link type. */
        @Override
        public boolean proceed()
        {
            return !mixedLinkTypes;
        }

        @Override
        public void onFrame(final FrameDescriptor frame)
        {
            final int linkType = frame.linkType();
            final int capturedLength = frame.capturedLength();
            if (this.linkType < 0)
            {
                this.linkType = linkType;
            }
            else if (this.linkType != linkType)
            {
                mixedLinkTypes = true;
                return;
            }
            if (count == offsets.length)
            {
                final int grown = count * 2;
                offsets = Arrays.copyOf(offsets, grown);
                capturedLengths = Arrays.copyOf(capturedLengths, grown);
                wireLengths = Arrays.copyOf(wireLengths, grown);
                timestamps = Arrays.copyOf(timestamps, grown);
            }
            if ((long)used + capturedLength > data.length)
            {
                final long grown = Math.max((long)data.length * 2, (long)used + capturedLength);
                if (grown > Integer.MAX_VALUE - 16)
                {
                    throw new IllegalStateException("input too large to hold in memory (over 2 GiB of frames)");
                }
                data = Arrays.copyOf(data, (int)grown);
            }
            MemorySegment.copy(frame.segment(), ValueLayout.JAVA_BYTE, frame.offset(), data, used, capturedLength);
            offsets[count] = used;
            capturedLengths[count] = capturedLength;
            wireLengths[count] = frame.wireLength();
            timestamps[count] = frame.timestampNanos();
            maxCaptured = Math.max(maxCaptured, capturedLength);
            used += capturedLength;
            count++;
        }
    }

    /** A binary min-heap of copy numbers keyed by (time, copy). */
    private static final class CopyHeap
    {
        private final int[] copies;
        private final long[] keys;
        private int size;

        CopyHeap(final int capacity)
        {
            copies = new int[capacity];
            keys = new long[capacity];
        }

        boolean isEmpty()
        {
            return size == 0;
        }

        void push(final int copy, final long time)
        {
            int i = size++;
            while (i > 0)
            {
                final int parent = (i - 1) >>> 1;
                if (!less(time, copy, keys[parent], copies[parent]))
                {
                    break;
                }
                copies[i] = copies[parent];
                keys[i] = keys[parent];
                i = parent;
            }
            copies[i] = copy;
            keys[i] = time;
        }

        int popCopy()
        {
            final int top = copies[0];
            final int lastCopy = copies[--size];
            final long lastKey = keys[size];
            int i = 0;
            while (true)
            {
                final int left = 2 * i + 1;
                if (left >= size)
                {
                    break;
                }
                final int right = left + 1;
                final int child = right < size && less(keys[right], copies[right], keys[left], copies[left]) ?
                    right : left;
                if (!less(keys[child], copies[child], lastKey, lastCopy))
                {
                    break;
                }
                copies[i] = copies[child];
                keys[i] = keys[child];
                i = child;
            }
            if (size > 0)
            {
                copies[i] = lastCopy;
                keys[i] = lastKey;
            }
            return top;
        }

        private static boolean less(final long time, final int copy, final long otherTime, final int otherCopy)
        {
            return time < otherTime || (time == otherTime && copy < otherCopy);
        }
    }
}
