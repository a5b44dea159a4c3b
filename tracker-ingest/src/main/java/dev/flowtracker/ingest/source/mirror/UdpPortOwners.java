package dev.flowtracker.ingest.source.mirror;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Finds UDP sockets of this network namespace, in any process, that would share a mirror port with ours. SO_REUSEPORT
 * lets every socket of the same user bind a port already bound, and the kernel then splits the datagrams between
 * them: a second daemon on a mirror port would silently take part of the first one's traffic. The kernel's socket
 * tables ({@code /proc/net/udp}, {@code /proc/net/udp6}) are per network namespace, which is exactly the scope in
 * which two sockets compete; the caller's own sockets are told apart by their inodes.
 *
 * <p>Two sockets compete when their ports are equal and their addresses are equal or either is a wildcard
 * ({@code 0.0.0.0}, {@code ::}); an IPv4-mapped IPv6 address counts as its IPv4 address. Stateless; any thread.
 */
final class UdpPortOwners
{

    private UdpPortOwners()
    {
    }

    /**
     * A socket other than {@code ours} that competes with {@code listen}, described for an error message (its
     * address, inode and, when this process may see it, the owning process id), or null when there is none or the
     * tables cannot be read (not Linux, /proc hidden).
     */
    static String competitor(final InetSocketAddress listen, final long[] ours)
    {
        final String[] found = new String[1];
        ProcNetUdp.forEachRow(columns ->
        {
            if (columns.length <= ProcNetUdp.INODE_COLUMN)
            {
                return true;
            }
            final InetSocketAddress local = parseLocal(columns[ProcNetUdp.LOCAL_ADDRESS_COLUMN]);
            final long inode = parseInode(columns[ProcNetUdp.INODE_COLUMN]);
            if (local != null && inode > 0 && !contains(ours, inode) && competes(listen, local))
            {
                final long pid = ownerPid(inode);
                found[0] = MirrorOptions.hostAndPort(local) + " (socket inode " + inode +
                    (pid > 0 ? ", pid " + pid : "") + ")";
                return false;
            }
            return true;
        });
        return found[0];
    }

    /** Whether a socket bound to {@code other} would share datagrams sent to {@code listen}'s port with it. */
    static boolean competes(final InetSocketAddress listen, final InetSocketAddress other)
    {
        if (listen.getPort() != other.getPort())
        {
            return false;
        }
        final byte[] a = normalized(listen.getAddress());
        final byte[] b = normalized(other.getAddress());
        return isWildcard(a) || isWildcard(b) || Arrays.equals(a, b);
    }

    /**
     * A {@code local_address} column: {@code 0100007F:12B5} (IPv4, the address as the kernel's 32-bit word printed
     * in host byte order) or 32 hex digits of IPv6 (four such words) and the port in hex. Null if malformed.
     */
    static InetSocketAddress parseLocal(final String column)
    {
        final int colon = column.indexOf(':');
        if (colon != 8 && colon != 32)
        {
            return null;
        }
        try
        {
            final int port = Integer.parseInt(column, colon + 1, column.length(), 16);
            final byte[] address = new byte[colon / 2];
            for (int word = 0; word < address.length / 4; word++)
            {
                final int value = Integer.parseUnsignedInt(column, word * 8, word * 8 + 8, 16);
                // The kernel stores the address in network order and prints each 32-bit word as a native
                // (little-endian on the platforms this runs on) integer.
                for (int i = 0; i < 4; i++)
                {
                    address[word * 4 + i] = (byte)(value >>> (8 * i));
                }
            }
            return new InetSocketAddress(InetAddress.getByAddress(address), port);
        }
        catch (final NumberFormatException | UnknownHostException | IndexOutOfBoundsException e)
        {
            return null;
        }
    }

    private static long parseInode(final String column)
    {
        try
        {
            return Long.parseLong(column);
        }
        catch (final NumberFormatException e)
        {
            return -1;
        }
    }

    /** IPv4 as 4 bytes, an IPv4-mapped IPv6 address too, other IPv6 as 16. */
    private static byte[] normalized(final InetAddress address)
    {
        final byte[] bytes = address.getAddress();
        if (bytes.length == 16 && isMappedIpv4(bytes))
        {
            return Arrays.copyOfRange(bytes, 12, 16);
        }
        return bytes;
    }

    private static boolean isMappedIpv4(final byte[] bytes)
    {
        for (int i = 0; i < 10; i++)
        {
            if (bytes[i] != 0)
            {
                return false;
            }
        }
        return bytes[10] == (byte)0xFF && bytes[11] == (byte)0xFF;
    }

    private static boolean isWildcard(final byte[] bytes)
    {
        for (final byte b : bytes)
        {
            if (b != 0)
            {
                return false;
            }
        }
        return true;
    }

    private static boolean contains(final long[] values, final long value)
    {
        for (final long v : values)
        {
            if (v == value)
            {
                return true;
            }
        }
        return false;
    }

    /** The process holding socket {@code inode}, found in /proc/PID/fd; -1 when not visible (another user). */
    private static long ownerPid(final long inode)
    {
        final String target = String.format(Locale.ROOT, "socket:[%d]", inode);
        try (DirectoryStream<Path> processes = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*"))
        {
            for (final Path process : processes)
            {
                try (DirectoryStream<Path> fds = Files.newDirectoryStream(process.resolve("fd")))
                {
                    for (final Path fd : fds)
                    {
                        if (target.equals(readLink(fd)))
                        {
                            return Long.parseLong(process.getFileName().toString());
                        }
                    }
                }
                catch (final IOException | RuntimeException e)
                {
                    // another user's process, or gone: look on
                }
            }
        }
        catch (final IOException | RuntimeException e)
        {
            // no /proc: unknown
        }
        return -1;
    }

    private static String readLink(final Path link)
    {
        try
        {
            return Files.readSymbolicLink(link).toString();
        }
        catch (final IOException | RuntimeException e)
        {
            return "";
        }
    }
}
