package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.decode.CaptureStats;
import dev.flowtracker.ingest.source.file.CaptureFiles;
import dev.flowtracker.ingest.source.file.CaptureReader;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * A one-line progress report on stderr, redrawn at most five times a second: the file, a bar and the percentage of
 * all the input (by bytes, across every file), packets, packets per second, time elapsed and the time left at this
 * rate, fitted to the terminal's width (the least useful parts go first, so a narrow pane never wraps and scrolls a
 * line per redraw). On standard input or a pipe there is no size to measure against: bytes read instead of the bar.
 * Used by the analysing thread.
 */
final class Progress
{
    private static final long REDRAW_NANOS = 200_000_000L;
    private static final int BAR_WIDTH = 20;

    private final PrintStream err;
    private final boolean enabled;
    private final int width;
    /** Bytes of all the inputs, or -1 when one has no size (standard input, a pipe). */
    private final long totalBytes;
    private final long startNanos = System.nanoTime();
    private long doneBytes;
    private long currentBytes;
    private long lastDraw;
    private String fileLabel = "";
    private boolean drawn;

    Progress(final PrintStream err, final boolean enabled, final List<Path> files, final int width)
    {
        this.err = err;
        this.enabled = enabled;
        this.width = width;
        long total = 0;
        for (final Path file : files)
        {
            final long size = sizeOf(file);
            total = size < 0 || total < 0 ? -1 : total + size;
        }
        this.totalBytes = total;
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
        doneBytes += currentBytes;
        currentBytes = Math.max(0, sizeOf(file));
        final Path name = file.getFileName();
        fileLabel = (count > 1 ? "[" + (index + 1) + "/" + count + "] " : "") +
            (CaptureFiles.STDIN.equals(file) ? "standard input" : name == null ? file.toString() : name.toString());
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
        final long elapsed = now - startNanos;
        final double fraction = totalBytes > 0 && reader.progressTotal() > 0 ?
            Math.min(1.0, (doneBytes + reader.progressPosition()) / (double)totalBytes) : -1;
        err.print("\r" + line(fileLabel, fraction, reader.progressPosition(), stats.frames(), elapsed, width));
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

    /**
     * The progress line, at most {@code width - 1} characters (the cursor stays on the line): the label, the bar and
     * percentage ({@code fraction} of all input; below 0 when unknown: {@code bytesRead} instead), packets, rate,
     * elapsed and time left. What does not fit is left out from the end, then the label is shortened.
     */
    static String line(final String label, final double fraction, final long bytesRead, final long packets,
        final long elapsedNanos, final int width)
    {
        final double seconds = elapsedNanos / 1e9;
        final List<String> parts = new ArrayList<>();
        if (fraction >= 0)
        {
            final int filled = (int)(fraction * BAR_WIDTH);
            parts.add(String.format(Locale.ROOT, "[%s%s] %3.0f%%", "#".repeat(filled), " ".repeat(BAR_WIDTH - filled),
                fraction * 100));
        }
        else
        {
            parts.add(String.format(Locale.ROOT, "%,d bytes read", bytesRead));
        }
        parts.add(String.format(Locale.ROOT, "%,d packets", packets));
        if (seconds > 0)
        {
            parts.add(String.format(Locale.ROOT, "%,.0f packets/s", packets / seconds));
        }
        parts.add(clock(seconds) + " elapsed");
        if (fraction > 0 && fraction < 1)
        {
            parts.add("ETA " + clock(seconds * (1 - fraction) / fraction));
        }
        final int room = Math.max(1, width - 1);
        String rest = "";
        for (final String part : parts)
        {
            final String longer = rest + "  " + part;
            if (label.length() + Math.min(label.length(), 1) + longer.length() - 2 > room && !rest.isEmpty())
            {
                break;
            }
            rest = longer;
        }
        rest = rest.isEmpty() ? "" : rest.substring(2);
        final int labelRoom = room - rest.length() - 1;
        final String shown = labelRoom <= 0 ? "" : label.length() <= labelRoom ? label :
            labelRoom > 1 ? label.substring(0, labelRoom - 1) + "~" : "";
        final String whole = shown.isEmpty() ? rest : shown + " " + rest;
        return whole.length() > room ? whole.substring(0, room) : whole;
    }

    /** h:mm:ss, or m:ss under an hour. */
    private static String clock(final double seconds)
    {
        final long whole = (long)seconds;
        return whole >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", whole / 3600, whole / 60 % 60, whole % 60) :
            String.format(Locale.ROOT, "%d:%02d", whole / 60, whole % 60);
    }

    /** The file's size, or -1 when it has none (standard input, a pipe) or cannot be read. */
    private static long sizeOf(final Path file)
    {
        try
        {
            return CaptureFiles.STDIN.equals(file) || !Files.isRegularFile(file) ? -1 : Files.size(file);
        }
        catch (final IOException e)
        {
            return -1;
        }
    }
}
