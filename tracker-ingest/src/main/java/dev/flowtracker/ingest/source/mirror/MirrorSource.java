package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.SourceException;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.FixedRecvByteBufAllocator;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollDatagramChannel;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocalThread;

import java.lang.foreign.Arena;
import java.net.InetSocketAddress;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * Receives mirrored traffic (VXLAN or Geneve over UDP) and delivers each inner Ethernet frame, in place, with its
 * VNI as the tunnel id, so equal 4-tuples of different mirror sessions stay apart. Live: it never waits for the
 * pipeline.
 *
 * <pre>
 *   mirror senders (VTEPs)          kernel                        delivery threads (Netty epoll loops)
 *   UDP, one outer source   --->  SO_REUSEPORT group on  --->  loop 0: socket 0 -> Receiver 0 -> sink 0
 *   port per inner flow           ADDR:PORT, hashed by the    loop 1: socket 1 -> Receiver 1 -> sink 1
 *                                 outer 4-tuple                ...     (one socket, one sink per loop)
 * </pre>
 * A sender keeps one inner flow on one outer 4-tuple (VTEPs derive the source port from the inner headers), so a
 * connection's packets reach one socket, in order.
 *
 * <p>Each datagram: read, {@link #RECEIVE_BATCH} per recvmmsg call, into a slot of {@link #READ_BUFFER} bytes (a
 * jumbo frame behind the largest Geneve header fits; a datagram that fills its slot was cut by the kernel and is
 * counted {@link MirrorCounter#TRUNCATED}),
 * decapsulated ({@link Decapsulator}: malformed and skipped datagrams are counted by reason, never thrown), stamped
 * with the receive time (wall clock, ns), handed to the sink, released.
 *
 * <p>{@link #drops()} is the kernel's drop counter of the sockets ({@code /proc/net/udp}: datagrams lost because a
 * receive buffer was full), read when asked; 0 where {@code /proc} is unavailable. Datagrams the kernel dropped
 * before they reached the sockets (a full device backlog) are not in it.
 *
 * <p>Threads: {@link #start} and {@link #close} from a controlling thread (never from a delivery thread); each
 * socket's handler runs on its event loop only (threads {@code tracker-vxlan-<n>} or {@code tracker-geneve-<n>});
 * counters are read from anywhere.
 */
public final class MirrorSource implements PacketSource
{
    /** The largest inner frame read whole: a 9,216-byte jumbo frame. */
    public static final int MAX_INNER_FRAME = 9216;
    /** The largest datagram read whole: the largest Geneve header (VXLAN's is smaller) and a jumbo frame. */
    public static final int MAX_DATAGRAM = GeneveHeader.MAX_LENGTH + MAX_INNER_FRAME;
    /** One byte more than {@link #MAX_DATAGRAM}: a datagram that fills the buffer was longer, and cut. */
    static final int READ_BUFFER = MAX_DATAGRAM + 1;
    private static final long SHUTDOWN_TIMEOUT_SECONDS = 10;
    /**
     * Datagrams read per system call (recvmmsg): each read takes a buffer of this many {@link #READ_BUFFER} slots.
     * 8 read about a fifth more per second than 1 on loopback in two noisy rounds (tracker-bench/README.md).
     */
    static final int RECEIVE_BATCH = 8;

    private final MirrorOptions options;
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile boolean closing;
    private volatile SourceException failure;
    /** Set by {@link #start} under this object's lock; read by {@link #close} after taking it. */
    private MultiThreadIoEventLoopGroup group;
    private Channel[] channels;
    private long[] inodes;
    private Arena arena;
    private volatile Receiver[] receivers;
    private volatile InetSocketAddress boundAddress;
    private volatile int grantedReceiveBuffer;
    /** The sockets' drops when they were closed (-1: never opened or unknown). */
    private volatile long finalDrops = -1;
    private boolean started;
    private boolean closed;

    public MirrorSource(final MirrorOptions options)
    {
        if (options == null)
        {
            throw new IllegalArgumentException("mirror options missing");
        }
        this.options = options;
    }

    /** Whether this machine can run a mirror receiver (Linux with Netty's native epoll transport). */
    public static boolean isAvailable()
    {
        return Epoll.isAvailable();
    }

    /** Why {@link #isAvailable()} is false, or null. */
    public static Throwable unavailabilityCause()
    {
        return Epoll.unavailabilityCause();
    }

    public MirrorOptions options()
    {
        return options;
    }

    @Override
    public String kind()
    {
        return options.protocol().label();
    }

    @Override
    public String description()
    {
        final InetSocketAddress bound = boundAddress;
        final String where = MirrorOptions.hostAndPort(bound != null ? bound : options.listen());
        return options.protocol().label() + " on " + where +
            (options.threads() > 1 ? " (" + options.threads() + " sockets)" : "");
    }

    @Override
    public boolean live()
    {
        return true;
    }

    @Override
    public int deliveryThreads()
    {
        return options.threads();
    }

    /**
     * Binds {@link MirrorOptions#threads()} sockets to the listen address (port 0: the port the first one got) and
     * starts receiving.
     *
     * @throws SourceException when epoll is unavailable or a socket cannot be bound (address in use or not local,
     *                         permission); nothing is left open.
     */
    @Override
    public synchronized void start(final IntFunction<FrameSink> sinkForThread) throws SourceException
    {
        if (started || closed)
        {
            throw new IllegalStateException(closed ? "closed" : "already started");
        }
        started = true;
        if (!Epoll.isAvailable())
        {
            closeAfterFailedStart();
            throw new SourceException(options.describe() + ": Linux epoll (Netty's native transport) is not " +
                "available: " + oneLine(Epoll.unavailabilityCause()));
        }
        // One listener per mirror port: SO_REUSEPORT would let a second process join the port and the kernel would
        // split the traffic between them. Checked before binding (nothing taken from the one already serving) and
        // again after (a process that bound at the same moment, or a port 0 the kernel shared).
        if (options.listen().getPort() != 0)
        {
            try
            {
                refuseIfServed(options.listen(), new long[0]);
            }
            catch (final SourceException e)
            {
                closeAfterFailedStart();
                throw e;
            }
        }
        final int threads = options.threads();
        final Receiver[] handlers = new Receiver[threads];
        final long[] socketInodes = new long[threads];
        channels = new Channel[threads];
        arena = Arena.ofShared();
        // Netty's own thread class, as its default factory made: its thread-locals take the fast path on these loops.
        group = new MultiThreadIoEventLoopGroup(threads,
            TrackerThreads.numbered(options.protocol().label(), Kind.DAEMON, FastThreadLocalThread::new),
            EpollIoHandler.newFactory());
        try
        {
            int i = 0;
            for (final EventExecutor loop : group)
            {
                handlers[i] = new Receiver(i, sinkForThread.apply(i), options.protocol(), arena.allocate(READ_BUFFER),
                    () -> closing, this::socketClosed);
                socketInodes[i] = bind(i, (EventLoop)loop, handlers[i]);
                i++;
            }
            grantedReceiveBuffer = channels[0].config().getOption(ChannelOption.SO_RCVBUF);
            if (Arrays.stream(socketInodes).allMatch(inode -> inode > 0)) // else ours cannot be told apart
            {
                refuseIfServed(boundAddress, socketInodes);
            }
        }
        catch (final SourceException | RuntimeException e)
        {
            closeAfterFailedStart();
            throw e;
        }
        inodes = socketInodes;
        receivers = handlers;
    }

    /**
     * Throws when a socket other than {@code ours} serves {@code listen}'s port (see {@link UdpPortOwners}); the
     * caller releases what it opened.
     */
    private void refuseIfServed(final InetSocketAddress listen, final long[] ours) throws SourceException
    {
        final String competitor = UdpPortOwners.competitor(listen, ours);
        if (competitor != null)
        {
            throw new SourceException(options.protocol().label() + " on " + MirrorOptions.hostAndPort(listen) +
                ": cannot listen: the port is already served by " + competitor + "; one listener per mirror port " +
                "(SO_REUSEPORT would have the kernel split the traffic between them)");
        }
    }

    /** Binds socket {@code i} on {@code loop}; returns its inode (for drops), -1 when unknown. */
    private long bind(final int i, final EventLoop loop, final Receiver handler) throws SourceException
    {
        final InetSocketAddress address = i == 0 ? options.listen() :
            new InetSocketAddress(options.listen().getAddress(), boundAddress.getPort());
        final ChannelFuture bound = new Bootstrap()
            .group(loop)
            .channel(EpollDatagramChannel.class)
            .option(EpollChannelOption.SO_REUSEPORT, true)
            .option(ChannelOption.SO_RCVBUF, options.receiveBufferBytes())
            .option(ChannelOption.RECVBUF_ALLOCATOR, new FixedRecvByteBufAllocator(READ_BUFFER * RECEIVE_BATCH))
            .option(EpollChannelOption.MAX_DATAGRAM_PAYLOAD_SIZE, READ_BUFFER)
            .handler(handler)
            .bind(address)
            .awaitUninterruptibly();
        if (!bound.isSuccess())
        {
            throw new SourceException(options.protocol().label() + " on " + MirrorOptions.hostAndPort(address) +
                ": cannot listen: " + oneLine(bound.cause()), bound.cause());
        }
        final Channel channel = bound.channel();
        channels[i] = channel;
        if (i == 0)
        {
            boundAddress = new InetSocketAddress(options.listen().getAddress(),
                ((InetSocketAddress)channel.localAddress()).getPort());
        }
        return UdpSocketDrops.inodeOf(((EpollDatagramChannel)channel).fd().intValue());
    }

    private void socketClosed(final int index)
    {
        if (failure == null)
        {
            failure = new SourceException(description() + ": socket " + index + " closed unexpectedly");
        }
    }

    /** A failed start (under the lock): release what was opened; the source is then closed and ended. */
    private void closeAfterFailedStart()
    {
        closed = true;
        shutDown();
        ended.countDown();
    }

    /** Waits until {@link #close} (a live source has no end of its own). */
    @Override
    public void awaitEnd() throws InterruptedException
    {
        ended.await();
    }

    @Override
    public SourceException failure()
    {
        return failure;
    }

    @Override
    public long frames()
    {
        return counter(MirrorCounter.FRAMES);
    }

    @Override
    public long bytes()
    {
        return counter(MirrorCounter.BYTES);
    }

    /** The sockets' kernel drop count (receive buffer full); 0 when unknown (no /proc). */
    @Override
    public long drops()
    {
        synchronized (this)
        {
            if (closed || inodes == null)
            {
                return Math.max(0, finalDrops);
            }
            return Math.max(0, UdpSocketDrops.sum(inodes));
        }
    }

    /** One counter, summed over the delivery threads (a moment stale while running). */
    public long counter(final MirrorCounter counter)
    {
        final Receiver[] all = receivers;
        long total = 0;
        if (all != null)
        {
            for (final Receiver receiver : all)
            {
                total += receiver.counters().get(counter);
            }
        }
        return total;
    }

    /** Datagrams counted under one of the {@link MirrorCounter.Kind#MALFORMED} reasons. */
    public long malformed()
    {
        return sumOfKind(MirrorCounter.Kind.MALFORMED);
    }

    /** Datagrams skipped as not carrying a mirrored Ethernet frame ({@link MirrorCounter.Kind#SKIPPED}). */
    public long skipped()
    {
        return sumOfKind(MirrorCounter.Kind.SKIPPED);
    }

    private long sumOfKind(final MirrorCounter.Kind kind)
    {
        long total = 0;
        for (final MirrorCounter counter : MirrorCounter.values())
        {
            if (counter.kind() == kind)
            {
                total += counter(counter);
            }
        }
        return total;
    }

    /** The latest socket read or sink error, in one line, or null. */
    public String lastError()
    {
        final Receiver[] all = receivers;
        if (all != null)
        {
            for (final Receiver receiver : all)
            {
                final Throwable error = receiver.lastError();
                if (error != null)
                {
                    return oneLine(error);
                }
            }
        }
        return null;
    }

    /** Where the sockets are bound (the actual port when the options asked for port 0); null before start. */
    public InetSocketAddress localAddress()
    {
        return boundAddress;
    }

    /**
     * The receive buffer the kernel granted each socket, as it reports it (twice what it accounts for data, capped
     * by {@code net.core.rmem_max}); 0 before start.
     */
    public int receiveBufferBytes()
    {
        return grantedReceiveBuffer;
    }

    /**
     * Stops delivery: closes the sockets, stops the event loops and waits for them, so no sink is called once this
     * returns. Idempotent; a second caller waits for the first to finish.
     *
     * @throws IllegalStateException when called from a delivery thread (it would wait for itself).
     */
    @Override
    public void close()
    {
        final MultiThreadIoEventLoopGroup loops;
        synchronized (this)
        {
            loops = group;
        }
        if (loops != null)
        {
            for (final EventExecutor loop : loops)
            {
                if (loop.inEventLoop())
                {
                    throw new IllegalStateException("close() called from a delivery thread of " + description());
                }
            }
        }
        final boolean first;
        synchronized (this)
        {
            first = !closed;
            closed = true;
        }
        if (first)
        {
            shutDown();
            ended.countDown();
        }
        Uninterruptibly.await(ended::await);
    }

    /** Closes the sockets, then stops the loops and waits for their threads, then frees the scratch memory. */
    private void shutDown()
    {
        closing = true;
        if (inodes != null)
        {
            finalDrops = UdpSocketDrops.sum(inodes);
        }
        if (channels != null)
        {
            for (final Channel channel : channels)
            {
                if (channel != null)
                {
                    channel.close().awaitUninterruptibly();
                }
            }
        }
        if (group != null)
        {
            group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS).awaitUninterruptibly();
        }
        if (arena != null)
        {
            arena.close();
        }
    }

    /** A throwable's message on one line, without Netty's "bind(..) failed with error(-98): " prefix. */
    static String oneLine(final Throwable t)
    {
        if (t == null)
        {
            return "unknown cause";
        }
        String message = t.getMessage();
        if (message == null || message.isBlank())
        {
            message = t.getClass().getSimpleName();
        }
        final int nativeError = message.indexOf("failed with error(");
        if (nativeError >= 0)
        {
            final int end = message.indexOf("): ", nativeError);
            if (end >= 0)
            {
                message = message.substring(end + 3);
            }
        }
        return message.replace('\n', ' ').replace('\r', ' ').strip();
    }
}
