package dev.flowtracker.bench;

import dev.flowtracker.ingest.source.mirror.MirrorCounter;
import dev.flowtracker.ingest.source.mirror.MirrorOptions;
import dev.flowtracker.ingest.source.mirror.MirrorProtocol;
import dev.flowtracker.ingest.source.mirror.MirrorReplay;
import dev.flowtracker.ingest.source.mirror.MirrorSource;
import dev.flowtracker.ingest.source.mirror.VxlanHeader;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * How many mirrored datagrams per second the VXLAN receiver takes over loopback, and at what offered rate it starts
 * to lose some; not JMH (a socket throughput test). Topology:
 * <pre>
 *   sender thread: MirrorReplay (capture frames in VXLAN, 8 outer ports)
 *        | loopback UDP, offered at a fixed rate (or as fast as the sender goes)
 *        v
 *   receiver: MirrorSource (Netty epoll, SO_REUSEPORT sockets, decapsulation, a counting sink)
 *         or, the baseline: one JDK DatagramChannel in a blocking receive loop that checks the VXLAN flags
 * </pre>
 * For each offered rate it prints what was sent, received, dropped by the socket (the kernel's counter, Netty
 * receiver only) and lost before the socket (the rest: loopback backlog). Run:
 * {@code java --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow -cp
 * tracker-bench/target/benchmarks.jar dev.flowtracker.bench.MirrorReceiveBenchmark [netty|jdk] [CAPTURE]
 * [SECONDS] [RATE,...] [THREADS]} (rate 0: as fast as the sender can).
 */
public final class MirrorReceiveBenchmark
{
    private MirrorReceiveBenchmark()
    {
    }

    /** A receiver under test: its address, how many datagrams it took, socket drops, and a way to stop it. */
    private interface Receiver extends AutoCloseable
    {
        InetSocketAddress address();

        long received();

        long socketDrops();

        @Override
        void close() throws IOException;
    }

    public static void main(final String[] args) throws Exception
    {
        final String kind = args.length > 0 ? args[0] : "netty";
        final Path capture = Path.of(args.length > 1 ? args[1] : "samples/sample.pcap");
        final int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        final List<Long> rates = new ArrayList<>();
        for (final String rate : (args.length > 3 ? args[3] : "50000,100000,200000,0").split(","))
        {
            rates.add(Long.parseLong(rate));
        }
        final int threads = args.length > 4 ? Integer.parseInt(args[4]) : 1;
        System.out.printf("receiver=%s threads=%d capture=%s seconds=%d cores=%d%n", kind, threads, capture, seconds,
            Runtime.getRuntime().availableProcessors());
        // Warm-up: the receiver's and sender's code compiled before anything is measured.
        try (Receiver receiver = kind.equals("jdk") ? new JdkReceiver() : new NettyReceiver(threads))
        {
            send(receiver.address(), capture, 2, 0);
        }
        System.out.println("offered/s   sent        received    received/s  socket_drops  lost_before_socket");
        for (final long rate : rates)
        {
            try (Receiver receiver = kind.equals("jdk") ? new JdkReceiver() : new NettyReceiver(threads))
            {
                final long sent = send(receiver.address(), capture, seconds, rate);
                final long start = System.nanoTime();
                // Let the receiver drain what is queued.
                long before;
                do
                {
                    before = receiver.received();
                    Thread.sleep(200);
                }
                while (receiver.received() != before && System.nanoTime() - start < 5_000_000_000L);
                final long received = receiver.received();
                final long drops = receiver.socketDrops();
                System.out.printf("%-11s %-11d %-11d %-11.0f %-13d %d%n", rate == 0 ? "max" : Long.toString(rate),
                    sent, received, received / (double)seconds, drops, sent - received - Math.max(0, drops));
            }
        }
    }

    /** Sends the capture over and over for {@code seconds} at {@code rate} datagrams/s (0: unpaced). */
    private static long send(final InetSocketAddress target, final Path capture, final int seconds, final long rate)
        throws IOException
    {
        final long deadline = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        long sent = 0;
        try (MirrorReplay replay = new MirrorReplay(MirrorProtocol.VXLAN, target, 1, 8))
        {
            final MirrorReplay.Pacing pacing =
                rate > 0 ? MirrorReplay.Pacing.rate(rate) : MirrorReplay.Pacing.unpaced();
            while (System.nanoTime() - deadline < 0)
            {
                sent += replay.send(capture, Long.MAX_VALUE, Duration.ofNanos(deadline - System.nanoTime()), pacing)
                    .sent();
            }
        }
        return sent;
    }

    /** The receiver under test: a {@link MirrorSource} with a sink that only counts. */
    private static final class NettyReceiver implements Receiver
    {
        private final MirrorSource source;

        NettyReceiver(final int threads) throws Exception
        {
            source = new MirrorSource(new MirrorOptions(MirrorProtocol.VXLAN,
                new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).withThreads(threads));
            final LongAdder frames = new LongAdder();
            source.start(i -> frame -> frames.increment());
        }

        @Override
        public InetSocketAddress address()
        {
            return source.localAddress();
        }

        @Override
        public long received()
        {
            return source.counter(MirrorCounter.DATAGRAMS);
        }

        @Override
        public long socketDrops()
        {
            return source.drops();
        }

        @Override
        public void close()
        {
            source.close();
        }
    }

    /** The baseline: a JDK datagram channel, blocking receive, VXLAN flags checked, same receive buffer. */
    private static final class JdkReceiver implements Receiver
    {
        private final DatagramChannel channel;
        private final AtomicLong received = new AtomicLong();
        private final Thread thread;

        JdkReceiver() throws IOException
        {
            channel = DatagramChannel.open();
            channel.setOption(StandardSocketOptions.SO_RCVBUF, MirrorOptions.DEFAULT_RECEIVE_BUFFER_BYTES);
            channel.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            thread = new Thread(this::receive, "jdk-receiver");
            thread.start();
        }

        private void receive()
        {
            final ByteBuffer buffer = ByteBuffer.allocateDirect(MirrorSource.MAX_DATAGRAM + 1);
            long valid = 0;
            try
            {
                while (true)
                {
                    buffer.clear();
                    channel.receive(buffer);
                    if (buffer.position() >= VxlanHeader.LENGTH && (buffer.get(0) & VxlanHeader.I_FLAG) != 0)
                    {
                        valid++;
                    }
                    received.lazySet(received.get() + 1);
                }
            }
            catch (final ClosedChannelException e)
            {
                // closed: done
            }
            catch (final IOException e)
            {
                System.err.println("jdk receiver: " + e);
            }
            if (valid < 0)
            {
                System.out.println(valid); // keeps the check from being optimised away
            }
        }

        @Override
        public InetSocketAddress address()
        {
            try
            {
                return (InetSocketAddress)channel.getLocalAddress();
            }
            catch (final IOException e)
            {
                throw new IllegalStateException(e);
            }
        }

        @Override
        public long received()
        {
            return received.get();
        }

        @Override
        public long socketDrops()
        {
            return -1;
        }

        @Override
        public void close() throws IOException
        {
            channel.close();
            try
            {
                thread.join();
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
