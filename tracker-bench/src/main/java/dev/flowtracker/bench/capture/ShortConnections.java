package dev.flowtracker.bench.capture;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

/**
 * Short connections, many of them, at a bounded concurrency: the workload of a busy API server. Each connection is
 * thirteen frames, as a capture beside the client sees them (the client's frames when sent, the server's when
 * they arrive):
 *
 * <pre>
 *   client                               server
 *    0  SYN  ------------------------------>
 *    1       <------------------------------ SYN+ACK          one RTT later
 *    2  ACK  ------------------------------>
 *    3  request (PSH+ACK)  ---------------->
 *    4       <------------------------------ response 1 (ACK)   RTT + the server's think time later
 *    5       <------------------------------ response 2 (ACK)
 *    6  ACK  ------------------------------>
 *    7       <------------------------------ response 3 (PSH+ACK)
 *    8  ACK  ------------------------------>
 *       ... idle (keep-alive) until the connection's lifetime is up ...
 *    9  FIN+ACK  -------------------------->
 *   10       <------------------------------ ACK
 *   11       <------------------------------ FIN+ACK
 *   12  ACK  ------------------------------>
 * </pre>
 *
 * <p><b>Concurrency.</b> {@code concurrent} slots each run connections one after another, so no more than
 * {@code concurrent} connections are ever open (from SYN to the last ACK). The first connection of slot {@code j}
 * starts at {@code j / rate} (plus up to one gap of jitter), and no client sends its FIN before
 * {@code concurrent / rate} (up to 25 % more, drawn per connection) after its SYN (the idle time before the FIN
 * takes up what the exchange leaves): so when the last slot starts, none has ended yet, and exactly
 * {@code min(connections, concurrent)} are open at once. A slot's next connection starts 10 µs to 1 ms after its
 * previous one ended, so in steady state new connections come at about {@code rate / 1.125}. The same
 * {@code connections} at another
 * {@code concurrent} are the same frames, in another order and at other times.
 *
 * <p><b>Identity.</b> Connection {@code i} (in order of its SYN) is client {@code 10.0.0.0 + 1 + i % 65,536}, port
 * {@code 32,768 + (i / 65,536) % 28,232} (Linux's ephemeral range) to server {@code 198.18.0.1 + i % 256}, port
 * 443: distinct 4-tuples up to 1.85 G connections. ISNs are random; every 1,000th connection's client ISN (at
 * {@code i % 1,000 == 999}) lies just below 2^32 so that its request crosses the wrap, and the server's (at
 * {@code i % 1,000 == 499}) so that its response does. RTTs are drawn per connection from half to 1.5 times
 * {@code rttMicros}, the server's think time from 0.1 to 2 ms. Options as {@link TcpFrames} writes them (MSS,
 * SACK permitted, window scale on SYNs; timestamps everywhere, each side its own clock).
 *
 * <p>Streaming: frames go out in time order from a binary heap of the open slots (keyed by each slot's next frame
 * time); a slot holds about 50 bytes, so 1 M open connections cost about 50 MB and no frame is held. Same
 * arguments and seed, same bytes. Single-threaded.
 */
public final class ShortConnections
{
    /** Frames per connection. */
    public static final int FRAMES_PER_CONNECTION = 13;
    /** Client frames (orig_pkts in Zeek's terms) and server frames per connection. */
    public static final int CLIENT_FRAMES = 7;
    public static final int SERVER_FRAMES = 6;
    /** Payload of one response segment at most: Ethernet's MSS with timestamps. */
    public static final int MSS = 1448;
    private static final long CLIENT_BASE = 0x0A00_0001L; // 10.0.0.1
    private static final int CLIENT_ADDRESSES = 65_536;
    private static final int EPHEMERAL_FIRST = 32_768;
    private static final int EPHEMERAL_PORTS = 28_232;
    private static final long SERVER_BASE = 0xC612_0001L; // 198.18.0.1
    private static final int SERVER_PORT = 443;
    private static final int WRAP_EVERY = 1_000;
    private static final long MICRO = 1_000;

    /** How the capture came out. {@code peakOpen}: the most connections open (SYN to last ACK) at one time. */
    public record Result(long frames, long bytes, long connections, long durationNanos, int peakOpen)
    {
    }

    /** What to generate. */
    public record Shape(long connections, int concurrent, long rate, long rttMicros, int request, int response,
        long seed)
    {
        public Shape
        {
            if (connections < 1 || concurrent < 1 || rate < 1 || rttMicros < 2)
            {
                throw new IllegalArgumentException("need at least 1 connection, 1 open, a rate of 1/s and 2 µs RTT");
            }
            if (request < 1 || request > MSS || response < 3 || response > 3 * MSS)
            {
                throw new IllegalArgumentException("request 1.." + MSS + " bytes, response 3.." + 3 * MSS +
                    " bytes (three segments)");
            }
        }

        /** The defaults of {@code bin/bench synth shortconn}: 100 k connections, 10 k open, 1.3 M frames. */
        public static Shape defaults()
        {
            return new Shape(100_000, 10_000, 50_000, 10_000, 200, 4_000, 1);
        }

        public Shape with(final long connections, final int concurrent)
        {
            return new Shape(connections, concurrent, rate, rttMicros, request, response, seed);
        }
    }

    private final Shape shape;
    private final FrameOutput out;
    private final TcpFrames frames = new TcpFrames();
    private final SplittableRandom random;
    private final int[] segments = new int[3];
    private final long minLifetimeNanos;

    // Per slot, indexed by slot number; the heap holds slot numbers ordered by nextTime.
    private final long[] connection;
    private final long[] nextTime;
    private final long[] closeAt;
    private final int[] step;
    private final int[] rtt;
    private final int[] clientIsn;
    private final int[] serverIsn;
    private final int[] serverClock;
    private final int[] heap;
    private int heapSize;

    private long started;
    private int open;
    private int peakOpen;
    private long lastTime;

    private ShortConnections(final Shape shape, final FrameOutput out)
    {
        this.shape = shape;
        this.out = out;
        this.random = new SplittableRandom(shape.seed());
        final int slots = (int)Math.min(shape.concurrent(), shape.connections());
        connection = new long[slots];
        nextTime = new long[slots];
        closeAt = new long[slots];
        step = new int[slots];
        rtt = new int[slots];
        clientIsn = new int[slots];
        serverIsn = new int[slots];
        serverClock = new int[slots];
        heap = new int[slots];
        minLifetimeNanos = shape.concurrent() * 1_000_000_000L / shape.rate();
        final int response = shape.response();
        segments[0] = Math.min(MSS, response - 2);
        segments[1] = Math.min(MSS, response - segments[0] - 1);
        segments[2] = response - segments[0] - segments[1];
    }

    /** Writes the capture to a pcap file (Ethernet, microsecond timestamps). */
    public static Result write(final Path output, final Shape shape) throws IOException
    {
        try (PcapWriter writer = new PcapWriter(output, SyntheticCapture.LINKTYPE_ETHERNET,
            SyntheticCapture.SNAP_LENGTH, false))
        {
            final Result result = write(writer, shape);
            return new Result(writer.records(), writer.bytes(), result.connections(), result.durationNanos(),
                result.peakOpen());
        }
    }

    /** The same frames to any output (Ethernet, link type 1); {@code frames} and {@code bytes} are not counted. */
    public static Result write(final FrameOutput output, final Shape shape) throws IOException
    {
        return new ShortConnections(shape, output).run();
    }

    private Result run() throws IOException
    {
        final long slotGap = 1_000_000_000L / shape.rate();
        for (int slot = 0; slot < connection.length; slot++)
        {
            start(slot, SyntheticCapture.START_NANOS + slot * slotGap + random.nextLong(Math.max(1, slotGap)));
            push(slot);
        }
        long written = 0;
        while (heapSize > 0)
        {
            final int slot = heap[0];
            emit(slot);
            written++;
            if (step[slot] < FRAMES_PER_CONNECTION)
            {
                siftDown(0);
            }
            else if (started < shape.connections())
            {
                start(slot, nextTime[slot] + 10 * MICRO + random.nextLong(990 * MICRO));
                siftDown(0);
            }
            else
            {
                heap[0] = heap[--heapSize];
                if (heapSize > 0)
                {
                    siftDown(0);
                }
            }
        }
        return new Result(written, -1, started, lastTime - SyntheticCapture.START_NANOS, peakOpen);
    }

    /** Connection number {@code started} begins in {@code slot} at {@code time}: its draws, in a fixed order. */
    private void start(final int slot, final long time)
    {
        final long i = started++;
        connection[slot] = i;
        nextTime[slot] = time;
        step[slot] = 0;
        final long base = shape.rttMicros() * MICRO;
        rtt[slot] = (int)Math.min(Integer.MAX_VALUE, base / 2 + random.nextLong(base));
        final long lifetime = minLifetimeNanos + random.nextLong(minLifetimeNanos / 4 + 1);
        closeAt[slot] = time + lifetime;
        clientIsn[slot] = i % WRAP_EVERY == WRAP_EVERY - 1 ?
            -2 - random.nextInt(shape.request()) : random.nextInt(); // the SYN takes one number
        serverIsn[slot] = i % WRAP_EVERY == WRAP_EVERY / 2 - 1 ?
            -2 - random.nextInt(shape.response()) : random.nextInt();
        serverClock[slot] = random.nextInt();
    }

    /** Writes the slot's next frame and moves its next frame time on. */
    private void emit(final int slot) throws IOException
    {
        final long i = connection[slot];
        frames.ipv4(CLIENT_BASE + i % CLIENT_ADDRESSES,
            EPHEMERAL_FIRST + (int)((i / CLIENT_ADDRESSES) % EPHEMERAL_PORTS), SERVER_BASE + (i & 0xFF), SERVER_PORT);
        final long time = nextTime[slot];
        lastTime = time;
        final int c = clientIsn[slot] + 1;
        final int s = serverIsn[slot] + 1;
        final int request = shape.request();
        final int response = shape.response();
        final int ct = tsVal(time);
        final int st = ct + serverClock[slot];
        final int r = rtt[slot];
        // The client's clock echoed by the server lags one RTT behind; the server's echoed by the client is current.
        final int echoClient = ct - r / 1_000_000;
        long next = time + processing();
        switch (step[slot])
        {
            case 0 ->
            {
                frame(time, true, c - 1, 0, TcpFrames.SYN, 0, ct, 0);
                opened();
                next = time + r;
            }
            case 1 -> frame(time, false, s - 1, c, TcpFrames.SYN | TcpFrames.ACK, 0, st, echoClient);
            case 2 -> frame(time, true, c, s, TcpFrames.ACK, 0, ct, st);
            case 3 ->
            {
                frame(time, true, c, s, TcpFrames.PSH | TcpFrames.ACK, request, ct, st);
                next = time + r + 100 * MICRO + random.nextLong(1_900 * MICRO);
            }
            case 4 ->
            {
                frame(time, false, s, c + request, TcpFrames.ACK, segments[0], st, echoClient);
                next = time + serialisation(segments[1]);
            }
            case 5 -> frame(time, false, s + segments[0], c + request, TcpFrames.ACK, segments[1], st, echoClient);
            case 6 ->
            {
                frame(time, true, c + request, s + segments[0] + segments[1], TcpFrames.ACK, 0, ct, st);
                next = time + serialisation(segments[2]);
            }
            case 7 -> frame(time, false, s + segments[0] + segments[1], c + request, TcpFrames.PSH | TcpFrames.ACK,
                segments[2], st, echoClient);
            case 8 ->
            {
                frame(time, true, c + request, s + response, TcpFrames.ACK, 0, ct, st);
                // Idle (keep-alive) until the lifetime is up.
                next = Math.max(next, closeAt[slot]);
            }
            case 9 ->
            {
                frame(time, true, c + request, s + response, TcpFrames.FIN | TcpFrames.ACK, 0, ct, st);
                next = time + r;
            }
            case 10 -> frame(time, false, s + response, c + request + 1, TcpFrames.ACK, 0, st, echoClient);
            case 11 -> frame(time, false, s + response, c + request + 1, TcpFrames.FIN | TcpFrames.ACK, 0, st,
                echoClient);
            case 12 ->
            {
                frame(time, true, c + request + 1, s + response + 1, TcpFrames.ACK, 0, ct, st);
                open--;
            }
            default -> throw new IllegalStateException("step " + step[slot]);
        }
        step[slot]++;
        nextTime[slot] = next;
    }

    private void opened()
    {
        open++;
        peakOpen = Math.max(peakOpen, open);
    }

    /** An endpoint's turn-around: 10 to 60 µs. */
    private long processing()
    {
        return 10 * MICRO + random.nextLong(50 * MICRO);
    }

    /** A segment's time on a 1 Gb/s link, headers included. */
    private static long serialisation(final int payload)
    {
        return (payload + 66 + 24) * 8L;
    }

    private void frame(
        final long time, final boolean fromClient, final int seq, final int ack, final int flags, final int payload,
        final int tsVal, final int tsEcr) throws IOException
    {
        SyntheticCapture.write(out, frames, time, fromClient, seq, ack, flags, payload, tsVal, tsEcr);
    }

    private static int tsVal(final long timeNanos)
    {
        return SyntheticCapture.tsVal(timeNanos);
    }

    private void push(final int slot)
    {
        int at = heapSize++;
        heap[at] = slot;
        while (at > 0)
        {
            final int parent = (at - 1) >>> 1;
            if (!before(heap[at], heap[parent]))
            {
                break;
            }
            swap(at, parent);
            at = parent;
        }
    }

    private void siftDown(final int from)
    {
        int at = from;
        while (true)
        {
            final int left = 2 * at + 1;
            if (left >= heapSize)
            {
                return;
            }
            final int right = left + 1;
            final int child = right < heapSize && before(heap[right], heap[left]) ? right : left;
            if (!before(heap[child], heap[at]))
            {
                return;
            }
            swap(at, child);
            at = child;
        }
    }

    /** Earlier next frame first; ties by slot number, so the order is total and the output deterministic. */
    private boolean before(final int a, final int b)
    {
        return nextTime[a] < nextTime[b] || (nextTime[a] == nextTime[b] && a < b);
    }

    private void swap(final int a, final int b)
    {
        final int t = heap[a];
        heap[a] = heap[b];
        heap[b] = t;
    }
}
