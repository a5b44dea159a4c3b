package dev.flowtracker.core.flow;

import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.TcpConnection;

/**
 * When each open flow is next due an interim record ({@link ConnectionListener#onConnectionUpdate}): every
 * {@code interval} of packet time from the flow's first packet (at first + interval, first + 2 interval, ...), so a
 * consumer sees a day-long connection long before it ends, as Zeek's conn-long package and NetFlow's active timeout
 * do. A flow that has closed or reset and only waits for its timers gets none: its final record is near.
 *
 * <p>One heap entry per flow ({@link TimerQueue}, by slot and serial); an entry whose flow ended goes stale with the
 * slot's serial and is dropped when popped, or when stale entries outnumber live flows by {@link #STALE_SLACK}.
 * Owned by its tracker's thread; allocates nothing once the queue has grown to the number of open flows.
 */
final class InterimSchedule
{
    /** Stale entries tolerated beyond one per live flow before the queue is compacted. */
    private static final int STALE_SLACK = 4096;

    private final long intervalNanos;
    private final TimerQueue due;
    private long emitted;

    InterimSchedule(final long intervalNanos, final int initialCapacity)
    {
        if (intervalNanos <= 0)
        {
            throw new IllegalArgumentException("the interim interval must be positive, was " + intervalNanos);
        }
        this.intervalNanos = intervalNanos;
        this.due = new TimerQueue(initialCapacity);
    }

    /**
     * Queues the flow in {@code slot} (just created or restored, first packet at {@code firstNanos}) for its first
     * interim record after {@code clockNanos}.
     */
    void schedule(final FlowStateStore store, final int slot, final long firstNanos, final long clockNanos,
        final int liveFlows)
    {
        due.push(nextAfter(firstNanos, firstNanos, clockNanos), slot, store.serial(slot));
        if (due.size() > (long)liveFlows + STALE_SLACK)
        {
            due.dropStale(store, false); // amortised: runs after at least STALE_SLACK pushes
        }
    }

    /** Emits every interim record due at or before {@code nowNanos}, reading each flow without disturbing it. */
    void fire(final long nowNanos, final FlowStateStore store, final ConnectionListener listener)
    {
        // size() first: an empty queue's instant (Long.MAX_VALUE) is also a time a capture can carry.
        while (due.size() > 0 && due.peekInstant() <= nowNanos)
        {
            final long instant = due.peekInstant();
            final int slot = due.peekSlot();
            final int serial = due.peekSerial();
            due.pop();
            if (store.serial(slot) != serial)
            {
                continue; // the flow ended: its slot is free or holds another flow
            }
            final TcpConnection connection = store.view(slot);
            if (connection.endReason() != null)
            {
                continue; // closed or reset, waiting for its timers: no more interim records
            }
            emitted++;
            listener.onConnectionUpdate(connection);
            due.push(nextAfter(instant, connection.firstTimestampNanos(), nowNanos), slot, serial);
        }
    }

    /** Interim records emitted so far. */
    long emitted()
    {
        return emitted;
    }

    void clear()
    {
        due.clear();
    }

    /**
     * The first of first + k interval (k at least 1) after both {@code previous} and {@code clockNanos}: a flow
     * whose packet clock jumped past several instants gets one record, not a burst. Saturates: a time past
     * {@link Long#MAX_VALUE} never comes.
     */
    private long nextAfter(final long previous, final long firstNanos, final long clockNanos)
    {
        final long after = Math.max(previous, clockNanos);
        if (after < firstNanos)
        {
            return saturatedAdd(firstNanos, intervalNanos);
        }
        final long span = after - firstNanos;
        if (span < 0)
        {
            return Long.MAX_VALUE; // a span past 2^63 ns: corrupt timestamps
        }
        final long periods = span / intervalNanos + 1;
        if (periods > Long.MAX_VALUE / intervalNanos)
        {
            return Long.MAX_VALUE;
        }
        return saturatedAdd(firstNanos, periods * intervalNanos);
    }

    private static long saturatedAdd(final long a, final long b)
    {
        final long sum = a + b;
        return ((a ^ sum) & (b ^ sum)) < 0 ? Long.MAX_VALUE : sum;
    }
}
