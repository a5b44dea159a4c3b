package dev.flowtracker.ingest.pipeline;

import com.lmax.disruptor.BlockingWaitStrategy;
import com.lmax.disruptor.EventHandler;
import com.lmax.disruptor.RingBuffer;
import com.lmax.disruptor.WaitStrategy;
import com.lmax.disruptor.YieldingWaitStrategy;
import com.lmax.disruptor.dsl.Disruptor;
import com.lmax.disruptor.dsl.ProducerType;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.FlowHash;
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

import java.util.concurrent.TimeUnit;

/**
 * The cost of handing one decoded segment to a worker through the pipeline's Disruptor ring, measured as the
 * producer's sustained publish rate (ns per event, so the consumer's pace counts whenever the ring fills).
 *
 * <pre>
 *   JMH thread (producer)                 ring: PacketEvent[65536]             worker thread (1 consumer)
 *  +---------------------------+     +------------------------------+     +---------------------------+
 *  | next(); slot.kind=SEGMENT |---->| preallocated PacketEvents,   |---->| reads event.packet.seq    |
 *  | slot.packet.copyFrom(p)   |     | single producer, blocking or |     | into a sum, nothing else  |
 *  | slot.shard = hash % 1     |     | yielding wait strategy       |     |                           |
 *  | publish()                 |     +------------------------------+     +---------------------------+
 * </pre>
 *
 * What the producer does per event is {@code Pipeline.publish} for a segment (lossless: it waits when the ring is
 * full); the ring is built as {@code Pipeline} builds it (single producer, {@code BlockingWaitStrategy} there, the
 * same 65,536 slots as {@code run}'s default), with {@code YieldingWaitStrategy} as the alternative. One worker, so
 * both threads need a core each: on a 2-core machine anything else running shows up here.
 *
 * <p>Baseline {@link #copyIntoArraySlot}: the same copy and shard into the next slot of a plain array of the same
 * events on one thread, no handoff. In package {@code dev.flowtracker.ingest.pipeline} (a split package, no JPMS)
 * to use the real {@link PacketEvent}, whose fields are package-private.
 * Run: {@code java -jar tracker-bench/target/benchmarks.jar RingBenchmark -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class RingBenchmark
{
    private static final int RING_SIZE = 1 << 16;
    private static final int WORKERS = 1;

    private final DecodedPacket packet = new DecodedPacket();
    private final PacketEvent[] slots = new PacketEvent[RING_SIZE];
    private long next;

    @Setup(Level.Trial)
    public void fillPacket()
    {
        packet.resetDecodedFields();
        packet.ipVersion = 4;
        packet.srcLow = 0x0A00_0001L;
        packet.dstLow = 0xC000_0201L;
        packet.srcPort = 40000;
        packet.dstPort = 443;
        packet.flags = 0x18;
        packet.payloadLength = 100;
        packet.hasTimestamps = true;
        for (int i = 0; i < RING_SIZE; i++)
        {
            slots[i] = new PacketEvent();
        }
    }

    @Benchmark
    public long publishToWorker(final Ring ring)
    {
        final RingBuffer<PacketEvent> buffer = ring.buffer;
        final long sequence = buffer.next();
        final PacketEvent slot = buffer.get(sequence);
        fill(slot, sequence);
        buffer.publish(sequence);
        return sequence;
    }

    /** Baseline: the same copy into a plain array slot on this thread, no handoff. */
    @Benchmark
    public long copyIntoArraySlot()
    {
        final long sequence = next++;
        final PacketEvent slot = slots[(int)sequence & (RING_SIZE - 1)];
        fill(slot, sequence);
        return sequence;
    }

    /** What {@code Pipeline.publish} writes into a slot for a segment. */
    private void fill(final PacketEvent slot, final long sequence)
    {
        packet.seq = (int)sequence;
        packet.timestampNanos = sequence;
        slot.kind = PacketEvent.SEGMENT;
        slot.packet.copyFrom(packet);
        slot.shard = Integer.remainderUnsigned(FlowHash.of(packet), WORKERS);
        slot.packet.timestampNanos = packet.timestampNanos;
    }

    /** The ring and its one consumer, started per trial. */
    @State(Scope.Thread)
    public static class Ring
    {
        @Param({"blocking", "yielding"})
        public String waitStrategy;

        private Disruptor<PacketEvent> disruptor;
        private RingBuffer<PacketEvent> buffer;
        private final Reader reader = new Reader();

        @Setup(Level.Trial)
        public void start()
        {
            final WaitStrategy wait = switch (waitStrategy)
            {
                case "blocking" -> new BlockingWaitStrategy();
                case "yielding" -> new YieldingWaitStrategy();
                default -> throw new IllegalArgumentException("wait strategy " + waitStrategy);
            };
            disruptor = new Disruptor<>(PacketEvent::new, RING_SIZE, runnable ->
            {
                final Thread thread = new Thread(runnable, "bench-worker");
                thread.setDaemon(true);
                return thread;
            }, ProducerType.SINGLE, wait);
            disruptor.handleEventsWith(reader);
            buffer = disruptor.start();
        }

        @TearDown(Level.Trial)
        public void stop()
        {
            disruptor.shutdown(); // waits until the worker has read every published event
            System.out.printf("%nRingBenchmark: worker read %,d events (sum of seq %d)%n", reader.events, reader.sum);
        }
    }

    /** The consumer: one field read per event. Worker thread only; read after {@code shutdown}. */
    private static final class Reader implements EventHandler<PacketEvent>
    {
        private long sum;
        private long events;

        @Override
        public void onEvent(final PacketEvent event, final long sequence, final boolean endOfBatch)
        {
            sum += event.packet.seq;
            events++;
        }
    }
}
