package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Replays frames at their captured pace, scaled by a speed factor (2.0 = twice as fast), by waiting before each
 * frame until its time, relative to the first frame, has come on the monotonic clock. Frames whose time is
 * earlier than the previous one's are passed on at once. A stop request ends any wait within
 * {@link #MAX_WAIT_SLICE_NANOS}; frames offered after it are not passed on (the replay is over).
 *
 * <p>Called on the reading thread only.
 */
public final class ReplayPacer implements FrameSink
{
    /** Longest single park, so that a stop request is seen promptly even across long gaps in a capture. */
    static final long MAX_WAIT_SLICE_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    /** Latest a frame is held back from the start of the replay: about 146 years, far from overflow. */
    private static final double MAX_OFFSET_NANOS = Long.MAX_VALUE / 2.0;

    private final FrameSink next;
    private final double speed;
    private final BooleanSupplier stopRequested;
    private boolean started;
    private long firstCaptureNanos;
    private long startMonotonicNanos;

    public ReplayPacer(final FrameSink next, final double speed, final BooleanSupplier stopRequested)
    {
        if (!(speed > 0) || Double.isInfinite(speed))
        {
            throw new IllegalArgumentException("replay speed must be a positive number, was " + speed);
        }
        this.next = next;
        this.speed = speed;
        this.stopRequested = stopRequested;
    }

    @Override
    public void onFrame(final FrameDescriptor frame)
    {
        final long timestampNanos = frame.timestampNanos();
        if (!started)
        {
            started = true;
            firstCaptureNanos = timestampNanos;
            startMonotonicNanos = System.nanoTime();
        }
        else
        {
            // Clamped: a huge gap at a slow speed must not overflow into a due time in the past (or far future).
            final long due = startMonotonicNanos +
                (long)Math.min((timestampNanos - firstCaptureNanos) / speed, MAX_OFFSET_NANOS);
            for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime())
            {
                if (stopRequested.getAsBoolean())
                {
                    return;
                }
                LockSupport.parkNanos(Math.min(wait, MAX_WAIT_SLICE_NANOS));
            }
        }
        if (!stopRequested.getAsBoolean())
        {
            next.onFrame(frame);
        }
    }
}
