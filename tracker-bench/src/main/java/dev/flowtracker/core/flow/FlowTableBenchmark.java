package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import net.openhft.chronicle.core.io.Closeable;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.values.Array;
import net.openhft.chronicle.values.Values;
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
import org.openjdk.jmh.infra.BenchmarkParams;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * Flow-table get-or-create/update at a given number of live flows: {@link BoundedFlowTable} (what each shard worker's
 * tracker uses) against Chronicle Map as the baseline. One op picks a pseudo-random flow (xorshift over flow
 * numbers; the key is written into one reused {@link DecodedPacket}, so nothing is allocated per op), looks it up,
 * creates it on a miss, and records activity.
 *
 * <ul>
 *   <li>{@link #getOrCreateUpdate}: ours, every flow already in the full table ({@code find} + {@code touch}, plus
 *       the {@link FlowHash} the tracker computes per segment).</li>
 *   <li>{@link #getOrCreateUpdateOnePercentNew}: ours, flows drawn uniformly from 1/0.99 times as many as the table
 *       holds, so about 1 % of ops miss and {@code create} a flow in the full table: the eviction path (least
 *       recently active removed, a working object reset for the new flow). The miss share is printed.</li>
 *   <li>{@link #chronicleAcquireUpdate}: the baseline, an in-memory (off-heap) Chronicle Map of a 16-byte key to a
 *       256-byte value, {@code acquireContext} (get-or-create, the value bound off-heap under the entry's lock) and
 *       two fields updated in place. Chronicle Map has no eviction, so there is no baseline for the eviction op.</li>
 * </ul>
 *
 * Ours keeps each flow's whole state in an off-heap record ({@link TcpConnection#BYTES} plus a 16-byte header) and
 * about 40 off-heap bytes of index and slot bookkeeping, and reads and writes it in place through one
 * {@link TcpConnection} flyweight. Setup prints what it measured. Before filling a large table, setup measures the
 * first flows and fails cleanly when the rest would not fit the heap set in {@link Fork} or the machine's available
 * memory (10 M flows need about 15 GB off-heap; see the README).
 * Connections are created but never fed a segment, so every flow sits in the opening phase's idle list.
 *
 * <p>In package {@code dev.flowtracker.core.tcp} (a split package, no JPMS) because the table is package-private.
 * Run: {@code java -jar tracker-bench/target/benchmarks.jar FlowTableBenchmark -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = {
    // Heap for Chronicle's on-heap parts; flow state is off-heap (about 1.5 KB per flow).
    "-Xmx4g", "-XX:MaxDirectMemorySize=18g", "--enable-native-access=ALL-UNNAMED",
    // What Chronicle Map needs on JDK 25: the root pom's tracker.chronicle.jvm.args (CheckpointStore.jvmOptions()).
    "--sun-misc-unsafe-memory-access=allow", "--add-opens=java.base/java.lang=ALL-UNNAMED",
    "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED", "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
    "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
    "--add-exports=jdk.compiler/com.sun.tools.javac.file=ALL-UNNAMED", "-Dchronicle.analytics.disable=true"})
public class FlowTableBenchmark
{
    private static final long CLIENT_BASE = 0x0A00_0000L;
    private static final long SERVER = 0xC000_0201L;
    private static final int SERVER_PORT = 443;

    /**
     * Live flows in the table (and entries in the map); the states read it from {@link BenchmarkParams}. A size
     * whose table would not fit the heap fails in setup with a message saying so (see {@link Table#fill}), and JMH
     * goes on with the next benchmark.
     */
    @Param({"10000", "1000000", "4000000", "10000000"})
    public int flows;

    /** Flows filled before the heap a full table needs is estimated. */
    private static final int FIT_SAMPLE = 50_000;

    @Benchmark
    public int getOrCreateUpdate(final Table s)
    {
        return s.getOrCreateUpdate();
    }

    @Benchmark
    public int getOrCreateUpdateOnePercentNew(final TableWithNewFlows s)
    {
        return s.getOrCreateUpdate();
    }

    /** Baseline: Chronicle Map get-or-create and an in-place update of the same flows. */
    @Benchmark
    public long chronicleAcquireUpdate(final Chronicle s)
    {
        final int flow = s.nextFlow();
        s.key.setHigh(keyHigh(flow));
        s.key.setLow(keyLow(flow));
        final long now = ++s.clock;
        final Closeable context = s.map.acquireContext(s.key, s.value);
        try
        {
            s.value.setLastActiveNanos(now);
            s.value.setPackets(s.value.getPackets() + 1);
        }
        finally
        {
            context.close();
        }
        return now;
    }

    /** The key of flow number {@code flow}: 10.0.0.0/8 clients (16.7 M) to 192.0.2.1:443, IPv4, no tunnel. */
    static void writeFlowKey(final DecodedPacket p, final int flow)
    {
        p.srcLow = CLIENT_BASE + flow;
        p.srcPort = clientPort(flow);
    }

    private static int clientPort(final int flow)
    {
        return 32768 + (flow & 0x7FFF);
    }

    /** The same 4-tuple as {@link #writeFlowKey} packed into 16 bytes for Chronicle Map. */
    private static long keyHigh(final int flow)
    {
        return (CLIENT_BASE + flow) << 32 | SERVER;
    }

    private static long keyLow(final int flow)
    {
        return (long)clientPort(flow) << 48 | (long)SERVER_PORT << 32 | 0xFFFF_FFFFL;
    }

    /** A flow number in [0, bound) from a xorshift64 state (Lemire's multiply-shift instead of a division). */
    private static int pick(final long random, final int bound)
    {
        return (int)(((random >>> 32) * bound) >>> 32);
    }

    private static long xorshift(final long x)
    {
        long r = x ^ (x << 13);
        r ^= r >>> 7;
        return r ^ (r << 17);
    }

    private static long usedHeapAfterGc()
    {
        final Runtime runtime = Runtime.getRuntime();
        for (int i = 0; i < 3; i++)
        {
            System.gc();
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }

    /** Our bounded table, full with flows 0 .. flows-1, every op drawing from those. */
    @State(Scope.Thread)
    public static class Table
    {
        private BoundedFlowTable table;
        private final DecodedPacket packet = new DecodedPacket();
        private long random = 0x9E37_79B9_7F4A_7C15L;
        private long clock;
        private int universe;
        private long ops;
        private long created;

        /** Flows the ops draw from; more than the table holds makes some ops create (and evict). */
        int universe(final int flows)
        {
            return flows;
        }

        @Setup(Level.Trial)
        public void fill(final BenchmarkParams params)
        {
            final int flows = Integer.parseInt(params.getParam("flows"));
            universe = universe(flows);
            packet.resetDecodedFields();
            packet.ipVersion = 4;
            packet.dstLow = SERVER;
            packet.dstPort = SERVER_PORT;
            final long heapBefore = usedHeapAfterGc();
            table = new BoundedFlowTable(FlowLimits.builder().maxFlows(flows).build(), ZeekOptions.DEFAULTS,
                (connection, removal, phase) -> { });
            // The sample starts after the first chunks: fixed costs, not one per flow.
            final int sampleStart = 16_384;
            long heapAtSampleStart = 0;
            long offHeapAtSampleStart = 0;
            for (int flow = 0; flow < flows; flow++)
            {
                if (flow == sampleStart && flows > 2 * (sampleStart + FIT_SAMPLE))
                {
                    heapAtSampleStart = usedHeapAfterGc();
                    offHeapAtSampleStart = table.offHeapBytes();
                }
                if (flow == sampleStart + FIT_SAMPLE && flows > 2 * (sampleStart + FIT_SAMPLE))
                {
                    requireFit(flows - flow, heapAtSampleStart, table.offHeapBytes() - offHeapAtSampleStart);
                }
                writeFlowKey(packet, flow);
                packet.timestampNanos = ++clock;
                final int hash = FlowHash.of(packet);
                if (table.find(packet, hash) != null)
                {
                    throw new IllegalStateException("flow " + flow + " is already in the table");
                }
                table.create(packet, hash, 0);
            }
            final long heapBytes = usedHeapAfterGc() - heapBefore;
            System.out.printf("%nFlowTableBenchmark: %,d flows (drawn from %,d): heap %,d bytes per flow, off-heap %d" +
                " bytes per flow%n", table.size(), universe, heapBytes / flows, table.offHeapBytes() / flows);
        }

        /**
         * Fails setup, before memory runs out, when the full table would not fit: the heap and off-heap memory
         * {@link #FIT_SAMPLE} flows took after the first chunks, scaled to {@code flows} (those still to
         * come), against what {@code -Xmx} leaves and what
         * the machine has available (MemAvailable). Setup failing is a clean JMH failure of this benchmark only; an
         * OutOfMemoryError or the kernel's OOM killer half-way would come after minutes of thrashing.
         */
        private static void requireFit(final int flows, final long heapBefore, final long offHeapGrowth)
        {
            final long used = usedHeapAfterGc();
            final double heapPerFlow = (double)(used - heapBefore) / FIT_SAMPLE;
            final double offHeapPerFlow = (double)offHeapGrowth / FIT_SAMPLE;
            final double heapNeeded = heapPerFlow * flows;
            final double offHeapNeeded = offHeapPerFlow * flows;
            final long heapLeft = Runtime.getRuntime().maxMemory() - used;
            final long available = Math.min(memAvailable(), FlowLimits.jvmDirectMemoryLimit());
            if (heapNeeded > 0.9 * heapLeft || offHeapNeeded > 0.9 * available)
            {
                throw new IllegalStateException(String.format(Locale.ROOT, "FlowTableBenchmark: %,d flows" +
                    " do not fit: at %,.0f bytes of heap and %,.0f bytes off-heap per flow (measured over the first" +
                    " %,d) the table needs about %.1f GB more heap (-Xmx leaves %.1f GB) and %.1f GB more off-heap" +
                    " (%.1f GB available: MemAvailable or MaxDirectMemorySize). Not run; run it on a machine that" +
                    " has the memory (tracker-bench/README.md)", flows, heapPerFlow, offHeapPerFlow, FIT_SAMPLE,
                    heapNeeded / 1e9, heapLeft / 1e9, offHeapNeeded / 1e9, available / 1e9));
            }
        }

        /** The kernel's estimate of memory available to a new process (/proc/meminfo), or unlimited if unknown. */
        private static long memAvailable()
        {
            try
            {
                for (final String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/meminfo")))
                {
                    if (line.startsWith("MemAvailable:"))
                    {
                        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                    }
                }
            }
            catch (final java.io.IOException | NumberFormatException e)
            {
                // not Linux: only the heap check applies
            }
            return Long.MAX_VALUE;
        }

        @TearDown(Level.Trial)
        public void report()
        {
            System.out.printf("%nFlowTableBenchmark: %,d of %,d ops created a flow (%.2f %%)%n", created, ops,
                100.0 * created / Math.max(1, ops));
        }

        final int nextFlow()
        {
            random = xorshift(random);
            return pick(random, universe);
        }

        final int getOrCreateUpdate()
        {
            final DecodedPacket p = packet;
            writeFlowKey(p, nextFlow());
            final long now = ++clock;
            p.timestampNanos = now;
            final int hash = FlowHash.of(p);
            TcpConnection connection = table.find(p, hash);
            if (connection == null)
            {
                connection = table.create(p, hash, 0);
                created++;
            }
            table.touch(connection, now);
            ops++;
            return connection.slot;
        }
    }

    /** Ops draw from 1/0.99 times the table's flows: about 1 % miss and create a flow in the full table. */
    @State(Scope.Thread)
    public static class TableWithNewFlows extends Table
    {
        @Override
        int universe(final int flows)
        {
            return (int)Math.ceil(flows / 0.99);
        }
    }

    /** The baseline: an in-memory Chronicle Map holding the same flows. */
    @State(Scope.Thread)
    public static class Chronicle
    {
        private ChronicleMap<FlowKey, FlowValue> map;
        private final FlowKey key = Values.newHeapInstance(FlowKey.class);
        /** Bound to the entry's off-heap bytes by {@code acquireContext}: no copy of the value. */
        private final FlowValue value = Values.newNativeReference(FlowValue.class);
        private long random = 0x9E37_79B9_7F4A_7C15L;
        private long clock;
        private int flows;

        @Setup(Level.Trial)
        public void fill(final BenchmarkParams params)
        {
            flows = Integer.parseInt(params.getParam("flows"));
            map = ChronicleMap.of(FlowKey.class, FlowValue.class).name("flows").entries(flows).putReturnsNull(true)
                .removeReturnsNull(true).create();
            for (int flow = 0; flow < flows; flow++)
            {
                key.setHigh(keyHigh(flow));
                key.setLow(keyLow(flow));
                final Closeable context = map.acquireContext(key, value);
                try
                {
                    value.setLastActiveNanos(++clock);
                }
                finally
                {
                    context.close();
                }
            }
            if (map.longSize() != flows)
            {
                throw new IllegalStateException("map holds " + map.longSize() + " entries, expected " + flows);
            }
            System.out.printf("%nFlowTableBenchmark: Chronicle Map %,d entries, off-heap %,d bytes per entry%n",
                map.longSize(), map.offHeapMemoryUsed() / flows);
        }

        @TearDown(Level.Trial)
        public void close()
        {
            map.close();
        }

        final int nextFlow()
        {
            random = xorshift(random);
            return pick(random, flows);
        }
    }

    /** Chronicle Map's key: a 4-tuple packed into 16 bytes. */
    public interface FlowKey
    {
        long getHigh();

        void setHigh(long high);

        long getLow();

        void setLow(long low);
    }

    /** Chronicle Map's value: 256 bytes, two fields used, the rest standing in for a flow's state. */
    public interface FlowValue
    {
        long getLastActiveNanos();

        void setLastActiveNanos(long nanos);

        long getPackets();

        void setPackets(long packets);

        @Array(length = 30)
        long getStateAt(int index);

        void setStateAt(int index, long word);
    }
}
