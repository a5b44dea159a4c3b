package dev.flowtracker.ingest.concurrent;

import java.io.PrintStream;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiFunction;

/**
 * Every thread the tracker makes comes from here, so they all look alike: named {@code tracker-<role>} or
 * {@code tracker-<role>-<n>} (n from 0), daemon or not by an explicit choice, and with one policy for an exception
 * that escapes a thread.
 *
 * <p>That policy: a thread's own loop deals with what it expects (bad input is counted, I/O failures are kept for
 * the owner, ring workers report through the Disruptor's handler), so an exception that reaches the top of a thread
 * is a bug. It is reported on stderr in the tracker's voice, with its stack trace, and the thread ends; the process
 * goes on, as it would with the JVM's default handler, and its owner sees the thread gone (a join returns, an
 * executor starts a new thread for its next task).
 *
 * <p>Stateless but for each factory's counter; any thread.
 */
public final class TrackerThreads
{
    /** What every tracker thread's name starts with. */
    public static final String PREFIX = "tracker-";

    /** Whether a thread keeps the JVM alive. */
    public enum Kind
    {
        /** The JVM may exit while it runs: the tracker's own stop sequence ends it. */
        DAEMON,
        /** The JVM waits for it (a user thread). */
        USER
    }

    private static final Thread.UncaughtExceptionHandler REPORT =
        (thread, failure) -> report(System.err, thread, failure);

    private TrackerThreads()
    {
    }

    /** {@code tracker-<role>}. */
    public static String name(final String role)
    {
        return PREFIX + role;
    }

    /** {@code tracker-<role>-<n>}. */
    public static String name(final String role, final int n)
    {
        return PREFIX + role + "-" + n;
    }

    /** An unstarted thread named {@code tracker-<role>} running {@code task}. */
    public static Thread newThread(final String role, final Kind kind, final Runnable task)
    {
        return configure(new Thread(task, name(role)), kind);
    }

    /** Starts a thread named {@code tracker-<role>} running {@code task}. */
    public static Thread start(final String role, final Kind kind, final Runnable task)
    {
        final Thread thread = newThread(role, kind, task);
        thread.start();
        return thread;
    }

    /**
     * For an executor or event loop of one thread: every thread it makes is named {@code tracker-<role>} (an
     * executor replaces a thread that died with one of the same name).
     */
    public static ThreadFactory single(final String role, final Kind kind)
    {
        return single(role, kind, Thread::new);
    }

    /**
     * As {@link #single(String, Kind)}, with threads of the class {@code constructor} makes from a task and a name
     * (Netty's {@code FastThreadLocalThread::new} for its event loops).
     */
    public static ThreadFactory single(
        final String role, final Kind kind, final BiFunction<Runnable, String, Thread> constructor)
    {
        final String name = name(role);
        return task -> configure(constructor.apply(task, name), kind);
    }

    /** For a pool: its threads are named {@code tracker-<role>-0}, {@code -1} and so on, in the order made. */
    public static ThreadFactory numbered(final String role, final Kind kind)
    {
        return numbered(role, kind, Thread::new);
    }

    /** As {@link #numbered(String, Kind)}, with threads of the class {@code constructor} makes. */
    public static ThreadFactory numbered(
        final String role, final Kind kind, final BiFunction<Runnable, String, Thread> constructor)
    {
        final AtomicInteger next = new AtomicInteger();
        return task -> configure(constructor.apply(task, name(role, next.getAndIncrement())), kind);
    }

    private static Thread configure(final Thread thread, final Kind kind)
    {
        thread.setDaemon(kind == Kind.DAEMON);
        thread.setUncaughtExceptionHandler(REPORT);
        return thread;
    }

    /** The uncaught-exception policy: one line naming the thread, then the stack trace. */
    static void report(final PrintStream err, final Thread thread, final Throwable failure)
    {
        // One block, so failures of two threads at once do not interleave line by line.
        synchronized (err)
        {
            err.print("tracker: thread " + thread.getName() + " stopped on an uncaught exception (a bug): ");
            failure.printStackTrace(err);
        }
    }
}
