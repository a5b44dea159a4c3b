package dev.flowtracker.ingest.pipeline;

import com.lmax.disruptor.InsufficientCapacityException;
import com.lmax.disruptor.RingBuffer;
import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;

import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * A live pipeline's clock: the {@code tracker-clock} thread, which every period of wall time publishes a TIME event
 * carrying the wall clock, so the workers expire idle connections when no packet arrives, and checks the
 * checkpoint schedule (which it then owns). Like a live source it never waits for a full ring: it skips the tick
 * and counts it.
 *
 * <p>Threads: {@link #start} and {@link #stop} are called by the thread that runs the pipeline's lifecycle;
 * the loop runs on {@code tracker-clock}; {@link #ticksSkipped} may be read from any thread.
 */
public final class PipelineClock
{
    private final RingBuffer<PacketEvent> ring;
    private final CheckpointSchedule schedule;
    private final AtomicLong ticksSkipped = new AtomicLong();
    private volatile boolean stopped;
    private volatile Thread thread;

    PipelineClock(final RingBuffer<PacketEvent> ring, final CheckpointSchedule schedule)
    {
        this.ring = ring;
        this.schedule = schedule;
    }

    /** Starts the clock thread, ticking every {@code periodNanos}; once (a second call does nothing). */
    void start(final long periodNanos)
    {
        if (thread != null || stopped)
        {
            return;
        }
        schedule.restartInterval();
        final Thread clock = TrackerThreads.newThread("clock", Kind.DAEMON, () ->
        {
            while (!stopped)
            {
                LockSupport.parkNanos(periodNanos);
                if (stopped)
                {
                    return;
                }
                tick();
                schedule.checkpointIfDue();
            }
        });
        thread = clock;
        clock.start();
    }

    private void tick()
    {
        final long sequence;
        try
        {
            sequence = ring.tryNext();
        }
        catch (final InsufficientCapacityException e)
        {
            ticksSkipped.incrementAndGet();
            return;
        }
        final PacketEvent slot = ring.get(sequence);
        slot.kind = PacketEvent.TIME;
        slot.packet.timestampNanos = wallClockNanos();
        ring.publish(sequence);
    }

    /** Stops the clock thread, if started, and waits for it to end: it publishes nothing after this returns. */
    void stop()
    {
        stopped = true;
        final Thread clock = thread;
        if (clock != null)
        {
            LockSupport.unpark(clock);
            Uninterruptibly.await(clock::join);
        }
    }

    private static long wallClockNanos()
    {
        final Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    /** Clock ticks a full ring made the clock skip; any thread. */
    public long ticksSkipped()
    {
        return ticksSkipped.get();
    }
}
