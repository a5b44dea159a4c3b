package dev.flowtracker.ingest.source.mirror;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The kernel's UDP socket tables of this network namespace, {@code /proc/net/udp} and {@code /proc/net/udp6}, read
 * row by row (one socket a row, columns split on white space). A scan of both files: for start-up checks, scrapes
 * and summaries, never the packet path. Stateless; any thread.
 */
final class ProcNetUdp
{
    static final int LOCAL_ADDRESS_COLUMN = 1;
    static final int INODE_COLUMN = 9;
    static final int DROPS_COLUMN = 12;

    private static final Path[] TABLES = {Path.of("/proc/net/udp"), Path.of("/proc/net/udp6")};

    /** Sees one socket's row; answers false to stop the scan. */
    @FunctionalInterface
    interface RowVisitor
    {
        boolean visit(String[] columns);
    }

    private ProcNetUdp()
    {
    }

    /**
     * Visits every socket row of both tables (the column names left out) until the visitor stops.
     *
     * @return whether at least one table could be read (false: not Linux, or /proc hidden).
     */
    static boolean forEachRow(final RowVisitor visitor)
    {
        boolean read = false;
        for (final Path table : TABLES)
        {
            if (!Files.isReadable(table))
            {
                continue;
            }
            try (BufferedReader reader = Files.newBufferedReader(table))
            {
                reader.readLine(); // the column names
                String line;
                while ((line = reader.readLine()) != null)
                {
                    if (!visitor.visit(line.strip().split("\\s+")))
                    {
                        return true;
                    }
                }
                read = true;
            }
            catch (final IOException e)
            {
                // unreadable now: nothing known from this table
            }
        }
        return read;
    }
}
