package dev.flowtracker.ingest.source.mirror;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's per-socket drop counter for UDP sockets (the last column of {@code /proc/net/udp} and
 * {@code /proc/net/udp6}: datagrams the socket lost, mostly because its receive buffer was full), found by the
 * sockets' inode numbers. Reading it costs a scan of those files, so it is for scrapes and summaries, not for the
 * packet path. Stateless; any thread.
 */
final class UdpSocketDrops
{
    private static final int INODE_COLUMN = ProcNetUdp.INODE_COLUMN;
    private static final int DROPS_COLUMN = ProcNetUdp.DROPS_COLUMN;

    private UdpSocketDrops()
    {
    }

    /** The inode of the socket behind file descriptor {@code fd} of this process, or -1 when unknown. */
    static long inodeOf(final int fd)
    {
        try
        {
            final String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            if (target.startsWith("socket:[") && target.endsWith("]"))
            {
                return Long.parseLong(target, "socket:[".length(), target.length() - 1, 10);
            }
        }
        catch (final IOException | UnsupportedOperationException | NumberFormatException e)
        {
            // no /proc (not Linux, or hidden): drops stay unknown
        }
        return -1;
    }

    /**
     * The drops of the sockets with these inodes, summed; -1 when the tables cannot be read. A socket missing
     * from the tables (closed) counts nothing.
     */
    static long sum(final long[] inodes)
    {
        final long[] total = new long[1];
        final boolean read = ProcNetUdp.forEachRow(columns ->
        {
            total[0] += dropsIfOurs(columns, inodes);
            return true;
        });
        return read ? total[0] : -1;
    }

    /** The drops column of one table row when its inode is one of {@code inodes}, else 0. */
    static long dropsIfOurs(final String[] columns, final long[] inodes)
    {
        if (columns.length <= DROPS_COLUMN)
        {
            return 0;
        }
        try
        {
            final long inode = Long.parseLong(columns[INODE_COLUMN]);
            for (final long ours : inodes)
            {
                if (ours == inode)
                {
                    return Long.parseLong(columns[DROPS_COLUMN]);
                }
            }
        }
        catch (final NumberFormatException e)
        {
            // a line of another shape: not ours
        }
        return 0;
    }
}
