package dev.flowtracker.ingest.source.afpacket;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * C library calls only the tests need: entering a network namespace on one thread ({@code setns}), datagram socket
 * pairs and raw sends (to run the BPF filter in the kernel), and per-thread capabilities ({@code capget}/{@code
 * capset}, to take CAP_NET_RAW away from one thread). Any thread.
 */
final class TestLibc
{
    static final int CLONE_NEWNET = 0x40000000;
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int MSG_DONTWAIT = 0x40;
    static final int EAGAIN = 11;
    static final int CAP_NET_RAW = 13;
    private static final int LINUX_CAPABILITY_VERSION_3 = 0x20080522;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle OPEN = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final MethodHandle SETNS = bind("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    private static final MethodHandle SOCKETPAIR = bind("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
        JAVA_INT, JAVA_INT, ADDRESS));
    private static final MethodHandle SEND = bind("send", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
        JAVA_LONG, JAVA_INT));
    private static final MethodHandle RECV = bind("recv", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS,
        JAVA_LONG, JAVA_INT));
    private static final MethodHandle CAPGET = bind("capget", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    private static final MethodHandle CAPSET = bind("capset", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    private TestLibc()
    {
    }

    @SuppressWarnings("restricted")
    private static MethodHandle bind(final String name, final FunctionDescriptor descriptor)
    {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), descriptor,
            Linker.Option.captureCallState("errno"));
    }

    private static long check(final long result, final MemorySegment state, final String call) throws ErrnoException
    {
        if (result < 0)
        {
            throw new ErrnoException(call, (int)ERRNO.get(state, 0L));
        }
        return result;
    }

    /** Moves the calling thread (only it) into the network namespace {@code ip netns} calls {@code name}. */
    static void enterNetworkNamespace(final String name) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final int fd = (int)check((int)OPEN.invokeExact(state, arena.allocateFrom("/run/netns/" + name),
                O_RDONLY | O_CLOEXEC), state, "open /run/netns/" + name);
            try
            {
                check((int)SETNS.invokeExact(state, fd, CLONE_NEWNET), state, "setns");
            }
            finally
            {
                Libc.close(fd);
            }
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

    /** Two connected AF_UNIX datagram sockets. */
    static int[] datagramPair() throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment fds = arena.allocate(JAVA_INT, 2);
            check((int)SOCKETPAIR.invokeExact(state, Libc.AF_UNIX, Libc.SOCK_DGRAM, 0, fds), state, "socketpair");
            return new int[] {fds.get(JAVA_INT, 0), fds.get(JAVA_INT, 4)};
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

    static void send(final int fd, final byte[] data) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment buffer = arena.allocate(Math.max(1, data.length));
            MemorySegment.copy(data, 0, buffer, java.lang.foreign.ValueLayout.JAVA_BYTE, 0, data.length);
            check((long)SEND.invokeExact(state, fd, buffer, (long)data.length, 0), state, "send");
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

    /** One datagram without waiting, or null when none is queued. */
    static byte[] receiveNow(final int fd) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment buffer = arena.allocate(65536);
            final long length = (long)RECV.invokeExact(state, fd, buffer, buffer.byteSize(), MSG_DONTWAIT);
            if (length < 0 && (int)ERRNO.get(state, 0L) == EAGAIN)
            {
                return null;
            }
            check(length, state, "recv");
            return buffer.asSlice(0, length).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
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

    /**
     * Sets or clears one capability in the calling thread's effective set (capabilities are per thread on Linux;
     * the permitted set is kept, so a cleared one can be raised again).
     */
    static void effectiveCapability(final int capability, final boolean on) throws ErrnoException
    {
        try (Arena arena = Arena.ofConfined())
        {
            final MemorySegment state = arena.allocate(CALL_STATE);
            final MemorySegment header = arena.allocate(8, 4);
            header.set(JAVA_INT, 0, LINUX_CAPABILITY_VERSION_3);
            header.set(JAVA_INT, 4, 0); // this thread
            final MemorySegment data = arena.allocate(24, 4); // two of {effective, permitted, inheritable}
            check((int)CAPGET.invokeExact(state, header, data), state, "capget");
            final long offset = capability / 32 * 12L;
            final int bit = 1 << capability % 32;
            final int effective = data.get(JAVA_INT, offset);
            data.set(JAVA_INT, offset, on ? effective | bit : effective & ~bit);
            check((int)CAPSET.invokeExact(state, header, data), state, "capset");
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
}
