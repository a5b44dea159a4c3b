package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.Flyweight;
import dev.flowtracker.core.state.StateMemory;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The timers that decide when Zeek removes one connection, as absolute packet-time instants: the analyzer's
 * expire chains (Zeek's ConnectionTimer), the connection attempt timer, the close/reset delete timer and the
 * inactivity timer with its current timeout. Firing one asks the {@link ZeekSummary} whether the connection is
 * done; the rules are in docs/zeek-conn-semantics.md.
 *
 * <p>A flyweight over {@link #BYTES} bytes of a {@code (MemorySegment, base)} pair (its own memory when made, a
 * region of {@link ZeekSummary}'s when the summary wraps it), native byte order:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |        expireAt (3 x 8): the analyzer's expire chains         |
 *  +                              ...                              +
 *  +---------------------------------------------------------------+
 *  |                         attemptAt (8)                         |
 *  +---------------------------------------------------------------+
 *  |                         deleteAt (8)                          |
 *  +---------------------------------------------------------------+
 *  |                       inactivityAt (8)                        |
 *  +---------------------------------------------------------------+
 *  |                  inactivityTimeoutNanos (8)                   |
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Owned by the connection's tracker thread.
 */
final class ZeekTimers extends Flyweight
{
    /** An instant for a timer that is not pending. */
    static final long NO_TIMER = Long.MAX_VALUE;


    /** Expire chains: {@value}. */
    static final int EXPIRE_CHAINS = 3;

    // Absolute nanoseconds, NO_TIMER when not pending.
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        MemoryLayout.sequenceLayout(EXPIRE_CHAINS, JAVA_LONG).withName("expireAt"),
        JAVA_LONG.withName("attemptAt"),
        JAVA_LONG.withName("deleteAt"),
        JAVA_LONG.withName("inactivityAt"),
        JAVA_LONG.withName("inactivityTimeoutNanos"));
    static final int EXPIRE_AT_OFFSET = StateMemory.offset(LAYOUT, "expireAt");
    static final int ATTEMPT_AT_OFFSET = StateMemory.offset(LAYOUT, "attemptAt");
    static final int DELETE_AT_OFFSET = StateMemory.offset(LAYOUT, "deleteAt");
    static final int INACTIVITY_AT_OFFSET = StateMemory.offset(LAYOUT, "inactivityAt");
    static final int INACTIVITY_TIMEOUT_NANOS_OFFSET = StateMemory.offset(LAYOUT, "inactivityTimeoutNanos");
    /** Bytes of the region. */
    static final int BYTES = (int)LAYOUT.byteSize();

    ZeekTimers()
    {
        wrap(StateMemory.home(BYTES), 0);
        clear();
    }

    /** A part of a larger state, on its memory: the whole's {@code clear} sets it. */
    ZeekTimers(final MemorySegment segment, final long base)
    {
        wrap(segment, base);
    }

    /** Reads and writes the timers in {@code segment} from {@code base} on ({@link #BYTES} bytes). */
    void wrap(final MemorySegment segment, final long base)
    {
        wrapMemory(segment, base, BYTES);
    }

    /** Back to the timers of a new summary, for a recycled connection; allocates nothing. */
    void clear()
    {
        zeroMemory(BYTES);
        defaults();
    }

    /** Sets the fields whose new value is not 0 (the region is zero otherwise), for {@link ZeekSummary#clear}. */
    void defaults()
    {
        // A new summary's chains are 0, not NO_TIMER: start() sets them, and nothing reads them before.
        attemptAt(NO_TIMER);
        deleteAt(NO_TIMER);
        inactivityAt(NO_TIMER);
    }

    /** The timers of a connection Zeek creates at {@code nowNanos}: the first expire chain and the inactivity timer. */
    void start(final long nowNanos, final ZeekOptions options)
    {
        for (int i = 0; i < EXPIRE_CHAINS; i++)
        {
            expireAt(i, NO_TIMER);
        }
        expireAt(0, nowNanos + options.synTimeoutNanos);
        inactivityTimeoutNanos(options.initialInactivityNanos);
        inactivityAt(nowNanos + options.initialInactivityNanos);
    }

    /** The originator's SYN starts the attempt timer; an earlier one stays. */
    void startAttempt(final long at)
    {
        attemptAt(Math.min(attemptAt(), at));
    }

    /** Zeek's SetInactivityTimeout: a new timeout counts from the last packet; 0 means none. */
    void setInactivityTimeout(final long timeoutNanos, final long lastNanos)
    {
        if (timeoutNanos == inactivityTimeoutNanos())
        {
            return;
        }
        inactivityTimeoutNanos(timeoutNanos);
        inactivityAt(timeoutNanos == 0 ? NO_TIMER : lastNanos + timeoutNanos);
    }

    /** Both sides closed: the analyzer's timers are cancelled and the connection goes at {@code deleteAtNanos}. */
    void closed(final long deleteAtNanos)
    {
        for (int i = 0; i < EXPIRE_CHAINS; i++)
        {
            expireAt(i, NO_TIMER);
        }
        attemptAt(NO_TIMER);
        deleteAt(Math.min(deleteAt(), deleteAtNanos));
    }

    void addExpireTimer(final long at)
    {
        for (int i = 0; i < EXPIRE_CHAINS; i++)
        {
            if (expireAt(i) == NO_TIMER)
            {
                expireAt(i, at);
                return;
            }
        }
        // Every chain is busy: keep the earliest checks (a later chain adds nothing an earlier one misses).
        int latest = 0;
        for (int i = 1; i < EXPIRE_CHAINS; i++)
        {
            if (expireAt(i) > expireAt(latest))
            {
                latest = i;
            }
        }
        expireAt(latest, Math.min(expireAt(latest), at));
    }

    /** The earliest pending timer, or {@link #NO_TIMER}. */
    long next()
    {
        long next = Math.min(Math.min(attemptAt(), deleteAt()), inactivityAt());
        for (int i = 0; i < EXPIRE_CHAINS; i++)
        {
            next = Math.min(next, expireAt(i));
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
        if (deleteAt() == next)
        {
            deleteAt(NO_TIMER);
            return true;
        }
        if (attemptAt() == next)
        {
            attemptAt(NO_TIMER);
            final ZeekEndpoint orig = connection.orig;
            return connection.active() && (orig.state() == ZeekEndpoint.SYN_SENT ||
                orig.state() == ZeekEndpoint.SYN_ACK_SENT) && connection.resp.state() == ZeekEndpoint.INACTIVE;
        }
        if (inactivityAt() == next)
        {
            if (connection.lastNanos() + inactivityTimeoutNanos() <= now)
            {
                inactivityAt(NO_TIMER);
                return true;
            }
            inactivityAt(connection.lastNanos() + inactivityTimeoutNanos());
            return false;
        }
        for (int i = 0; i < EXPIRE_CHAINS; i++)
        {
            if (expireAt(i) == next)
            {
                expireAt(i, NO_TIMER);
                return expire(now, i, connection);
            }
        }
        return false;
    }

    private boolean expire(final long now, final int chain, final ZeekSummary connection)
    {
        if (!connection.active())
        {
            return false;
        }
        final ZeekOptions options = connection.options();
        if (connection.lastNanos() + options.connectionLingerNanos < now)
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
        expireAt(chain, now + options.sessionTimerNanos);
        return false;
    }

    // Accessors of the region's fields.

    /** Expire chain {@code chain} (0 to {@link #EXPIRE_CHAINS} - 1). */
    long expireAt(final int chain)
    {
        return getLong(EXPIRE_AT_OFFSET + (long)chain * Long.BYTES);
    }

    void expireAt(final int chain, final long value)
    {
        putLong(EXPIRE_AT_OFFSET + (long)chain * Long.BYTES, value);
    }

    long attemptAt()
    {
        return getLong(ATTEMPT_AT_OFFSET);
    }

    void attemptAt(final long value)
    {
        putLong(ATTEMPT_AT_OFFSET, value);
    }

    long deleteAt()
    {
        return getLong(DELETE_AT_OFFSET);
    }

    void deleteAt(final long value)
    {
        putLong(DELETE_AT_OFFSET, value);
    }

    long inactivityAt()
    {
        return getLong(INACTIVITY_AT_OFFSET);
    }

    void inactivityAt(final long value)
    {
        putLong(INACTIVITY_AT_OFFSET, value);
    }

    long inactivityTimeoutNanos()
    {
        return getLong(INACTIVITY_TIMEOUT_NANOS_OFFSET);
    }

    void inactivityTimeoutNanos(final long value)
    {
        putLong(INACTIVITY_TIMEOUT_NANOS_OFFSET, value);
    }


}
