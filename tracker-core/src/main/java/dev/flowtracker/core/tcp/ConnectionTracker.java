package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;

/**
 * Follows every TCP connection in a stream of decoded segments, in capture order, and hands each finished
 * connection to a {@link ConnectionListener}. Where one connection ends and the next starts on the same 4-tuple
 * follows the configured {@link Lifecycle}: Zeek's reuse test and timers (driven by packet time through
 * {@link #advanceTime}), or tshark's {@code tcp.stream} rule. Connections still open at {@link #finish} are
 * emitted then, oldest first.
 *
 * <p>Single-threaded: owned by the thread that feeds it.
 */
public final class ConnectionTracker
{
    /** Zeek fires at most this many timers per packet (its {@code max_timer_expires}). */
    private static final int MAX_TIMERS_PER_PACKET = 300;

    private final ConnectionTable table;
    private final ConnectionListener listener;
    private final Lifecycle lifecycle;
    private final ZeekOptions zeekOptions;
    private final TimerQueue timers;
    private long connectionsCreated;
    private long connectionsReused;
    private long connectionsTimedOut;

    /** A tracker with Zeek's lifecycle and default options. */
    public ConnectionTracker(final int initialCapacity, final ConnectionListener listener)
    {
        this(initialCapacity, listener, Lifecycle.ZEEK, ZeekOptions.DEFAULTS);
    }

    public ConnectionTracker(
        final int initialCapacity, final ConnectionListener listener, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions)
    {
        this.table = new ConnectionTable(initialCapacity);
        this.listener = listener;
        this.lifecycle = lifecycle;
        this.zeekOptions = zeekOptions;
        this.timers = new TimerQueue(initialCapacity);
    }

    /**
     * Moves packet time forward (call it for every captured frame, TCP or not, before the frame's segment): under
     * Zeek's lifecycle, connections whose timers say so are removed and emitted with {@link EndReason#TIMEOUT}
     * unless they had already closed or reset.
     */
    public void advanceTime(final long nowNanos)
    {
        if (lifecycle != Lifecycle.ZEEK)
        {
            return;
        }
        for (int fired = 0; fired < MAX_TIMERS_PER_PACKET && timers.peekInstant() <= nowNanos; )
        {
            final long instant = timers.peekInstant();
            final TcpConnection connection = timers.peekConnection();
            timers.pop();
            if (connection.scheduledTimerNanos != instant)
            {
                continue; // stale entry: the connection's timers moved or it has gone
            }
            connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
            fired++;
            if (connection.zeek.fireNextTimer(nowNanos))
            {
                table.remove(connection);
                connectionsTimedOut++;
                end(connection, EndReason.TIMEOUT);
            }
            else
            {
                schedule(connection);
            }
        }
    }

    /** Accounts one TCP segment (the packet must hold a decoded TCP segment). */
    public void onSegment(final DecodedPacket p)
    {
        advanceTime(p.timestampNanos);
        final int hash = FlowHash.of(p);
        TcpConnection connection = table.find(p, hash);
        if (connection == null)
        {
            connection = newConnection(p, hash, 0);
            table.insert(connection);
        }
        else if (isReuse(connection, p))
        {
            final TcpConnection successor = newConnection(p, hash, connection.generation + 1);
            if (connection.isReusedBy(p, connection.isFromA(p)))
            {
                successor.reusedPorts = true;
                successor.pendingFlags = AnalysisFlag.REUSED_PORTS.bit();
            }
            table.replace(connection, successor);
            connectionsReused++;
            connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
            end(connection, EndReason.REUSED);
            connection = successor;
        }
        connection.onSegment(p, connection.isFromA(p));
        if (lifecycle == Lifecycle.ZEEK)
        {
            schedule(connection);
        }
    }

    private boolean isReuse(final TcpConnection connection, final DecodedPacket p)
    {
        if (lifecycle == Lifecycle.TSHARK)
        {
            return connection.isReusedBy(p, connection.isFromA(p));
        }
        return connection.zeek.created && !TcpConnection.isDroppedByZeek(p, zeekOptions) &&
            connection.zeek.isReusedBy(p);
    }

    /** Queues the connection's earliest timer unless an entry at or before it is already queued. */
    private void schedule(final TcpConnection connection)
    {
        final long next = connection.zeek.nextTimerNanos();
        if (next < connection.scheduledTimerNanos)
        {
            connection.scheduledTimerNanos = next;
            timers.push(next, connection);
        }
    }

    private void end(final TcpConnection connection, final EndReason reason)
    {
        if (connection.endReason == null)
        {
            connection.endReason = reason;
        }
        listener.onConnectionEnd(connection);
    }

    /**
     * Ends every connection still in the table, oldest first, with {@code reason} unless it already closed or
     * reset, and empties the table.
     */
    public void finish(final EndReason reason)
    {
        final List<TcpConnection> open = new ArrayList<>(table.size());
        table.forEach(open::add);
        open.sort(Comparator.comparingLong(TcpConnection::firstTimestampNanos).thenComparingLong(c -> c.generation));
        table.clear();
        timers.clear();
        for (final TcpConnection connection : open)
        {
            connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
            end(connection, reason);
        }
    }

    /** Visits every connection still in the table, in no particular order; the action must not keep them. */
    public void forEachActive(final Consumer<TcpConnection> action)
    {
        table.forEach(action);
    }

    /**
     * Takes back a connection decoded from a checkpoint ({@link FlowStateCodec#decode}) so that tracking continues
     * as if the tracker had never stopped: binds it to this tracker's Zeek options, puts it in the table, counts it
     * in {@link #connectionsCreated} (so created = ended + active holds for this tracker) and, under Zeek's
     * lifecycle, queues its earliest timer. Restore before the first segment; the table must not already hold a
     * connection on the same 4-tuple. The tracker keeps the object.
     */
    public void restore(final TcpConnection connection)
    {
        connection.zeek.reset(zeekOptions);
        connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
        table.insert(connection);
        connectionsCreated++;
        if (lifecycle == Lifecycle.ZEEK)
        {
            schedule(connection);
        }
    }

    public Lifecycle lifecycle()
    {
        return lifecycle;
    }

    public int activeConnections()
    {
        return table.size();
    }

    public long connectionsCreated()
    {
        return connectionsCreated;
    }

    public long connectionsReused()
    {
        return connectionsReused;
    }

    /** Connections removed by Zeek's timers (attempt, inactivity, close and reset delays). */
    public long connectionsTimedOut()
    {
        return connectionsTimedOut;
    }

    private TcpConnection newConnection(final DecodedPacket p, final int hash, final long generation)
    {
        final TcpConnection connection = new TcpConnection();
        connection.reset(p, hash, generation, zeekOptions);
        connectionsCreated++;
        return connection;
    }
}
