package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.output.RecordLayout;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The width a table on standard output (or the progress line on standard error) is fitted to: {@code $COLUMNS}
 * when set (shells keep it but rarely export it, so it is an explicit choice), else the terminal's when that stream
 * is one (asked of {@code stty} on that terminal: the JDK has no call for it), else
 * {@link RecordLayout#DEFAULT_TABLE_WIDTH}. Asked once, on the command's thread.
 */
final class TerminalWidth
{
    private static final int MIN_WIDTH = 20;
    private static final long STTY_TIMEOUT_SECONDS = 2;

    private TerminalWidth()
    {
    }

    static int ofStandardOutput()
    {
        return of(1);
    }

    /** The same for standard error (where the progress line goes). */
    static int ofStandardError()
    {
        return of(2);
    }

    private static int of(final int fd)
    {
        final int columns = parse(System.getenv("COLUMNS"));
        if (columns > 0)
        {
            return columns;
        }
        final String terminal = terminalOf(fd);
        if (terminal != null)
        {
            final int width = stty(terminal);
            if (width > 0)
            {
                return width;
            }
        }
        return RecordLayout.DEFAULT_TABLE_WIDTH;
    }

    /** The terminal file descriptor {@code fd} is (Linux: /proc/self/fd/N points at it), or null. */
    private static String terminalOf(final int fd)
    {
        try
        {
            final String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
            return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") ? target : null;
        }
        catch (final IOException | UnsupportedOperationException | SecurityException e)
        {
            return null;
        }
    }

    /** {@code stty size} ("rows columns") with the terminal as its input; 0 when it cannot tell. */
    private static int stty(final String terminal)
    {
        try
        {
            final Process stty = new ProcessBuilder("stty", "size").redirectInput(new File(terminal))
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
            final String answer = new String(stty.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
            if (!stty.waitFor(STTY_TIMEOUT_SECONDS, TimeUnit.SECONDS) || stty.exitValue() != 0)
            {
                stty.destroy();
                return 0;
            }
            final int space = answer.indexOf(' ');
            return space < 0 ? 0 : parse(answer.substring(space + 1));
        }
        catch (final IOException e)
        {
            return 0;
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** A width of at least {@value #MIN_WIDTH}, or 0. */
    private static int parse(final String text)
    {
        if (text == null)
        {
            return 0;
        }
        try
        {
            final int width = Integer.parseInt(text.strip());
            return width >= MIN_WIDTH ? width : 0;
        }
        catch (final NumberFormatException e)
        {
            return 0;
        }
    }
}
