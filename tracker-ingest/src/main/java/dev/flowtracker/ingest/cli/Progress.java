package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.decode.CaptureStats;
import dev.flowtracker.ingest.source.file.CaptureFiles;
import dev.flowtracker.ingest.source.file.CaptureReader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/** A one-line progress bar on stderr, redrawn at most five times a second. Used by the analysing thread. */
final class Progress
{
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR_WIDTH = 30;

    private final PrintStream err;
    private final boolean enabled;
    private long lastDraw;
    private String fileLabel = "";
    private boolean drawn;

    Progress(final PrintStream err, final boolean enabled)
    {
        this.err = err;
        this.enabled = enabled;
    }

    /** Whether fd 2 is a terminal (Linux: /proc/self/fd/2 points at a tty). */
    static boolean stderrIsTerminal()
    {
        try
        {
            final String target = Files.readSymbolicLink(Path.of("/proc/self/fd/2")).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty");
        }
        catch (final IOException | UnsupportedOperationException | SecurityException e)
        {
            return false;
        }
    }

    boolean enabled()
    {
        return enabled;
    }

    void startFile(final Path file, final int index, final int count)
    {
        final Path name = file.getFileName();
        fileLabel = (count > 1 ? "[" + (index + 1) + "/" + count + "] " : "") +
            (CaptureFiles.STDIN.equals(file) ? "standard input" : name == null ? file : name);
    }

    void update(final CaptureReader reader, final CaptureStats stats)
    {
        if (!enabled)
        {
            return;
        }
        final long now = System.nanoTime();
        if (now - lastDraw < REDRAW_NANOS)
        {
            return;
        }
        lastDraw = now;
        final long total = reader.progressTotal();
        if (total <= 0)
        {
            // standard input or a pipe: no size to measure against, so what has been read
            err.print(String.format(Locale.ROOT, "\r%s %,d bytes read, %,d packets", fileLabel,
                reader.progressPosition(), stats.frames()));
            drawn = true;
            return;
        }
        final double fraction = total > 0 ? Math.min(1.0, reader.progressPosition() / (double)total) : 0.0;
        final int filled = (int)(fraction * BAR_WIDTH);
        err.print(String.format(Locale.ROOT, "\r%s [%s%s] %3.0f%% %,d packets",
            fileLabel, "#".repeat(filled), " ".repeat(BAR_WIDTH - filled), fraction * 100, stats.frames()));
        drawn = true;
    }

    void clear()
    {
        if (drawn)
        {
            err.print("\r\033[K");
            drawn = false;
        }
    }
}
