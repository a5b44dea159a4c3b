package dev.flowtracker.ingest.concurrent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ThreadFactory;

import org.junit.jupiter.api.Test;

/** Thread names, the daemon choice and the uncaught-exception policy of every tracker thread. */
class TrackerThreadsTest
{
    private static final Runnable NOTHING = () ->
    {
    };

    @Test
    void shouldNameAThreadAfterItsRoleWithTheTrackerPrefix()
    {
        final Thread thread = TrackerThreads.newThread("records", Kind.DAEMON, NOTHING);
        assertEquals("tracker-records", thread.getName());
        assertTrue(thread.isDaemon());
        assertFalse(thread.isAlive(), "newThread does not start it");
    }

    @Test
    void shouldMakeAUserThreadWhenAskedWhateverTheCallerIs() throws InterruptedException
    {
        final Thread[] made = new Thread[1];
        final Thread daemonCaller = TrackerThreads.start("caller", Kind.DAEMON,
            () -> made[0] = TrackerThreads.newThread("shutdown", Kind.USER, NOTHING));
        daemonCaller.join();
        assertFalse(made[0].isDaemon());
    }

    @Test
    void shouldNumberAPoolsThreadsFromZeroInTheOrderMade()
    {
        final ThreadFactory factory = TrackerThreads.numbered("worker", Kind.DAEMON);
        assertEquals("tracker-worker-0", factory.newThread(NOTHING).getName());
        assertEquals("tracker-worker-1", factory.newThread(NOTHING).getName());
        assertEquals("tracker-worker-0", TrackerThreads.numbered("worker", Kind.DAEMON).newThread(NOTHING).getName(),
            "each factory counts on its own");
    }

    @Test
    void shouldGiveASingleThreadExecutorsReplacementThreadTheSameName()
    {
        final ThreadFactory factory = TrackerThreads.single("http-query", Kind.DAEMON);
        assertEquals("tracker-http-query", factory.newThread(NOTHING).getName());
        assertEquals("tracker-http-query", factory.newThread(NOTHING).getName());
    }

    @Test
    void shouldMakeThreadsOfTheClassTheConstructorGives()
    {
        final class Special extends Thread
        {
            Special(final Runnable task, final String name)
            {
                super(task, name);
            }
        }
        final Thread thread = TrackerThreads.numbered("vxlan", Kind.DAEMON, Special::new).newThread(NOTHING);
        assertSame(Special.class, thread.getClass());
        assertEquals("tracker-vxlan-0", thread.getName());
        assertTrue(thread.isDaemon());
    }

    @Test
    void shouldReportAnUncaughtExceptionNamingTheThreadWithItsStackTrace()
    {
        final Thread thread = TrackerThreads.newThread("clock", Kind.DAEMON, NOTHING);
        assertNotSame(thread.getThreadGroup(), thread.getUncaughtExceptionHandler(),
            "the tracker's handler, not the JVM's default");
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final PrintStream err = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        TrackerThreads.report(err, thread, new IllegalStateException("broken"));
        final String[] lines = bytes.toString(StandardCharsets.UTF_8).split("\n");
        assertEquals("tracker: thread tracker-clock stopped on an uncaught exception (a bug): " +
            "java.lang.IllegalStateException: broken", lines[0]);
        assertTrue(lines.length > 1 && lines[1].trim().startsWith("at "), "stack trace follows: " + lines[1]);
    }
}
