package dev.flowtracker.ingest.source.afpacket;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import dev.flowtracker.ingest.source.SourceException;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * One AF_PACKET socket bound to one interface, with its TPACKET_V3 receive ring mapped into this process. Opening
 * it runs, in this order: {@code socket(AF_PACKET, SOCK_RAW, 0)} (protocol 0: nothing is received yet),
 * {@code PACKET_VERSION = TPACKET_V3}, {@code PACKET_RESERVE} (room to put a VLAN tag back), {@code PACKET_RX_RING},
 * {@code mmap}, {@code SO_ATTACH_FILTER} with a program that drops everything, {@code bind} to the interface with
 * {@code ETH_P_ALL}. The caller then adds {@code PACKET_ADD_MEMBERSHIP PACKET_MR_PROMISC} (optional,
 * {@link #promiscuous}) and {@code PACKET_FANOUT} (optional, {@link #joinNewFanoutGroup} or {@link #joinFanout}), and
 * only then
 * {@link #startReceiving} swaps in the real filter (or none): the first frame reaches the ring after the socket has
 * joined its group.
 *
 * <p>Why the filter that drops everything: the kernel lets only a bound socket join a fanout group (a socket that
 * is not yet receiving gets {@code EINVAL}), and a bound socket outside a group receives every frame of its
 * interface. Without it, frames arriving between {@code bind} and {@code PACKET_FANOUT} reached this socket and,
 * through the group, one of the members that had already joined: delivered twice (issue 19, item 7). The price:
 * frames the group hashes to this socket between joining and {@link #startReceiving} (a few microseconds, once, at
 * start) are dropped by that filter, uncounted, rather than delivered twice. Joining unhooks the socket's own hook
 * without waiting for the CPUs that may be handing it a frame right then (the kernel's receive path reads its hooks
 * under RCU); had the real filter been swapped in before such a frame got to it, the frame would have reached this
 * socket as well as the group. So the caller waits for them ({@link #awaitFrameHandlers}) between joining and
 * {@link #startReceiving}.
 *
 * <p>Threads: the ring is read by the socket's event loop only ({@link BlockRing}); {@link #statistics()} may be
 * called from any thread (synchronized: the kernel resets its counters on every read, so they are accumulated
 * here). {@link #close} is called once no thread reads the ring any more.
 */
final class PacketSocket implements AutoCloseable
{
    /** Slack before each frame for one VLAN tag ({@link BlockRing} puts stripped tags back). */
    private static final int RESERVE = Tpacket3.VLAN_TAG_LENGTH;
    /** Attached before {@code bind}, replaced by {@link #startReceiving}: the socket receives nothing until then. */
    private static final ClassicBpf.Program RECEIVE_NOTHING = new ClassicBpf().ret(0).build();

    private final String interfaceName;
    private final int fd;
    private final Arena arena;
    private final MemorySegment ring;
    private final int blockSize;
    private final int blockCount;
    /** What {@link #startReceiving} attaches, or null for no filter at all. */
    private final ClassicBpf.Program filter;
    /** The fanout group this socket joined, or -1. */
    private int fanoutGroup = -1;
    private long packets;
    private long drops;
    private long freezes;
    private boolean closed;

    private PacketSocket(final String interfaceName, final int fd, final Arena arena, final MemorySegment ring,
        final int blockSize, final int blockCount, final ClassicBpf.Program filter)
    {
        this.interfaceName = interfaceName;
        this.fd = fd;
        this.arena = arena;
        this.ring = ring;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.filter = filter;
    }

    /**
     * Opens a socket on interface {@code interfaceIndex} ({@code interfaceName} is for messages) with the ring
     * {@code options} ask for, bound but receiving nothing until {@link #startReceiving} (which attaches the filter
     * the options ask for). Fanout and promiscuous mode are separate steps in between ({@link #joinFanout},
     * {@link #promiscuous}).
     *
     * @throws SourceException naming the interface and what failed; nothing stays open.
     */
    @SuppressWarnings("restricted") // sizing the mapped ring: mmap returned exactly that many bytes
    static PacketSocket open(final String interfaceName, final int interfaceIndex, final AfPacketOptions options)
        throws SourceException
    {
        final int fd;
        try
        {
            fd = Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW, 0);
        }
        catch (final ErrnoException e)
        {
            throw AfPacket.socketFailure(interfaceName, e);
        }
        final long ringBytes = (long)options.blockSize() * options.blockCount();
        Arena arena = null;
        try
        {
            Libc.setsockoptInt(fd, Libc.SOL_PACKET, Libc.PACKET_VERSION, Libc.TPACKET_V3, "PACKET_VERSION");
            Libc.setsockoptInt(fd, Libc.SOL_PACKET, Libc.PACKET_RESERVE, RESERVE, "PACKET_RESERVE");
            requestRing(fd, options);
            final MemorySegment address = Libc.mmapShared(fd, ringBytes);
            arena = Arena.ofShared();
            // Closing the arena unmaps the ring: a late access then fails in Java instead of touching freed memory.
            final MemorySegment ring = address.reinterpret(ringBytes, arena,
                mapped -> unmapQuietly(mapped, ringBytes));
            final PacketSocket socket = new PacketSocket(interfaceName, fd, arena, ring, options.blockSize(),
                options.blockCount(), options.tcpOnlyFilter() ? TcpOnlyFilter.program() : null);
            socket.attachFilter(RECEIVE_NOTHING);
            Libc.bindPacket(fd, interfaceIndex);
            return socket;
        }
        catch (final ErrnoException e)
        {
            if (arena != null)
            {
                arena.close();
            }
            closeQuietly(fd);
            throw failure(interfaceName, e, options);
        }
        catch (final RuntimeException | Error e)
        {
            if (arena != null)
            {
                arena.close();
            }
            closeQuietly(fd);
            throw e;
        }
    }

    private static void requestRing(final int fd, final AfPacketOptions options) throws ErrnoException
    {
        try (Arena call = Arena.ofConfined())
        {
            final MemorySegment request = call.allocate(Tpacket3.REQ3_LENGTH, 4);
            final int framesPerBlock = options.blockSize() / options.frameSize();
            request.set(JAVA_INT, 0, options.blockSize());                       // tp_block_size
            request.set(JAVA_INT, 4, options.blockCount());                      // tp_block_nr
            request.set(JAVA_INT, 8, options.frameSize());                       // tp_frame_size
            request.set(JAVA_INT, 12, framesPerBlock * options.blockCount());    // tp_frame_nr
            request.set(JAVA_INT, 16, (int)options.blockTimeout().toMillis());   // tp_retire_blk_tov
            request.set(JAVA_INT, 20, 0);                                        // tp_sizeof_priv
            request.set(JAVA_INT, 24, 0);                                        // tp_feature_req_word
            Libc.setsockopt(fd, Libc.SOL_PACKET, Libc.PACKET_RX_RING, request, "PACKET_RX_RING");
        }
    }

    /** A one-line message for a failed setup step. */
    private static SourceException failure(final String interfaceName, final ErrnoException e,
        final AfPacketOptions options)
    {
        final String prefix = "AF_PACKET capture on " + interfaceName + ": ";
        final String call = e.call();
        if (call.equals("setsockopt(PACKET_VERSION)") && (e.errno() == Libc.EINVAL || e.errno() == Libc.ENOPROTOOPT))
        {
            return new SourceException(prefix + "this kernel does not support TPACKET_V3 (Linux 3.2 or newer is " +
                "needed; " + e.getMessage() + ")", e);
        }
        if (call.equals("setsockopt(PACKET_RX_RING)") && e.errno() == Libc.ENOMEM)
        {
            return new SourceException(prefix + "the kernel cannot allocate a ring of " + options.blockCount() +
                " blocks of " + options.blockSize() + " bytes (" + e.getMessage() +
                "); use fewer or smaller blocks", e);
        }
        if (call.equals("setsockopt(PACKET_RX_RING)") && e.errno() == Libc.EINVAL)
        {
            return new SourceException(prefix + "the kernel refused a ring of " + options.blockCount() +
                " blocks of " + options.blockSize() + " bytes, frame size " + options.frameSize() +
                " (blocks must be a multiple of the page size; " + e.getMessage() + ")", e);
        }
        if (call.equals("bind") && (e.errno() == Libc.ENODEV || e.errno() == Libc.ENXIO))
        {
            return new SourceException(prefix + "no such network interface (" + e.getMessage() + ")", e);
        }
        if (call.equals("bind") && e.errno() == Libc.ENETDOWN)
        {
            return new SourceException(prefix + "the interface is down (" + e.getMessage() + ")", e);
        }
        if (e.errno() == Libc.EPERM || e.errno() == Libc.EACCES)
        {
            return new SourceException(prefix + AfPacket.NEEDS_CAP_NET_RAW + " (" + e.getMessage() + ")", e);
        }
        return new SourceException(prefix + e.getMessage(), e);
    }

    private void attachFilter(final ClassicBpf.Program program) throws ErrnoException
    {
        try (Arena call = Arena.ofConfined())
        {
            Libc.setsockopt(fd, Libc.SOL_SOCKET, Libc.SO_ATTACH_FILTER, program.toSockFprog(call), "SO_ATTACH_FILTER");
        }
    }

    /**
     * Lets frames in: replaces the filter that drops everything with the one the options asked for (the TCP-only
     * program), or removes it (either is one atomic swap in the kernel). Called once; for a fanout member after it
     * has joined its group and {@link #awaitFrameHandlers} has returned.
     */
    void startReceiving() throws SourceException
    {
        try
        {
            if (filter != null)
            {
                attachFilter(filter);
            }
            else
            {
                Libc.setsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_DETACH_FILTER, 0, "SO_DETACH_FILTER");
            }
        }
        catch (final ErrnoException e)
        {
            throw new SourceException("AF_PACKET capture on " + interfaceName + ": cannot start receiving: " +
                e.getMessage(), e);
        }
    }

    /**
     * Returns once every frame the kernel was handing to a packet socket hook when this was called has been handled
     * (an RCU grace period of the network stack). Releasing a packet socket waits for exactly that
     * ({@code packet_release} calls {@code synchronize_net} so that no receive handler still runs for the socket it
     * frees); one that never received costs nothing else. Milliseconds; called once per start.
     */
    static void awaitFrameHandlers() throws SourceException
    {
        try
        {
            Libc.close(Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW, 0));
        }
        catch (final ErrnoException e)
        {
            throw new SourceException("AF_PACKET capture: cannot wait for the kernel's frame handlers: " +
                e.getMessage(), e);
        }
    }

    /** Puts the interface in promiscuous mode for as long as this socket is open (the kernel counts users). */
    void promiscuous(final int interfaceIndex) throws SourceException
    {
        try (Arena call = Arena.ofConfined())
        {
            final MemorySegment request = call.allocate(16, 4); // struct packet_mreq
            request.set(JAVA_INT, 0, interfaceIndex);
            request.set(JAVA_SHORT, 4, (short)Libc.PACKET_MR_PROMISC);
            Libc.setsockopt(fd, Libc.SOL_PACKET, Libc.PACKET_ADD_MEMBERSHIP, request,
                "PACKET_ADD_MEMBERSHIP PACKET_MR_PROMISC");
        }
        catch (final ErrnoException e)
        {
            throw new SourceException("AF_PACKET capture on " + interfaceName + ": cannot enable promiscuous mode: " +
                e.getMessage(), e);
        }
    }

    /**
     * Creates a {@code PACKET_FANOUT} hash group with an id no other group in the network namespace has (the kernel
     * picks it, {@code PACKET_FANOUT_FLAG_UNIQUEID}) and joins it. Returns the group's id, for the other members to
     * {@link #joinFanout join} by: 0 to 65535, and 0 is an id like any other. The kernel picks from one counter for
     * the whole machine that wraps after 65535, so it does hand out 0.
     */
    int joinNewFanoutGroup() throws SourceException
    {
        return join(0, Libc.PACKET_FANOUT_FLAG_UNIQUEID);
    }

    /**
     * Joins the {@code PACKET_FANOUT} hash group {@code group} (0 to 65535), creating it if no socket of this network
     * namespace is in it. Never asks for a new group: id 0 is joined as an id too (with
     * {@code PACKET_FANOUT_FLAG_UNIQUEID} it would make a second group, and every frame would reach one member of
     * each). Returns {@code group}.
     */
    int joinFanout(final int group) throws SourceException
    {
        return join(group, 0);
    }

    private int join(final int group, final int flags) throws SourceException
    {
        try
        {
            Libc.setsockoptInt(fd, Libc.SOL_PACKET, Libc.PACKET_FANOUT,
                group | (Libc.PACKET_FANOUT_HASH | flags) << 16, "PACKET_FANOUT");
            fanoutGroup = Libc.getsockoptInt(fd, Libc.SOL_PACKET, Libc.PACKET_FANOUT, "PACKET_FANOUT") & 0xFFFF;
            return fanoutGroup;
        }
        catch (final ErrnoException e)
        {
            final boolean unique = flags != 0;
            final String hint = e.errno() == Libc.EINVAL && !unique ?
                " (group " + group + " is used by other sockets with another mode or interface)" : "";
            throw new SourceException("AF_PACKET capture on " + interfaceName + ": cannot join fanout group " +
                (unique ? "(new)" : group) + ": " + e.getMessage() + hint, e);
        }
    }

    int fd()
    {
        return fd;
    }

    String interfaceName()
    {
        return interfaceName;
    }

    MemorySegment ring()
    {
        return ring;
    }

    int blockSize()
    {
        return blockSize;
    }

    int blockCount()
    {
        return blockCount;
    }

    /** The fanout group joined, or -1. */
    int fanoutGroup()
    {
        return fanoutGroup;
    }

    /**
     * Reads and clears the socket's pending error ({@code SO_ERROR}); 0 when there is none. The event loop calls it
     * on EPOLLERR, which stays raised until the error is read.
     */
    int takeError()
    {
        try
        {
            return Libc.getsockoptInt(fd, Libc.SOL_SOCKET, Libc.SO_ERROR, "SO_ERROR");
        }
        catch (final ErrnoException e)
        {
            return e.errno();
        }
    }

    /** Whether the socket is still attached to an interface (false once the interface has been removed). */
    boolean interfacePresent()
    {
        try
        {
            return Libc.boundInterfaceIndex(fd) > 0;
        }
        catch (final ErrnoException e)
        {
            return false;
        }
    }

    /**
     * The kernel's {@code PACKET_STATISTICS} since the socket opened: reads (and so resets) the kernel's counters and
     * adds them to the totals. After {@link #close}, the totals as they were at close.
     */
    synchronized KernelStats statistics()
    {
        if (!closed)
        {
            try (Arena call = Arena.ofConfined())
            {
                final MemorySegment stats = call.allocate(Tpacket3.STATS3_LENGTH, 4);
                Libc.getsockopt(fd, Libc.SOL_PACKET, Libc.PACKET_STATISTICS, stats, "PACKET_STATISTICS");
                packets += Integer.toUnsignedLong(stats.get(JAVA_INT, 0));
                drops += Integer.toUnsignedLong(stats.get(JAVA_INT, 4));
                freezes += Integer.toUnsignedLong(stats.get(JAVA_INT, 8));
            }
            catch (final ErrnoException e)
            {
                // a socket that cannot report keeps its last totals
            }
        }
        return new KernelStats(packets, drops, freezes);
    }

    /** Reads the final statistics, unmaps the ring and closes the socket. Idempotent. */
    @Override
    public synchronized void close()
    {
        if (closed)
        {
            return;
        }
        statistics();
        closed = true;
        arena.close();
        closeQuietly(fd);
    }

    private static void unmapQuietly(final MemorySegment mapped, final long length)
    {
        try
        {
            Libc.munmap(mapped, length);
        }
        catch (final ErrnoException e)
        {
            // nothing more can be done with an address the kernel does not know
        }
    }

    private static void closeQuietly(final int fd)
    {
        try
        {
            Libc.close(fd);
        }
        catch (final ErrnoException e)
        {
            // the descriptor is released either way
        }
    }
}
