package dev.flowtracker.ingest.concurrent;

/**
 * Waits that must complete: flushing records, stopping sources and workers. An interrupt does not cut them short;
 * it is remembered and the thread's interrupt status set again once the wait is over. Stateless; any thread.
 */
public final class Uninterruptibly
{
    /** A wait that may be interrupted: a latch's await, a thread's join, a blocking put. */
    @FunctionalInterface
    public interface Wait
    {
        void await() throws InterruptedException;
    }

    private Uninterruptibly()
    {
    }

    /** Waits until {@code wait} completes, then restores any interrupt that came meanwhile. */
    public static void await(final Wait wait)
    {
        if (awaitReportingInterrupt(wait))
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Waits until {@code wait} completes and says whether an interrupt came meanwhile, leaving the interrupt status
     * clear: for callers with more to do before they restore it.
     */
    public static boolean awaitReportingInterrupt(final Wait wait)
    {
        boolean interrupted = false;
        while (true)
        {
            try
            {
                wait.await();
                return interrupted;
            }
            catch (final InterruptedException e)
            {
                interrupted = true;
            }
        }
    }
}
