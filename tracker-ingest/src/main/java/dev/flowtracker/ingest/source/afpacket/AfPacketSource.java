package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.SourceException;

import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.util.concurrent.Future;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;

/**
 * Live capture from network interfaces through AF_PACKET TPACKET_V3 rings ({@link PacketSocket}), each socket
 * driven by its own Netty epoll event loop ({@link RingIoHandle}) that hands frames to the pipeline in place
 * ({@link BlockRing}).
 *
 * <pre>
 *   interface eth0 --PACKET_FANOUT hash--+--> socket 0: ring --EPOLLIN--> event loop 0 --> sink 0 --+
 *   (kernel, BPF TCP-only filter)        +--> socket 1: ring --EPOLLIN--> event loop 1 --> sink 1 --+--> pipeline
 *   interface eth1 ----------------------+--> socket 2: ...                                         |    ring
 * </pre>
 *
 * Sockets are numbered interface by interface, fanout member by member: socket {@code i} is interface
 * {@code i / fanout}, member {@code i % fanout}; it is delivery thread {@code i} and the frames' interface id.
 *
 * <p>Threads: {@link #start} and {@link #close} are for a controlling thread, never a delivery thread (a sink that
 * closes its source would wait for itself: refused); each event loop thread alone reads
 * its ring and calls its sink; the counters may be read from any thread (a moment stale). A socket whose interface
 * is removed stops and reports through {@link #failure()}; the others keep capturing, and {@link #awaitEnd} returns
 * once every socket has stopped or the source is closed.
 */
public final class AfPacketSource implements PacketSource
{
    /** How long {@link #start} waits for a socket's registration with its event loop. */
    private static final long REGISTER_TIMEOUT_SECONDS = 10;
    /** How long {@link #close} waits for an event loop to stop. */
    private static final long SHUTDOWN_TIMEOUT_SECONDS = 10;

    private final AfPacketOptions options;
    private final CountDownLatch ended = new CountDownLatch(1);
    private final AtomicInteger runningSockets = new AtomicInteger();
    private volatile SourceException failure;
    /** Set once by {@link #start}; read by any thread afterwards. */
    private volatile List<RingIoHandle> handles = List.of();
    private final List<MultiThreadIoEventLoopGroup> loops = new ArrayList<>();
    private final List<IoRegistration> registrations = new ArrayList<>();
    private boolean started;
    private boolean closed;

    public AfPacketSource(final AfPacketOptions options)
    {
        this.options = options;
    }

    public AfPacketOptions options()
    {
        return options;
    }

    @Override
    public String kind()
    {
        return "af_packet";
    }

    @Override
    public String description()
    {
        final String interfaces = String.join(", ", options.interfaces());
        return options.fanout() == 1 ? interfaces : interfaces + " (fanout " + options.fanout() + ")";
    }

    @Override
    public boolean live()
    {
        return true;
    }

    @Override
    public int deliveryThreads()
    {
        return options.sockets();
    }

    @Override
    public synchronized void start(final IntFunction<FrameSink> sinkForThread) throws SourceException
    {
        if (started)
        {
            throw new IllegalStateException("already started");
        }
        started = true;
        final List<PacketSocket> sockets = new ArrayList<>();
        try
        {
            final int[] indexes = new int[options.interfaces().size()];
            for (int i = 0; i < indexes.length; i++)
            {
                indexes[i] = interfaceIndex(options.interfaces().get(i)); // a mistyped name first: it needs no rights
            }
            AfPacket.ensureAvailability();
            openSockets(indexes, sockets);
            final List<RingIoHandle> built = new ArrayList<>();
            for (int i = 0; i < sockets.size(); i++)
            {
                final PacketSocket socket = sockets.get(i);
                final BlockRing ring = new BlockRing(socket.ring(), socket.blockSize(), socket.blockCount(), i);
                built.add(new RingIoHandle(socket, ring, sinkForThread.apply(i), this::onSocketFailed,
                    newLoop(threadRole(i))));
            }
            runningSockets.set(built.size());
            handles = List.copyOf(built);
            for (final RingIoHandle handle : built)
            {
                register(handle);
            }
        }
        catch (final SourceException | RuntimeException | Error e)
        {
            stopLoops();
            for (final PacketSocket socket : sockets)
            {
                socket.close();
            }
            closed = true;
            ended.countDown();
            throw e;
        }
    }

    /**
     * Opens interface by interface, fanout member by member; closes what it opened when one fails. A socket lets
     * frames in only once it is in its fanout group ({@link PacketSocket}: until then it would receive every frame
     * that the group also delivers to a member), and once no frame can still reach it through the hook it had before
     * joining: all sockets start receiving together, after one wait for the kernel's frame handlers.
     */
    private void openSockets(final int[] indexes, final List<PacketSocket> sockets) throws SourceException
    {
        for (int i = 0; i < indexes.length; i++)
        {
            final String name = options.interfaces().get(i);
            final int index = indexes[i];
            int group = options.fanoutGroup();
            for (int member = 0; member < options.fanout(); member++)
            {
                final PacketSocket socket = PacketSocket.open(name, index, options);
                sockets.add(socket);
                if (member == 0 && options.promiscuous())
                {
                    socket.promiscuous(index);
                }
                if (options.fanout() > 1)
                {
                    // The others join by the id the first got, never asking for a new group: the kernel may pick 0.
                    group = member == 0 && options.fanoutGroup() == 0 ? socket.joinNewFanoutGroup() :
                        socket.joinFanout(group);
                }
            }
        }
        if (options.fanout() > 1)
        {
            PacketSocket.awaitFrameHandlers();
        }
        for (final PacketSocket socket : sockets)
        {
            socket.startReceiving();
        }
    }

    private static int interfaceIndex(final String name) throws SourceException
    {
        try
        {
            return Libc.ifNameToIndex(name);
        }
        catch (final ErrnoException e)
        {
            throw new SourceException("AF_PACKET capture on " + name + ": no such network interface (" +
                e.getMessage() + ")", e);
        }
    }

    /** {@code afpacket-<interface>}, and the socket's place in its fanout group when there are several. */
    private String threadRole(final int socket)
    {
        final String name = options.interfaces().get(socket / options.fanout());
        return "afpacket-" + name + (options.fanout() == 1 ? "" : "-" + socket % options.fanout());
    }

    /** One event loop (one thread, {@code tracker-<role>}) per socket. */
    private IoEventLoop newLoop(final String threadRole)
    {
        final MultiThreadIoEventLoopGroup group = new MultiThreadIoEventLoopGroup(1,
            TrackerThreads.single(threadRole, Kind.DAEMON), EpollIoHandler.newFactory());
        loops.add(group);
        return group.next();
    }

    /** Registers the socket on its loop, waiting for EPOLLIN (level-triggered). */
    private void register(final RingIoHandle handle) throws SourceException
    {
        final Future<IoRegistration> registering = handle.loop().register(handle);
        try
        {
            final IoRegistration registration = registering.get(REGISTER_TIMEOUT_SECONDS, TimeUnit.SECONDS);
            registrations.add(registration);
            registration.submit(EpollIoOps.EPOLLIN);
        }
        catch (final ExecutionException e)
        {
            throw new SourceException("AF_PACKET capture on " + handle.socket().interfaceName() +
                ": cannot register with the event loop: " + e.getCause(), e.getCause());
        }
        catch (final TimeoutException e)
        {
            throw new SourceException("AF_PACKET capture on " + handle.socket().interfaceName() +
                ": the event loop did not register the socket within " + REGISTER_TIMEOUT_SECONDS + "s", e);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            throw new SourceException("AF_PACKET capture on " + handle.socket().interfaceName() +
                ": interrupted while starting", e);
        }
    }

    /** On a socket's event loop: its interface is gone. */
    private void onSocketFailed(final RingIoHandle handle, final String message)
    {
        if (failure == null)
        {
            failure = new SourceException(message);
        }
        if (runningSockets.decrementAndGet() == 0)
        {
            ended.countDown();
        }
    }

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
        long total = 0;
        for (final RingIoHandle handle : handles)
        {
            total += handle.ring().frames();
        }
        return total;
    }

    @Override
    public long bytes()
    {
        long total = 0;
        for (final RingIoHandle handle : handles)
        {
            total += handle.ring().bytes();
        }
        return total;
    }

    /** The kernel's drops (ring full), all sockets: reads {@code PACKET_STATISTICS}. */
    @Override
    public long drops()
    {
        return kernelStats().drops();
    }

    /** Sockets opened (0 before {@link #start}): interfaces times fanout. */
    public int sockets()
    {
        return handles.size();
    }

    /** The interface socket {@code socket} captures on. */
    public String socketInterface(final int socket)
    {
        return handles.get(socket).socket().interfaceName();
    }

    /** One socket's kernel statistics, totalled since it opened (reads the kernel's counters now). */
    public KernelStats kernelStats(final int socket)
    {
        return handles.get(socket).socket().statistics();
    }

    /** The kernel statistics of an interface's sockets (its fanout members) summed; zero for an unknown name. */
    public KernelStats kernelStats(final String interfaceName)
    {
        KernelStats total = KernelStats.ZERO;
        for (final RingIoHandle handle : handles)
        {
            if (handle.socket().interfaceName().equals(interfaceName))
            {
                total = total.plus(handle.socket().statistics());
            }
        }
        return total;
    }

    /** All sockets' kernel statistics summed. */
    public KernelStats kernelStats()
    {
        KernelStats total = KernelStats.ZERO;
        for (final RingIoHandle handle : handles)
        {
            total = total.plus(handle.socket().statistics());
        }
        return total;
    }

    /** Frames socket {@code socket} delivered. */
    public long frames(final int socket)
    {
        return handles.get(socket).ring().frames();
    }

    /** The fanout group id the sockets share, or -1 without fanout (the first interface's when several). */
    public int fanoutGroup()
    {
        final List<RingIoHandle> current = handles;
        return current.isEmpty() ? -1 : current.get(0).socket().fanoutGroup();
    }

    /** Ring blocks whose packet list did not fit in the block (should stay 0), all sockets. */
    public long malformedBlocks()
    {
        long total = 0;
        for (final RingIoHandle handle : handles)
        {
            total += handle.ring().malformedBlocks();
        }
        return total;
    }

    /**
     * Frames this host sent with their checksums left to the NIC (TP_STATUS_CSUMNOTREADY), all sockets: their
     * checksums were not verified.
     */
    public long framesWithChecksumsPending()
    {
        long total = 0;
        for (final RingIoHandle handle : handles)
        {
            total += handle.ring().checksumsPending();
        }
        return total;
    }

    /** {@link #framesWithChecksumsPending()} of one interface's sockets. */
    public long framesWithChecksumsPending(final String interfaceName)
    {
        long total = 0;
        for (final RingIoHandle handle : handles)
        {
            if (handle.socket().interfaceName().equals(interfaceName))
            {
                total += handle.ring().checksumsPending();
            }
        }
        return total;
    }

    /** VLAN tags the kernel had taken off and that were put back into frames, all sockets. */
    public long vlanTagsRestored()
    {
        long total = 0;
        for (final RingIoHandle handle : handles)
        {
            total += handle.ring().vlanTagsRestored();
        }
        return total;
    }

    /** Frames whose sink threw (a bug downstream; the frame is skipped and capture goes on), all sockets. */
    public long sinkFailures()
    {
        long total = 0;
        for (final RingIoHandle handle : handles)
        {
            total += handle.ring().sinkFailures();
        }
        return total;
    }

    /** Longest {@link #close} waits for the kernel to hand over the blocks it is filling. */
    static final long MAX_CLOSE_SETTLE_NANOS = TimeUnit.SECONDS.toNanos(2);

    /**
     * Waits for the kernel to hand over the blocks it was filling (their timeout, twice over, at most
     * {@link #MAX_CLOSE_SETTLE_NANOS}), so frames captured before the call are read rather than unmapped with the
     * ring. Then stops every event loop (each finishes the block it is reading), reads the sockets' final
     * statistics, unmaps the rings and closes the sockets. Idempotent; a second caller waits for the first to finish.
     *
     * @throws IllegalStateException when called from a delivery thread (it would wait for itself).
     */
    @Override
    public void close()
    {
        for (final RingIoHandle handle : handles)
        {
            if (handle.loop().inEventLoop())
            {
                throw new IllegalStateException("close() called from a delivery thread of " + description());
            }
        }
        synchronized (this)
        {
            if (closed)
            {
                return;
            }
            closed = true;
            if (started && ended.getCount() > 0)
            {
                // The kernel retires a partly filled block only when its timer fires; the loops read it then.
                LockSupport.parkNanos(Math.min(MAX_CLOSE_SETTLE_NANOS,
                    2 * options.blockTimeout().toNanos() + TimeUnit.MILLISECONDS.toNanos(5)));
            }
            stopLoops();
            for (final RingIoHandle handle : handles)
            {
                handle.socket().close();
            }
            ended.countDown();
        }
    }

    private void stopLoops()
    {
        for (final IoRegistration registration : registrations)
        {
            registration.cancel();
        }
        for (final MultiThreadIoEventLoopGroup group : loops)
        {
            group.shutdownGracefully(0, SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        for (final MultiThreadIoEventLoopGroup group : loops)
        {
            group.terminationFuture().awaitUninterruptibly();
        }
    }
}
