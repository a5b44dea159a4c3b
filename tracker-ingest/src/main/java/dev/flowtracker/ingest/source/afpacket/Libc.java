package dev.flowtracker.ingest.source.afpacket;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The few C library calls AF_PACKET capture needs, bound with {@code java.lang.foreign} (no JNI): socket, setsockopt,
 * getsockopt, getsockname, bind, mmap, munmap, close and if_nametoindex. Every call captures {@code errno} right after
 * it returns ({@link Linker.Option#captureCallState}), so a failure becomes an {@link ErrnoException} that names the
 * call and the error. Only used while opening, closing and reading statistics: nothing here runs per packet.
 *
 * <p>The constants are Linux's (the same on x86-64, AArch64 and RISC-V 64; {@link AfPacket} refuses other systems).
 * Stateless: any thread may call.
 */
final class Libc
{
    static final int AF_PACKET = 17;
    static final int AF_UNIX = 1;
    static final int SOCK_RAW = 3;
    static final int SOCK_DGRAM = 2;
    static final int ETH_P_ALL = 0x0003;

    static final int SOL_SOCKET = 1;
    static final int SO_ERROR = 4;
    static final int SO_ATTACH_FILTER = 26;
    static final int SO_DETACH_FILTER = 27;

    static final int SOL_PACKET = 263;
    static final int PACKET_ADD_MEMBERSHIP = 1;
    static final int PACKET_RX_RING = 5;
    static final int PACKET_STATISTICS = 6;
    static final int PACKET_VERSION = 10;
    static final int PACKET_RESERVE = 12;
    static final int PACKET_FANOUT = 18;
    static final int TPACKET_V3 = 2;
    static final int PACKET_MR_PROMISC = 1;
    static final int PACKET_FANOUT_HASH = 0;
    /** With id 0: the kernel picks a fanout group id no other socket in the namespace uses. */
    static final int PACKET_FANOUT_FLAG_UNIQUEID = 0x2000;

    static final int PROT_READ = 1;
    static final int PROT_WRITE = 2;
    static final int MAP_SHARED = 1;

    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int ENXIO = 6;
    static final int ENOMEM = 12;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int ENODEV = 19;
    static final int EINVAL = 22;
    static final int ENOPROTOOPT = 92;
    static final int EAFNOSUPPORT = 97;
    static final int ENETDOWN = 100;

    /** struct sockaddr_ll: family, protocol (big-endian), ifindex, hatype, pkttype, halen, addr[8]. */
    static final int SOCKADDR_LL_SIZE = 20;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO =
        CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private static final MethodHandle SOCKET = bind("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
        JAVA_INT));
    private static final MethodHandle SETSOCKOPT = bind("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
        JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle GETSOCKOPT = bind("getsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
        JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle GETSOCKNAME = bind("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
        ADDRESS, ADDRESS));
    private static final MethodHandle BIND = bind("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
        JAVA_INT));
    private static final MethodHandle MMAP = bind("mmap", FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG,
        JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG));
    private static final MethodHandle MUNMAP = bind("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG));
    private static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = bind("if_nametoindex", FunctionDescriptor.of(JAVA_INT,
        ADDRESS));
    private static final MethodHandle STRERROR = bindWithoutErrno("strerror", FunctionDescriptor.of(ADDRESS,
        JAVA_INT));

    private Libc()
    {
    }

    private static MemorySegment symbol(final String name)
    {
        return LINKER.defaultLookup().find(name)
            .orElseThrow(() -> new UnsatisfiedLinkError("the C library has no " + name + "()"));
    }

    /** Binding a C function is restricted (native access): this class is the one place that does it. */
    @SuppressWarnings("restricted")
    private static MethodHandle bind(final String name, final FunctionDescriptor descriptor)
    {
        return LINKER.downcallHandle(symbol(name), descriptor, Linker.Option.captureCallState("errno"));
    }

    @SuppressWarnings("restricted")
    private static MethodHandle bindWithoutErrno(final String name, final FunctionDescriptor descriptor)
    {
        return LINKER.downcallHandle(symbol(name), descriptor);
    }

    /** {@code htons}: Linux on the supported machines is little-endian. */
    static int htons(final int value)
    {
        return Short.reverseBytes((short)value) & 0xFFFF;
    }

    static int socket(final int domain, final int type, final int protocol) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int fd = (int)SOCKET.invokeExact(state, domain, type, protocol);
            return check(fd, state, "socket");
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    static void setsockopt(final int fd, final int level, final int option, final MemorySegment value,
        final String what) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int result = (int)SETSOCKOPT.invokeExact(state, fd, level, option, value, (int)value.byteSize());
            check(result, state, "setsockopt(" + what + ")");
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    static void setsockoptInt(final int fd, final int level, final int option, final int value, final String what)
        throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            setsockopt(fd, level, option, arena.allocateFrom(JAVA_INT, value), what);
        }
    }

    /** Fills {@code value} (its whole size is offered to the kernel); returns the length the kernel wrote. */
    static int getsockopt(final int fd, final int level, final int option, final MemorySegment value,
        final String what) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment length = arena.allocateFrom(JAVA_INT, (int)value.byteSize());
            final int result = (int)GETSOCKOPT.invokeExact(state, fd, level, option, value, length);
            check(result, state, "getsockopt(" + what + ")");
            return length.get(JAVA_INT, 0);
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    static int getsockoptInt(final int fd, final int level, final int option, final String what)
        throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment value = arena.allocate(JAVA_INT);
            getsockopt(fd, level, option, value, what);
            return value.get(JAVA_INT, 0);
        }
    }

    /** The interface index a bound packet socket is attached to: -1 once its interface has been removed. */
    static int boundInterfaceIndex(final int fd) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment address = arena.allocate(SOCKADDR_LL_SIZE, 4);
            final MemorySegment length = arena.allocateFrom(JAVA_INT, SOCKADDR_LL_SIZE);
            final int result = (int)GETSOCKNAME.invokeExact(state, fd, address, length);
            check(result, state, "getsockname");
            return address.get(JAVA_INT, 4);
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    /** Binds a packet socket to one interface, receiving every protocol ({@code sll_protocol = ETH_P_ALL}). */
    static void bindPacket(final int fd, final int interfaceIndex) throws ErrnoException
    {
        bindPacket(fd, interfaceIndex, ETH_P_ALL);
    }

    /** Binds a packet socket to one interface, receiving {@code protocol} (0: nothing, a socket that only sends). */
    static void bindPacket(final int fd, final int interfaceIndex, final int protocol) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment address = arena.allocate(SOCKADDR_LL_SIZE, 4);
            address.set(JAVA_SHORT, 0, (short)AF_PACKET);
            address.set(JAVA_SHORT, 2, (short)htons(protocol));
            address.set(JAVA_INT, 4, interfaceIndex);
            final int result = (int)BIND.invokeExact(state, fd, address, SOCKADDR_LL_SIZE);
            check(result, state, "bind");
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    /** Maps {@code length} bytes of {@code fd} shared, readable and writable; returns the zero-length address. */
    static MemorySegment mmapShared(final int fd, final long length) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment address = (MemorySegment)MMAP.invokeExact(state, MemorySegment.NULL, length,
                PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0L);
            if (address.address() == -1L)
            {
                throw new ErrnoException("mmap", errno(state));
            }
            return address;
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    static void munmap(final MemorySegment address, final long length) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int result = (int)MUNMAP.invokeExact(state, address, length);
            check(result, state, "munmap");
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    static void close(final int fd) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int result = (int)CLOSE.invokeExact(state, fd);
            check(result, state, "close");
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    /** The interface's index; throws with ENODEV (or what the lookup failed with) when there is no such one. */
    static int ifNameToIndex(final String name) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int index = (int)IF_NAMETOINDEX.invokeExact(state, arena.allocateFrom(name));
            if (index == 0)
            {
                final int errno = errno(state);
                throw new ErrnoException("if_nametoindex", errno == 0 ? ENODEV : errno);
            }
            return index;
        }
        catch (final ErrnoException | RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    /** The C library's text for {@code errno}, e.g. "Operation not permitted". */
    @SuppressWarnings("restricted") // the returned pointer is a NUL-terminated string
    static String strerror(final int errno)
    {
        try
        {
            final MemorySegment text = (MemorySegment)STRERROR.invokeExact(errno);
            return text.reinterpret(Integer.MAX_VALUE).getString(0);
        }
        catch (final RuntimeException | Error e)
        {
            throw e;
        }
        catch (final Throwable e)
        {
            throw new AssertionError(e);
        }
    }

    private static int check(final int result, final MemorySegment state, final String call) throws ErrnoException
    {
        if (result < 0)
        {
            throw new ErrnoException(call, errno(state));
        }
        return result;
    }

    private static int errno(final MemorySegment state)
    {
        return (int)ERRNO.get(state, 0L);
    }
}
