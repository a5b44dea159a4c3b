package dev.flowtracker.ingest.top;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowtracker.ingest.http.QueryCapture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tracker top} in a real terminal: tmux runs it in a detached session of a fixed size against a real
 * {@code tracker run}; the test reads the screen ({@code capture-pane}) and types ({@code send-keys}): rows appear,
 * {@code s} changes the sort, {@code /} a filter, Enter opens a record, a smaller window drops columns, and {@code q}
 * ends it with exit status 0. The tmux server is the test's own ({@code -L}) and is killed at the end. Skipped, saying
 * so, where tmux is not installed (CI installs it: .ci/run).
 */
class TopTmuxTest
{
    private static final long WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);

    private final String socket = "tracker-top-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime();
    private final String session = "top";
    private Path topErr;

    @Test
    void shouldSortFilterOpenResizeAndQuitInATerminal(@TempDir final Path dir) throws Exception
    {
        Assumptions.assumeTrue(tmuxInstalled(), "tmux is not installed, so tracker top was not run in a terminal: " +
            "apt-get install tmux (.ci/run installs it in CI)");
        try (TopTracker tracker = TopTracker.start(dir))
        {
            final JsonNode live = tracker.awaitFlows("sort=retransmission_ratio", 4);
            final String lossy = live.get(0).get("uid").asText();
            final Path exit = dir.resolve("exit.txt");
            topErr = dir.resolve("top.err");
            final Path script = Files.writeString(dir.resolve("top.sh"), String.join(" ", quoted(TopTracker.command(
                List.of("top", "--url", tracker.url(), "--interval", "1s")))) + " 2>" + topErr +
                "\necho \"exit $?\" > " + exit + "\nsleep 60\n"); // the pane stays, to be read if top ended early
            try
            {
                tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "30", "sh " + script);

                String screen = awaitScreen("rows", s -> s.contains("sort retransmission_ratio desc") &&
                    s.contains("\n" + lossy + "  "));
                final List<String> lines = screen.lines().toList();
                assertTrue(lines.get(0).startsWith("tracker top  " + tracker.url() + "  every 1s  refreshed "),
                    screen);
                assertTrue(lines.get(1).matches("\\d+ flows open \\(.*\\).*packets/s.*"), screen);
                assertTrue(lines.get(3).matches("UID +ORIG +RESP +STATE +HISTORY +DURATION +BYTES +PKTS +RETX% +" +
                    "RTT_MAX.*TAP"), screen);
                assertTrue(lines.get(4).startsWith(lossy + "  10.0.0.2:40002"), "the worst first:\n" + screen);
                assertEquals(30, lines.size(), "the whole screen:\n" + screen);
                assertTrue(lines.get(29).startsWith("q quit"), screen);
                for (final String line : lines)
                {
                    assertTrue(line.length() <= 120, line);
                }

                tmux("send-keys", "-t", session, "s");
                screen = awaitScreen("sort rtt_max", s -> s.contains("sort rtt_max desc") &&
                    s.lines().skip(4).findFirst().orElse("").contains("10.1.0.3:" + QueryCapture.SLOW_PORT));
                assertTrue(screen.lines().skip(4).findFirst().orElseThrow().contains("200ms"), screen);

                tmux("send-keys", "-t", session, "/");
                awaitScreen("the filter line", s -> s.contains("filter (NAME=VALUE"));
                tmux("send-keys", "-t", session, "-l", "port=" + QueryCapture.LOSSY_PORT);
                tmux("send-keys", "-t", session, "Enter");
                screen = awaitScreen("the filtered rows", s -> s.contains("filter port=" + QueryCapture.LOSSY_PORT +
                    "  1 shown") && s.contains("\n" + lossy + "  "));
                assertEquals(1, screen.lines().filter(line -> line.matches("C[0-9A-Za-z]{17} .*")).count(), screen);

                assertTrue(tmux("capture-pane", "-p", "-e", "-t", session).contains("\u001b[7m"),
                    "the selected row in reverse video");

                tmux("send-keys", "-t", session, "e");
                awaitScreen("ended connections", s -> s.contains("  ended  filter port=" + QueryCapture.LOSSY_PORT));
                tmux("send-keys", "-t", session, "e");
                awaitScreen("active connections again", s -> s.contains("  active  filter port=" +
                    QueryCapture.LOSSY_PORT + "  1 shown"));

                tmux("send-keys", "-t", session, "Enter");
                screen = awaitScreen("the record", s -> s.contains("record of " + lossy) &&
                    s.contains("\"uid\" : \"" + lossy + "\""));
                assertTrue(screen.contains("\"id.orig_p\" : " + QueryCapture.LOSSY_PORT), screen);
                tmux("send-keys", "-t", session, "Escape");
                awaitScreen("the table again", s -> s.contains("\nUID ") && !s.contains("record of"));

                tmux("resize-window", "-t", session, "-x", "70", "-y", "12");
                screen = awaitScreen("a narrow window", s -> s.lines().count() == 12 && s.contains("\nUID ") &&
                    !s.contains("HISTORY"));
                for (final String line : screen.lines().toList())
                {
                    assertTrue(line.length() <= 70, line);
                }

                tmux("send-keys", "-t", session, "q");
                awaitExit(exit);
                assertEquals("exit 0\n", Files.readString(exit), Files.readString(topErr));
                assertEquals("", Files.readString(topErr), "no warnings (JLine's FFM terminal has native access)");
            }
            finally
            {
                killServer();
            }
        }
    }

    @Test
    void shouldKeepRetryingAnUnreachableTrackerAndQuit(@TempDir final Path dir) throws Exception
    {
        Assumptions.assumeTrue(tmuxInstalled(), "tmux is not installed, so tracker top was not run in a terminal: " +
            "apt-get install tmux (.ci/run installs it in CI)");
        final int port;
        try (ServerSocket closed = new ServerSocket(0))
        {
            port = closed.getLocalPort(); // nothing listens there once closed
        }
        final Path exit = dir.resolve("exit.txt");
        topErr = dir.resolve("top.err");
        final Path script = Files.writeString(dir.resolve("top.sh"), String.join(" ", quoted(TopTracker.command(
            List.of("top", "--url", "http://127.0.0.1:" + port, "--interval", "500ms")))) + " 2>" + topErr +
            "\necho \"exit $?\" > " + exit + "\nsleep 60\n");
        try
        {
            tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "20", "sh " + script);
            final String first = awaitScreen("the error", s -> s.contains("unreachable: connection refused") &&
                s.contains("(failed)"));
            final String refreshed = first.lines().findFirst().orElseThrow();
            awaitScreen("a retry", s -> !s.lines().findFirst().orElseThrow().equals(refreshed) &&
                s.contains("unreachable: connection refused"));
            tmux("send-keys", "-t", session, "q");
            awaitExit(exit);
            assertEquals("exit 0\n", Files.readString(exit), Files.readString(topErr));
        }
        finally
        {
            killServer();
        }
    }

    private void awaitExit(final Path exit) throws Exception
    {
        final long deadline = System.nanoTime() + WAIT_NANOS;
        while (!(Files.exists(exit) && Files.readString(exit).endsWith("\n")) && System.nanoTime() < deadline)
        {
            Thread.sleep(100);
        }
        if (!Files.exists(exit))
        {
            throw new AssertionError("q did not end tracker top within 30 s:\n" + capture());
        }
    }

    private static boolean tmuxInstalled()
    {
        try
        {
            final Process version = new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start();
            return version.waitFor(10, TimeUnit.SECONDS) && version.exitValue() == 0;
        }
        catch (final IOException | InterruptedException e)
        {
            return false;
        }
    }

    /** Waits (at most 30 s) for the screen to satisfy {@code condition}; the screen. */
    private String awaitScreen(final String what, final Predicate<String> condition) throws Exception
    {
        final long deadline = System.nanoTime() + WAIT_NANOS;
        String screen = "";
        while (System.nanoTime() < deadline)
        {
            screen = capture();
            if (condition.test(screen))
            {
                return screen;
            }
            Thread.sleep(200);
        }
        throw new AssertionError("the screen did not show " + what + " within 30 s:\n" + screen + "\nstderr: " +
            (Files.exists(topErr) ? Files.readString(topErr) : ""));
    }

    private String capture() throws Exception
    {
        return tmux("capture-pane", "-p", "-t", session);
    }

    /** Runs {@code tmux -L SOCKET ARGS} (at most 10 s); its output. */
    private String tmux(final String... args) throws Exception
    {
        final List<String> command = new ArrayList<>(List.of("tmux", "-L", socket));
        command.addAll(List.of(args));
        final Process tmux = new ProcessBuilder(command).redirectErrorStream(true).start();
        if (!tmux.waitFor(10, TimeUnit.SECONDS))
        {
            tmux.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            throw new AssertionError("tmux " + String.join(" ", args) + " did not finish within 10 s");
        }
        final String output = new String(tmux.getInputStream().readAllBytes());
        assertEquals(0, tmux.exitValue(), "tmux " + String.join(" ", args) + ": " + output);
        return output;
    }

    private void killServer()
    {
        try
        {
            final Process kill = new ProcessBuilder("tmux", "-L", socket, "kill-server").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!kill.waitFor(10, TimeUnit.SECONDS))
            {
                kill.destroyForcibly();
            }
        }
        catch (final IOException e)
        {
            // nothing to kill
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }

    /** Each argument in single quotes for sh. */
    private static List<String> quoted(final List<String> args)
    {
        return args.stream().map(arg -> "'" + arg.replace("'", "'\\''") + "'").toList();
    }
}
