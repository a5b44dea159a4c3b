package dev.flowtracker.bench;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.wire.LinkType;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * Decoding one VLAN-tagged IPv4/TCP frame with options: our flyweight decoder (every bounds check, options, all
 * fields) against the baseline, a plain ByteBuffer read of the same header fields with no validation at all.
 * Run: {@code java -jar tracker-bench/target/benchmarks.jar DecodeBenchmark -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class DecodeBenchmark
{
    private static final int TCP_HEADER = 20 + 12 + 12;
    private static final int IP_LENGTH = 20 + TCP_HEADER + 100;

    private final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket packet = new DecodedPacket();
    private Arena arena;
    private MemorySegment segment;
    private ByteBuffer buffer;
    private int length;

    @Setup
    public void setUp()
    {
        final ByteBuffer b = ByteBuffer.allocate(18 + IP_LENGTH);
        b.put(new byte[12]).putShort((short)0x8100).putShort((short)7).putShort((short)0x0800);
        b.put((byte)0x45).put((byte)0).putShort((short)IP_LENGTH).putInt(0).put((byte)64).put((byte)6)
            .putShort((short)0).putInt(0x0A000001).putInt(0x0A000002);
        b.putShort((short)40000).putShort((short)443).putInt(1000).putInt(2000)
            .put((byte)((TCP_HEADER / 4) << 4)).put((byte)0x18).putShort((short)512).putInt(0);
        b.put((byte)1).put((byte)1).put((byte)8).put((byte)10).putInt(12345).putInt(67890);
        b.put((byte)1).put((byte)1).put((byte)5).put((byte)10).putInt(3000).putInt(4000);
        final byte[] frame = b.array();
        length = frame.length;
        arena = Arena.ofConfined();
        segment = arena.allocate(length);
        MemorySegment.copy(MemorySegment.ofArray(frame), 0, segment, 0, length);
        buffer = ByteBuffer.allocateDirect(length).put(frame).flip();
    }

    @TearDown
    public void tearDown()
    {
        arena.close();
    }

    @Benchmark
    public long flyweightDecode()
    {
        decoder.decode(segment, 0, length, length, LinkType.EN10MB, packet);
        return packet.seq + packet.ack + packet.srcLow + packet.dstPort + packet.payloadLength + packet.tsVal;
    }

    /** Baseline: the same fields at fixed offsets, no bounds or version checks, no option walk. */
    @Benchmark
    public long byteBufferFixedOffsets()
    {
        final ByteBuffer b = buffer;
        final int ip = 18;
        final int tcp = ip + ((b.get(ip) & 0x0F) << 2);
        final int ipLength = b.getShort(ip + 2) & 0xFFFF;
        final int tcpLength = ((b.get(tcp + 12) & 0xF0) >>> 4) << 2;
        return b.getInt(tcp + 4) + b.getInt(tcp + 8) + (b.getInt(ip + 12) & 0xFFFF_FFFFL) +
            (b.getShort(tcp + 2) & 0xFFFF) + (ipLength - (tcp - ip) - tcpLength) + b.getInt(tcp + 24);
    }
}
