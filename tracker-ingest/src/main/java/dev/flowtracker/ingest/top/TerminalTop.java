package dev.flowtracker.ingest.top;

import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.time.LocalTime;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.Display;
import org.jline.utils.InfoCmp.Capability;
import org.jline.utils.NonBlockingReader;

/**
 * The full-screen loop of {@code tracker top}: raw mode on the alternate screen, a poll every interval (and at once
 * after a key that changes the query), keys read with a short timeout in between, and JLine's {@link Display} redraws
 * only what changed, so the screen does not flicker. The terminal's size is read before every redraw; a resize
 * (SIGWINCH) and an interrupt (Ctrl-C) only set flags. The terminal is restored however the loop ends. Runs on the
 * command's thread; JLine's signal thread only sets the flags.
 */
final class TerminalTop
{
    /** How long a key read waits: the longest a resize or an interrupt goes unseen. */
    private static final long TICK_MILLIS = 100;
    /** How long the rest of an escape sequence may take to arrive after its ESC. */
    private static final long ESCAPE_MILLIS = 40;

    private TerminalTop()
    {
    }

    /** Runs the view until {@code q} or an interrupt; the exit code. */
    static int run(final TopScreen screen, final TrackerClient client, final Duration every, final PrintStream err)
        throws IOException, InterruptedException
    {
        try (Terminal terminal = TerminalBuilder.builder().system(true).name("tracker top").build())
        {
            if (Terminal.TYPE_DUMB.equals(terminal.getType()) || Terminal.TYPE_DUMB_COLOR.equals(terminal.getType()))
            {
                err.println("tracker top: not a terminal (use --once for a plain table)");
                return TopCommand.USAGE;
            }
            final AtomicBoolean resized = new AtomicBoolean();
            final AtomicBoolean interrupted = new AtomicBoolean();
            terminal.handle(Terminal.Signal.WINCH, signal -> resized.set(true));
            terminal.handle(Terminal.Signal.INT, signal -> interrupted.set(true));
            final Attributes saved = terminal.enterRawMode();
            terminal.puts(Capability.enter_ca_mode);
            terminal.puts(Capability.keypad_xmit);
            terminal.puts(Capability.cursor_invisible);
            terminal.flush();
            try
            {
                loop(terminal, screen, client, every, resized, interrupted);
                return TopCommand.OK;
            }
            finally
            {
                terminal.puts(Capability.cursor_visible);
                terminal.puts(Capability.keypad_local);
                terminal.puts(Capability.exit_ca_mode);
                terminal.setAttributes(saved);
                terminal.flush();
            }
        }
    }

    private static void loop(final Terminal terminal, final TopScreen screen, final TrackerClient client,
        final Duration every, final AtomicBoolean resized, final AtomicBoolean interrupted)
        throws IOException, InterruptedException
    {
        final Display display = new Display(terminal, true);
        final NonBlockingReader reader = terminal.reader();
        Size size = size(terminal);
        display.resize(size);
        long nextPoll = System.nanoTime();
        boolean dirty = true;
        while (!interrupted.get())
        {
            if (System.nanoTime() - nextPoll >= 0)
            {
                poll(screen, client, TopScreen.tableRows(size.getRows()));
                nextPoll = System.nanoTime() + every.toNanos();
                dirty = true;
            }
            if (resized.getAndSet(false))
            {
                final Size now = size(terminal);
                if (now.getRows() > size.getRows())
                {
                    nextPoll = System.nanoTime(); // more rows than were asked for fit now
                }
                size = now;
                display.clear(); // what was on screen is not where Display thinks it is any more
                display.resize(size);
                dirty = true;
            }
            if (dirty)
            {
                final List<AttributedString> lines = screen.render(size.getColumns(),
                    size.getRows());
                display.update(lines, 0);
                terminal.flush();
                dirty = false;
            }
            final int c = reader.read(TICK_MILLIS);
            if (c == NonBlockingReader.READ_EXPIRED)
            {
                continue;
            }
            if (c == NonBlockingReader.EOF)
            {
                return;
            }
            switch (screen.key(key(c, reader)))
            {
                case QUIT ->
                {
                    return;
                }
                case REFRESH -> nextPoll = System.nanoTime();
                case OPEN -> open(screen, client);
                case REDRAW ->
                {
                    // drawn below
                }
            }
            dirty = true;
        }
    }

    /** The terminal's size now; 80×24 when it cannot tell. */
    private static Size size(final Terminal terminal)
    {
        final Size size = terminal.getSize();
        return size.getColumns() <= 0 || size.getRows() <= 0 ? Size.of(80, 24) : size;
    }

    /** A key: a character, or the {@code TopScreen.KEY_} code of an escape sequence (arrows, page up/down). */
    private static int key(final int c, final NonBlockingReader reader) throws IOException
    {
        if (c != TopScreen.KEY_ESC)
        {
            return c;
        }
        final int next = reader.peek(ESCAPE_MILLIS);
        if (next != '[' && next != 'O')
        {
            return TopScreen.KEY_ESC; // Esc alone
        }
        reader.read();
        final int code = reader.read(ESCAPE_MILLIS);
        return switch (code)
        {
            case 'A' -> TopScreen.KEY_UP;
            case 'B' -> TopScreen.KEY_DOWN;
            case '5', '6' ->
            {
                reader.read(ESCAPE_MILLIS); // the '~'
                yield code == '5' ? TopScreen.KEY_PAGE_UP : TopScreen.KEY_PAGE_DOWN;
            }
            default -> 0; // a sequence of no key of ours
        };
    }

    private static void poll(final TopScreen screen, final TrackerClient client, final int limit)
        throws InterruptedException
    {
        try
        {
            final List<FlowRow> rows = client.flows(screen.query(limit));
            Health health = null;
            try
            {
                health = client.health();
            }
            catch (final TrackerClient.Failure e)
            {
                // the flows answered: the health line says it is unknown
            }
            screen.update(rows, health, System.nanoTime(), LocalTime.now());
        }
        catch (final TrackerClient.Failure e)
        {
            screen.failed(e, LocalTime.now());
        }
    }

    private static void open(final TopScreen screen, final TrackerClient client) throws InterruptedException
    {
        final String uid = screen.selectedUid();
        try
        {
            screen.showRecord(uid, client.record(uid));
        }
        catch (final TrackerClient.Failure e)
        {
            screen.showRecord(uid, e.status == 404 ? "the tracker has no record of " + uid + " any more" :
                e.getMessage());
        }
    }
}
