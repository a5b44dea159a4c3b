package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.state.StateFields;
import java.util.Arrays;

/**
 * The timers that decide when Zeek removes one connection, as absolute packet-time instants: the analyzer's
 * expire chains (Zeek's ConnectionTimer), the connection attempt timer, the close/reset delete timer and the
 * inactivity timer with its current timeout. Firing one asks the {@link ZeekSummary} whether the connection is
 * done; the rules are in docs/zeek-conn-semantics.md.
 *
 * <p>Owned by the connection's tracker thread.
 */
final class ZeekTimers
{
    /** An instant for a timer that is not pending. */
    static final long NO_TIMER = Long.MAX_VALUE;

    /** Bytes {@link #encode} writes. */
    static final int ENCODED_BYTES = 7 * Long.BYTES;

    // Absolute nanoseconds, NO_TIMER when not pending.
    final long[] expireAt = new long[3];
    long attemptAt = NO_TIMER;
    long deleteAt = NO_TIMER;
    long inactivityAt = NO_TIMER;
    long inactivityTimeoutNanos;

    /** Back to the timers of a new summary, for a recycled connection; allocates nothing. */
    void clear()
    {
        // A new summary's chains are 0, not NO_TIMER: start() sets them, and nothing reads them before.
        Arrays.fill(expireAt, 0);
        attemptAt = NO_TIMER;
        deleteAt = NO_TIMER;
        inactivityAt = NO_TIMER;
        inactivityTimeoutNanos = 0;
    }

    /** Writes every field, in declaration order (see {@link dev.flowtracker.core.flow.FlowStateCodec}). */
    void encode(final StateBuffer dst)
    {
        StateFields.putLongs(dst, expireAt);
        dst.putLong(attemptAt);
        dst.putLong(deleteAt);
        dst.putLong(inactivityAt);
        dst.putLong(inactivityTimeoutNanos);
    }

    /** Reads what {@link #encode} wrote. */
    void decode(final StateBuffer src)
    {
        StateFields.getLongs(src, expireAt);
        attemptAt = src.getLong();
        deleteAt = src.getLong();
        inactivityAt = src.getLong();
        inactivityTimeoutNanos = src.getLong();
    }

    /** The timers of a connection Zeek creates at {@code nowNanos}: the first expire chain and the inactivity timer. */
    void start(final long nowNanos, final ZeekOptions options)
    {
        for (int i = 0; i < expireAt.length; i++)
        {
            expireAt[i] = NO_TIMER;
        }
        expireAt[0] = nowNanos + options.synTimeoutNanos;
        inactivityTimeoutNanos = options.initialInactivityNanos;
        inactivityAt = nowNanos + inactivityTimeoutNanos;
    }

    /** The originator's SYN starts the attempt timer; an earlier one stays. */
    void startAttempt(final long at)
    {
        attemptAt = Math.min(attemptAt, at);
    }

    /** Zeek's SetInactivityTimeout: a new timeout counts from the last packet; 0 means none. */
    void setInactivityTimeout(final long timeoutNanos, final long lastNanos)
    {
        if (timeoutNanos == inactivityTimeoutNanos)
        {
            return;
        }
        inactivityTimeoutNanos = timeoutNanos;
        inactivityAt = timeoutNanos == 0 ? NO_TIMER : lastNanos + timeoutNanos;
    }

    /** Both sides closed: the analyzer's timers are cancelled and the connection goes at {@code deleteAtNanos}. */
    void closed(final long deleteAtNanos)
    {
        for (int i = 0; i < expireAt.length; i++)
        {
            expireAt[i] = NO_TIMER;
        }
        attemptAt = NO_TIMER;
        deleteAt = Math.min(deleteAt, deleteAtNanos);
    }

    void addExpireTimer(final long at)
    {
        for (int i = 0; i < expireAt.length; i++)
        {
            if (expireAt[i] == NO_TIMER)
            {
                expireAt[i] = at;
                return;
            }
        }
        // Every chain is busy: keep the earliest checks (a later chain adds nothing an earlier one misses).
        int latest = 0;
        for (int i = 1; i < expireAt.length; i++)
        {
            if (expireAt[i] > expireAt[latest])
            {
                latest = i;
            }
        }
        expireAt[latest] = Math.min(expireAt[latest], at);
    }

    /** The earliest pending timer, or {@link #NO_TIMER}. */
    long next()
    {
        long next = Math.min(Math.min(attemptAt, deleteAt), inactivityAt);
        for (final long at : expireAt)
        {
            next = Math.min(next, at);
        }
        return next;
    }

    /**
     * Fires the timer due at {@code next} (the earliest, at or before {@code now}), with {@code now} as the time
     * Zeek passes to it (Zeek dispatches timers with the current network time, not their scheduled time).
     *
     * @return whether Zeek would remove the connection now.
     */
    boolean fire(final long next, final long now, final ZeekSummary connection)
    {
        if (deleteAt == next)
        {
            deleteAt = NO_TIMER;
            return true;
        }
        if (attemptAt == next)
        {
            attemptAt = NO_TIMER;
            final ZeekEndpoint orig = connection.orig;
            return connection.active && (orig.state() == ZeekEndpoint.SYN_SENT ||
                orig.state() == ZeekEndpoint.SYN_ACK_SENT) && connection.resp.state() == ZeekEndpoint.INACTIVE;
        }
        if (inactivityAt == next)
        {
            if (connection.lastNanos + inactivityTimeoutNanos <= now)
            {
                inactivityAt = NO_TIMER;
                return true;
            }
            inactivityAt = connection.lastNanos + inactivityTimeoutNanos;
            return false;
        }
        for (int i = 0; i < expireAt.length; i++)
        {
            if (expireAt[i] == next)
            {
                expireAt[i] = NO_TIMER;
                return expire(now, i, connection);
            }
        }
        return false;
    }

    private boolean expire(final long now, final int chain, final ZeekSummary connection)
    {
        if (!connection.active)
        {
            return false;
        }
        final ZeekOptions options = connection.options();
        if (connection.lastNanos + options.connectionLingerNanos < now)
        {
            final ZeekEndpoint orig = connection.orig;
            final ZeekEndpoint resp = connection.resp;
            if ((orig.didClose() || resp.didClose()) &&
                ((orig.didClose() && resp.didClose()) || orig.state() == ZeekEndpoint.RESET ||
                    resp.state() == ZeekEndpoint.RESET || orig.state() == ZeekEndpoint.INACTIVE ||
                    resp.state() == ZeekEndpoint.INACTIVE))
            {
                return true;
            }
            if (resp.state() == ZeekEndpoint.INACTIVE && orig.state() == ZeekEndpoint.INACTIVE)
            {
                return true;
            }
        }
        expireAt[chain] = now + options.sessionTimerNanos;
        return false;
    }
}
