package dev.flowtracker.ingest.pipeline;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.Defragmenter;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.FlowHash;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.analyze.CaptureStats;
import dev.flowtracker.ingest.capture.PacketHandler;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Decode on the source thread, track on N shard workers, joined by a Disruptor ring (see package-info for the
 * picture). The source calls {@link #onFrame} for every captured frame; {@link #finish} emits the connections
 * still open and stops the workers.
 *
 * <p>Backpressure: a lossless pipeline (file replay) makes the source wait for a free slot; a lossy one (live
 * capture) never waits: when the ring is full the frame is dropped and counted in {@link #ringFullDrops()}.
 *
 * <p>{@link #onFrame} and {@link #finish} belong to one source thread. The listener built for worker {@code i}
 * is called on that worker's thread only.
 */
public final class Pipeline implements PacketHandler
{
    /** Datagrams waiting for fragments at once; beyond this the oldest is dropped (and counted). */
    private static final int FRAGMENTED_DATAGRAMS = 1024;

    private final int workers;
    private final boolean lossless;
    private final Disruptor<PacketEvent> disruptor;
    private final RingBuffer<PacketEvent> ring;
    private final ShardWorker[] shardWorkers;
    private final PacketDecoder decoder = new PacketDecoder();
    private final Defragmenter defragmenter = new Defragmenter(FRAGMENTED_DATAGRAMS);
    private final DecodedPacket scratch = new DecodedPacket();
    private final CaptureStats stats = new CaptureStats();
    private long ringFullDrops;
    private boolean finished;

    /**
     * @param workers       shard workers (at least 1).
     * @param ringSize      ring slots, a power of two.
     * @param lossless      whether the source waits when the ring is full (replay) or drops (live).
     * @param listenerForWorker builds the listener that receives worker {@code i}'s finished connections.
     */
    public Pipeline(
        final int workers, final int ringSize, final boolean lossless, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final IntFunction<ConnectionListener> listenerForWorker)
    {
        if (workers < 1)
        {
            throw new IllegalArgumentException("workers must be at least 1, was " + workers);
        }
        if (ringSize < 2 || Integer.bitCount(ringSize) != 1)
        {
            throw new IllegalArgumentException("ring size must be a power of two, was " + ringSize);
        }
        this.workers = workers;
        this.lossless = lossless;
        this.disruptor = new Disruptor<>(PacketEvent::new, ringSize, workerThreads(), ProducerType.SINGLE,
            new BlockingWaitStrategy());
        this.shardWorkers = new ShardWorker[workers];
        for (int i = 0; i < workers; i++)
        {
            shardWorkers[i] = new ShardWorker(i, lifecycle, zeekOptions, listenerForWorker.apply(i));
        }
        @SuppressWarnings("unchecked")
        final EventHandler<PacketEvent>[] handlers = shardWorkers;
        disruptor.handleEventsWith(handlers);
        this.ring = disruptor.start();
        decoder.verifyChecksums(!zeekOptions.ignoreChecksums());
    }

    /** Workers to use by default: one core for the source, the rest for workers, at least one. */
    public static int defaultWorkers()
    {
        return Math.max(1, Runtime.getRuntime().availableProcessors() - 1);
    }

    private static ThreadFactory workerThreads()
    {
        final AtomicInteger next = new AtomicInteger();
        return runnable ->
        {
            final Thread thread = new Thread(runnable, "tracker-worker-" + next.getAndIncrement());
            thread.setDaemon(true);
            return thread;
        };
    }

    @Override
    public void onFrame(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength,
        final int linkType, final long timestampNanos, final int interfaceId)
    {
        final DecodedPacket p = scratch;
        p.timestampNanos = timestampNanos;
        p.wireLength = wireLength;
        p.capturedLength = capturedLength;
        p.interfaceId = interfaceId;
        p.frameNumber = stats.frames() + 1;
        final DecodeEvent event = decoder.decode(segment, offset, capturedLength, wireLength, linkType, p);
        stats.onFrame(wireLength, capturedLength, event, p.warning);
        DecodedPacket segmentToTrack = null;
        if (p.fragmentLength >= 0)
        {
            segmentToTrack = defragmenter.offer(p, event == DecodeEvent.TCP_SEGMENT);
        }
        else if (event == DecodeEvent.TCP_SEGMENT)
        {
            segmentToTrack = p;
        }
        publish(segmentToTrack != null ? segmentToTrack : p, segmentToTrack != null ? PacketEvent.SEGMENT :
            PacketEvent.TIME, timestampNanos);
    }

    private void publish(final DecodedPacket p, final int kind, final long timestampNanos)
    {
        final long sequence;
        if (lossless)
        {
            sequence = ring.next();
        }
        else
        {
            try
            {
                sequence = ring.tryNext();
            }
            catch (final InsufficientCapacityException e)
            {
                ringFullDrops++; // live sources never wait: the frame is lost, and counted
                return;
            }
        }
        final PacketEvent slot = ring.get(sequence);
        slot.kind = kind;
        if (kind == PacketEvent.SEGMENT)
        {
            slot.packet.copyFrom(p);
            slot.shard = Integer.remainderUnsigned(FlowHash.of(p), workers);
        }
        slot.packet.timestampNanos = timestampNanos;
        ring.publish(sequence);
    }

    /**
     * Emits every open connection (end of input) and stops the workers once they have drained the ring. Waits;
     * call once, from the source thread.
     */
    public void finish()
    {
        if (finished)
        {
            return;
        }
        finished = true;
        final long sequence = ring.next(); // the end marker is never dropped
        final PacketEvent slot = ring.get(sequence);
        slot.kind = PacketEvent.FINISH;
        ring.publish(sequence);
        disruptor.shutdown();
    }

    public CaptureStats stats()
    {
        return stats;
    }

    /** Frames dropped because the ring was full (lossy pipelines only). */
    public long ringFullDrops()
    {
        return ringFullDrops;
    }

    public int workers()
    {
        return workers;
    }

    /** Segments tracked by each worker; read after {@link #finish}. */
    public long[] segmentsPerWorker()
    {
        final long[] segments = new long[workers];
        for (int i = 0; i < workers; i++)
        {
            segments[i] = shardWorkers[i].segments();
        }
        return segments;
    }

    public int ringSize()
    {
        return ring.getBufferSize();
    }
}
