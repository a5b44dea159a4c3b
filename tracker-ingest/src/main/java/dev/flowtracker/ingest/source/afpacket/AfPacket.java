package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.ingest.source.SourceException;

import io.netty.channel.epoll.Epoll;

import java.util.Locale;
import java.util.Set;

/**
 * Whether AF_PACKET capture can work in this process, and if not why, asked once (like Netty's
 * {@code Epoll.isAvailable()} / {@code unavailabilityCause()}): Linux on a 64-bit machine whose constants
 * {@link Libc} uses, Netty's native epoll transport, the C library's functions, a packet socket (needs
 * CAP_NET_RAW) and TPACKET_V3 (Linux 3.2+). The probe opens a packet socket with protocol 0, which receives nothing,
 * and closes it again.
 *
 * <p>Stateless after class initialization; any thread.
 */
public final class AfPacket
{
    static final String NEEDS_CAP_NET_RAW =
        "needs CAP_NET_RAW (run as root, or grant it: setcap cap_net_raw,cap_net_admin+ep on the java binary)";
    private static final Set<String> ARCHITECTURES = Set.of("amd64", "x86_64", "aarch64", "riscv64");

    private static final SourceException UNAVAILABILITY_CAUSE = probe();

    private AfPacket()
    {
    }

    /** Whether {@link AfPacketSource} can capture here. */
    public static boolean isAvailable()
    {
        return UNAVAILABILITY_CAUSE == null;
    }

    /** Why AF_PACKET capture is not available (a one-line message), or null when it is. */
    public static SourceException unavailabilityCause()
    {
        return UNAVAILABILITY_CAUSE;
    }

    /** Throws {@link #unavailabilityCause()} when AF_PACKET capture is not available. */
    public static void ensureAvailability() throws SourceException
    {
        if (UNAVAILABILITY_CAUSE != null)
        {
            throw new SourceException(UNAVAILABILITY_CAUSE.getMessage(), UNAVAILABILITY_CAUSE);
        }
    }

    private static SourceException probe()
    {
        final String os = System.getProperty("os.name", "");
        if (!os.toLowerCase(Locale.ROOT).startsWith("linux"))
        {
            return new SourceException("AF_PACKET capture needs Linux; this is " + os);
        }
        final String arch = System.getProperty("os.arch", "");
        if (!ARCHITECTURES.contains(arch))
        {
            return new SourceException("AF_PACKET capture supports x86-64, AArch64 and RISC-V 64; this is " + arch);
        }
        try
        {
            if (!Epoll.isAvailable())
            {
                return new SourceException("AF_PACKET capture needs Netty's native epoll transport: " +
                    Epoll.unavailabilityCause(), Epoll.unavailabilityCause());
            }
        }
        catch (final LinkageError e)
        {
            return new SourceException("AF_PACKET capture needs Netty's native epoll transport: " + e, e);
        }
        final int fd;
        try
        {
            fd = Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW, 0);
        }
        catch (final ErrnoException e)
        {
            return socketFailure(null, e);
        }
        catch (final LinkageError | RuntimeException e)
        {
            return new SourceException("AF_PACKET capture cannot call the C library: " + e, e);
        }
        try
        {
            Libc.setsockoptInt(fd, Libc.SOL_PACKET, Libc.PACKET_VERSION, Libc.TPACKET_V3, "PACKET_VERSION");
            return null;
        }
        catch (final ErrnoException e)
        {
            return new SourceException("AF_PACKET capture needs TPACKET_V3, which this kernel does not support " +
                "(Linux 3.2 or newer; " + e.getMessage() + ")", e);
        }
        finally
        {
            try
            {
                Libc.close(fd);
            }
            catch (final ErrnoException e)
            {
                // released either way
            }
        }
    }

    /** A one-line message for a failed {@code socket(AF_PACKET, ...)}; {@code interfaceName} may be null. */
    static SourceException socketFailure(final String interfaceName, final ErrnoException e)
    {
        final String prefix = interfaceName == null ? "AF_PACKET capture " : "AF_PACKET capture on " + interfaceName +
            " ";
        if (e.errno() == Libc.EPERM || e.errno() == Libc.EACCES)
        {
            return new SourceException(prefix + NEEDS_CAP_NET_RAW + " (" + e.getMessage() + ")", e);
        }
        if (e.errno() == Libc.EAFNOSUPPORT)
        {
            return new SourceException(prefix + "needs a kernel with packet sockets (CONFIG_PACKET; " +
                e.getMessage() + ")", e);
        }
        return new SourceException(prefix + "cannot open a packet socket: " + e.getMessage(), e);
    }
}
