package dev.flowtracker.bench.capture;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Writes synthetic Ethernet pcaps for the extremes a real capture rarely has, streaming (nothing but a few
 * counters per bulk flow is held, so 10 M flows cost no memory). Same arguments and seed, same bytes. Packet time
 * starts at 2026-01-01T00:00:00Z and advances by a fixed gap per packet.
 *
 * <ul>
 *   <li>{@code flows}: N concurrent connections, each a full handshake (optionally a request and a response),
 *       none closed: at the end of the file all N are open. Client {@code i} is {@code 10.0.0.1 + i} (wrapping
 *       after 16.7 M, then the source port moves), the server one of 256 addresses from 198.18.0.1, port 443. At
 *       the default 1 µs gap 10 M flows last 30 s of packet time: inside Zeek's 5 min inactivity timeout, so a
 *       tracker following Zeek still holds them all at the end.</li>
 *   <li>{@code wrap}: F long bulk transfers of B bytes each, client to server, whose sequence numbers start just
 *       below 2^32 (so they wrap within the first MiB; past 4 GiB they wrap again), segments round-robin between
 *       the flows, a delayed ACK every second segment, FIN from both sides at the end. Payload is zeros and may be
 *       cut to a snap length (checksums stay right for the full segment), so a 5 GiB flow is a small file.</li>
 *   <li>{@code synflood}: N SYNs from random spoofed sources (1.0.0.0 to 223.255.255.255, random ports and ISNs)
 *       to 198.18.0.1:80, a share answered by a SYN+ACK, nothing else.</li>
 *   <li>{@code shortconn}: N complete short connections (handshake, request, three-segment response, ACKs,
 *       four-way close: 13 frames each) with at most K open at once, in {@link ShortConnections}.</li>
 * </ul>
 * Single-threaded.
 */
public final class SyntheticCapture
{
    /** 2026-01-01T00:00:00Z. */
    public static final long START_NANOS = 1_767_225_600_000_000_000L;
    static final int SNAP_LENGTH = 262_144;
    static final int LINKTYPE_ETHERNET = 1;
    private static final long CLIENT_BASE = 0x0A00_0001L;
    private static final long CLIENTS = 0x00FF_FFFEL;
    private static final long SERVER_BASE = 0xC612_0001L; // 198.18.0.1
    private static final long IPV6_CLIENT_HIGH = 0xFD62_656E_6368_0001L;
    private static final long IPV6_SERVER_HIGH = 0xFD62_656E_6368_0002L;
    private static final int WINDOW = 0xFFFF;
    private static final int REQUEST_BYTES = 100;
    private static final int RESPONSE_BYTES = 300;

    /** What was written. */
    public record Result(long frames, long bytes, long flows, long durationNanos)
    {
    }

    private SyntheticCapture()
    {
    }

    /**
     * {@code flows} concurrent connections, none closed.
     *
     * @param exchange add a 100-byte request, a 300-byte response and its ACK to every handshake (6 packets a flow
     *                 instead of 3).
     */
    public static Result concurrentFlows(
        final Path output, final long flows, final boolean ipv6, final boolean exchange, final long gapNanos,
        final long seed) throws IOException
    {
        try (PcapWriter writer = new PcapWriter(output, LINKTYPE_ETHERNET, SNAP_LENGTH, false))
        {
            final long duration = concurrentFlows(writer, flows, ipv6, exchange, gapNanos, seed);
            return new Result(writer.records(), writer.bytes(), flows, duration);
        }
    }

    /**
     * The same frames to any output (Ethernet, link type 1), e.g. straight into a pipeline.
     *
     * @return nanoseconds of packet time the frames span.
     */
    public static long concurrentFlows(
        final FrameOutput writer, final long flows, final boolean ipv6, final boolean exchange, final long gapNanos,
        final long seed) throws IOException
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final TcpFrames frames = new TcpFrames();
        long time = START_NANOS;
        for (long i = 0; i < flows; i++)
        {
            final int clientPort = 1024 + (int)((i / CLIENTS) % 64_512);
            final int server = (int)(i & 0xFF);
            if (ipv6)
            {
                frames.ipv6(IPV6_CLIENT_HIGH, i + 1, clientPort, IPV6_SERVER_HIGH, server + 1, 443);
            }
            else
            {
                frames.ipv4(CLIENT_BASE + i % CLIENTS, clientPort, SERVER_BASE + server, 443);
            }
            final int clientIsn = random.nextInt();
            final int serverIsn = random.nextInt();
            final int ts = tsVal(time);
            write(writer, frames, time, true, clientIsn, 0, TcpFrames.SYN, 0, ts, 0);
            time += gapNanos;
            write(writer, frames, time, false, serverIsn, clientIsn + 1, TcpFrames.SYN | TcpFrames.ACK, 0,
                ts + 1, ts);
            time += gapNanos;
            write(writer, frames, time, true, clientIsn + 1, serverIsn + 1, TcpFrames.ACK, 0, ts + 2, ts + 1);
            time += gapNanos;
            if (exchange)
            {
                write(writer, frames, time, true, clientIsn + 1, serverIsn + 1, TcpFrames.PSH | TcpFrames.ACK,
                    REQUEST_BYTES, ts + 3, ts + 1);
                time += gapNanos;
                write(writer, frames, time, false, serverIsn + 1, clientIsn + 1 + REQUEST_BYTES,
                    TcpFrames.PSH | TcpFrames.ACK, RESPONSE_BYTES, ts + 4, ts + 3);
                time += gapNanos;
                write(writer, frames, time, true, clientIsn + 1 + REQUEST_BYTES, serverIsn + 1 + RESPONSE_BYTES,
                    TcpFrames.ACK, 0, ts + 5, ts + 4);
                time += gapNanos;
            }
        }
        return time - START_NANOS;
    }

    /**
     * {@code flows} bulk transfers of {@code bytesPerFlow} each across the 32-bit sequence wrap.
     *
     * @param segment     payload bytes per data segment (1448 is Ethernet's with timestamps; up to about 65 K
     *                    stands in for TSO/GRO captures and keeps big transfers small).
     * @param payloadSnap payload bytes captured per segment (0: headers only).
     */
    public static Result wrapFlows(
        final Path output, final int flows, final long bytesPerFlow, final int segment, final int payloadSnap,
        final long gapNanos, final long seed) throws IOException
    {
        if (flows < 1 || bytesPerFlow < 2 || segment < 1)
        {
            throw new IllegalArgumentException("need at least 1 flow, 2 bytes and a 1-byte segment");
        }
        final SplittableRandom random = new SplittableRandom(seed);
        final TcpFrames frames = new TcpFrames();
        if (segment > frames.maxPayload())
        {
            throw new IllegalArgumentException("segment " + segment + " is over " + frames.maxPayload());
        }
        final int[] clientIsn = new int[flows];
        final int[] serverIsn = new int[flows];
        final long[] sent = new long[flows];
        final long[] segments = new long[flows];
        long time = START_NANOS;
        try (PcapWriter writer = new PcapWriter(output, LINKTYPE_ETHERNET, SNAP_LENGTH, false))
        {
            for (int f = 0; f < flows; f++)
            {
                // Wrap within the first MiB (or half the transfer, when smaller): every flow crosses 2^32.
                final long beforeWrap = Math.max(1, Math.min(bytesPerFlow / 2, 1 << 20) - f);
                clientIsn[f] = (int)((1L << 32) - beforeWrap - 1); // the SYN takes one number
                serverIsn[f] = random.nextInt();
                bulkEndpoints(frames, f);
                final int ts = tsVal(time);
                write(writer, frames, time, true, clientIsn[f], 0, TcpFrames.SYN, 0, ts, 0);
                time += gapNanos;
                write(writer, frames, time, false, serverIsn[f], clientIsn[f] + 1, TcpFrames.SYN | TcpFrames.ACK, 0,
                    ts, ts);
                time += gapNanos;
                write(writer, frames, time, true, clientIsn[f] + 1, serverIsn[f] + 1, TcpFrames.ACK, 0, ts, ts);
                time += gapNanos;
            }
            int active = flows;
            while (active > 0)
            {
                active = 0;
                for (int f = 0; f < flows; f++)
                {
                    if (sent[f] >= bytesPerFlow)
                    {
                        continue;
                    }
                    bulkEndpoints(frames, f);
                    final int length = (int)Math.min(segment, bytesPerFlow - sent[f]);
                    final int seq = clientIsn[f] + 1 + (int)sent[f];
                    final int ts = tsVal(time);
                    final int wire = frames.build(true, seq, serverIsn[f] + 1, TcpFrames.ACK | TcpFrames.PSH,
                        WINDOW, length, payloadSnap, ts, ts);
                    writer.write(time, frames.frame, 0, frames.capturedLength, wire);
                    time += gapNanos;
                    sent[f] += length;
                    segments[f]++;
                    if ((segments[f] & 1) == 0 || sent[f] == bytesPerFlow)
                    {
                        write(writer, frames, time, false, serverIsn[f] + 1, clientIsn[f] + 1 + (int)sent[f],
                            TcpFrames.ACK, 0, ts, ts);
                        time += gapNanos;
                    }
                    if (sent[f] < bytesPerFlow)
                    {
                        active++;
                    }
                }
            }
            for (int f = 0; f < flows; f++)
            {
                bulkEndpoints(frames, f);
                final int clientFin = clientIsn[f] + 1 + (int)bytesPerFlow;
                final int ts = tsVal(time);
                write(writer, frames, time, true, clientFin, serverIsn[f] + 1, TcpFrames.FIN | TcpFrames.ACK, 0,
                    ts, ts);
                time += gapNanos;
                write(writer, frames, time, false, serverIsn[f] + 1, clientFin + 1, TcpFrames.FIN | TcpFrames.ACK,
                    0, ts, ts);
                time += gapNanos;
                write(writer, frames, time, true, clientFin + 1, serverIsn[f] + 2, TcpFrames.ACK, 0, ts, ts);
                time += gapNanos;
            }
            return new Result(writer.records(), writer.bytes(), flows, time - START_NANOS);
        }
    }

    /** Client 10.1.0.(f+1):40000+f to server 198.18.1.(f+1):5001 (flow numbers above 250 share the pattern). */
    private static void bulkEndpoints(final TcpFrames frames, final int flow)
    {
        frames.ipv4(0x0A01_0001L + flow, 40_000 + (flow % 25_000), 0xC612_0101L + flow, 5001);
    }

    /**
     * {@code syns} SYNs from random spoofed sources to 198.18.0.1:80; {@code synAckPercent} of them answered.
     */
    public static Result synFlood(
        final Path output, final long syns, final int synAckPercent, final long gapNanos, final long seed)
        throws IOException
    {
        final SplittableRandom random = new SplittableRandom(seed);
        final TcpFrames frames = new TcpFrames();
        long time = START_NANOS;
        try (PcapWriter writer = new PcapWriter(output, LINKTYPE_ETHERNET, SNAP_LENGTH, false))
        {
            for (long i = 0; i < syns; i++)
            {
                final long source = random.nextLong(0x0100_0000L, 0xE000_0000L);
                final int port = random.nextInt(1024, 65_536);
                final int isn = random.nextInt();
                frames.ipv4(source, port, SERVER_BASE, 80);
                final int ts = tsVal(time);
                write(writer, frames, time, true, isn, 0, TcpFrames.SYN, 0, ts, 0);
                time += gapNanos;
                if (random.nextInt(100) < synAckPercent)
                {
                    write(writer, frames, time, false, random.nextInt(), isn + 1, TcpFrames.SYN | TcpFrames.ACK, 0,
                        ts, ts);
                    time += gapNanos;
                }
            }
            return new Result(writer.records(), writer.bytes(), syns, time - START_NANOS);
        }
    }

    static void write(
        final FrameOutput writer, final TcpFrames frames, final long time, final boolean fromClient, final int seq,
        final int ack, final int flags, final int payload, final int tsVal, final int tsEcr) throws IOException
    {
        final int wire = frames.build(fromClient, seq, ack, flags, WINDOW, payload, payload, tsVal, tsEcr);
        writer.write(time, frames.frame, 0, frames.capturedLength, wire);
    }

    /** A millisecond clock for the timestamp option, from packet time. */
    static int tsVal(final long timeNanos)
    {
        return (int)((timeNanos - START_NANOS) / 1_000_000) + 1;
    }

    public static void main(final String[] args) throws IOException
    {
        if (args.length < 2)
        {
            usage("give a kind and an output file");
        }
        final String kind = args[0];
        long count = -1;
        long bytes = 5L << 30;
        int segment = 1448;
        int payloadSnap = 0;
        int synAckPercent = 100;
        long gapNanos = 1_000;
        long seed = 1;
        boolean ipv6 = false;
        boolean exchange = false;
        final ShortConnections.Shape shortDefaults = ShortConnections.Shape.defaults();
        int concurrent = shortDefaults.concurrent();
        long rate = shortDefaults.rate();
        long rttMicros = shortDefaults.rttMicros();
        int request = shortDefaults.request();
        int response = shortDefaults.response();
        Path output = null;
        for (int i = 1; i < args.length; i++)
        {
            switch (args[i])
            {
                case "--flows", "--syns", "--connections" -> count = Long.parseLong(args[++i].replace("_", ""));
                case "--concurrent" -> concurrent = Integer.parseInt(args[++i].replace("_", ""));
                case "--rate" -> rate = Long.parseLong(args[++i].replace("_", ""));
                case "--rtt-us" -> rttMicros = Long.parseLong(args[++i].replace("_", ""));
                case "--request" -> request = Integer.parseInt(args[++i]);
                case "--response" -> response = Integer.parseInt(args[++i]);
                case "--bytes" -> bytes = Long.parseLong(args[++i].replace("_", ""));
                case "--segment" -> segment = Integer.parseInt(args[++i]);
                case "--payload-snap" -> payloadSnap = Integer.parseInt(args[++i]);
                case "--synack-percent" -> synAckPercent = Integer.parseInt(args[++i]);
                case "--gap-ns" -> gapNanos = Long.parseLong(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--ipv6" -> ipv6 = true;
                case "--exchange" -> exchange = true;
                default ->
                {
                    if (args[i].startsWith("-") || output != null)
                    {
                        usage("unexpected argument " + args[i]);
                    }
                    output = Path.of(args[i]);
                }
            }
        }
        if (output == null)
        {
            usage("give an output file");
        }
        final long start = System.nanoTime();
        if (kind.equals("shortconn"))
        {
            final ShortConnections.Result result = ShortConnections.write(output, new ShortConnections.Shape(
                count < 0 ? shortDefaults.connections() : count, concurrent, rate, rttMicros, request, response, seed));
            System.out.printf(Locale.ROOT, "SyntheticCapture shortconn: %,d connections, at most %,d open at once" +
                    " (reached), %,d frames, %,d bytes, %.3f s of packet time, %s in %.1f s%n", result.connections(),
                result.peakOpen(), result.frames(), result.bytes(), result.durationNanos() / 1e9, output,
                (System.nanoTime() - start) / 1e9);
            return;
        }
        final Result result = switch (kind)
        {
            case "flows" -> concurrentFlows(output, count < 0 ? 10_000_000 : count, ipv6, exchange, gapNanos, seed);
            case "wrap" -> wrapFlows(output, (int)(count < 0 ? 2 : count), bytes, segment, payloadSnap, gapNanos,
                seed);
            case "synflood" -> synFlood(output, count < 0 ? 1_000_000 : count, synAckPercent, gapNanos, seed);
            default ->
            {
                usage("unknown kind " + kind);
                yield null;
            }
        };
        System.out.printf(Locale.ROOT, "SyntheticCapture %s: %,d flows, %,d frames, %,d bytes, %.3f s of packet" +
                " time, %s in %.1f s%n", kind, result.flows(), result.frames(), result.bytes(),
            result.durationNanos() / 1e9, output, (System.nanoTime() - start) / 1e9);
    }

    private static void usage(final String message)
    {
        System.err.println("SyntheticCapture: " + message);
        System.err.println("""
            usage: SyntheticCapture flows    [--flows N (10000000)] [--ipv6] [--exchange] [--gap-ns G] [--seed S] OUT
                   SyntheticCapture wrap     [--flows F (2)] [--bytes B (5 GiB)] [--segment S (1448)]
                                             [--payload-snap P (0)] [--gap-ns G] [--seed S] OUT
                   SyntheticCapture synflood [--syns N (1000000)] [--synack-percent P (100)] [--gap-ns G]
                                             [--seed S] OUT
                   SyntheticCapture shortconn [--connections N (100000)] [--concurrent K (10000)]
                                             [--rate R new connections/s (50000)] [--rtt-us U (10000)]
                                             [--request B (200)] [--response B (4000, 3 segments)] [--seed S] OUT
                                             (13 frames a connection; see ShortConnections)""");
        System.exit(2);
    }
}
