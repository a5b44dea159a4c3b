package dev.flowtracker.bench;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.source.file.CaptureReplay;
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
import org.openjdk.jmh.annotations.Warmup;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The TCP engine alone (connection lookup, tshark flags, RFC 793 states, extras) on already-decoded segments of a
 * real capture, replayed in order, every connection ended at the end of each pass. Result is per pass over the
 * capture; divide by the packet or connection count it prints.
 * Baseline: a pass that only reads the same fields of every decoded packet.
 * Run: {@code java -jar tracker-bench/target/benchmarks.jar EngineBenchmark -p capture=FILE -prof gc}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class EngineBenchmark
{
    @Param("samples/sample.pcap")
    public String capture;

    /** zeek: both views with Zeek's timers and reuse test (the default); tshark: tcp.stream identity, no timers. */
    @Param({"zeek", "tshark"})
    public String lifecycle;

    private DecodedPacket[] packets;
    private ConnectionTracker tracker;

    @Setup(Level.Trial)
    public void load() throws IOException
    {
        final List<DecodedPacket> decoded = new ArrayList<>();
        final PacketDecoder decoder = new PacketDecoder();
        CaptureReplay.read(Path.of(capture), frame ->
        {
            final DecodedPacket p = new DecodedPacket();
            p.timestampNanos = frame.timestampNanos();
            if (decoder.decode(frame.segment(), frame.offset(), frame.capturedLength(), frame.wireLength(),
                frame.linkType(), p) == DecodeEvent.TCP_SEGMENT && p.fragmentLength < 0)
            {
                decoded.add(p);
            }
        });
        packets = decoded.toArray(new DecodedPacket[0]);
        final long[] connections = {0};
        final ConnectionTracker counting = new ConnectionTracker(1 << 16, c -> connections[0]++,
            Lifecycle.byLabel(lifecycle), ZeekOptions.DEFAULTS, FlowLimits.UNBOUNDED, false);
        for (final DecodedPacket p : packets)
        {
            counting.onSegment(p);
        }
        counting.finish(EndReason.END_OF_INPUT);
        System.out.println("EngineBenchmark: " + packets.length + " TCP segments and " + connections[0] +
            " connections per pass from " + capture + " (divide -prof gc's B/op by either)");
    }

    /** One tracker for the trial: each pass ends its connections, so its working set and records are reused. */
    @Setup(Level.Trial)
    public void freshTracker()
    {
        // As analyze and run build it: ended connections' objects are recycled, not handed to the listener.
        tracker = new ConnectionTracker(1 << 16, c -> { }, Lifecycle.byLabel(lifecycle), ZeekOptions.DEFAULTS,
            FlowLimits.UNBOUNDED, false);
    }

    @Benchmark
    public int engine()
    {
        for (final DecodedPacket p : packets)
        {
            tracker.onSegment(p);
        }
        final int open = tracker.activeConnections();
        // Every pass ends its connections, so each pass starts them again: a whole lifecycle per connection, with
        // the records' memory reused as in a long run (-prof gc's bytes per op then cover whole connections).
        tracker.finish(EndReason.END_OF_INPUT);
        return open;
    }

    @Benchmark
    public long readFieldsBaseline()
    {
        long sum = 0;
        for (final DecodedPacket p : packets)
        {
            sum += p.seq + p.ack + p.flags + p.window + p.payloadLength + p.srcPort + p.dstPort + p.srcLow;
        }
        return sum;
    }
}
