package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

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
    /** Stale timer entries tolerated beyond two per live connection before the queue is compacted. */
    private static final int STALE_TIMER_SLACK = 4096;

    /** The unbounded table (no limits), or null. */
    private final ConnectionTable table;
    /** The bounded table (limits with a capacity), or null. */
    private final BoundedFlowTable bounded;
    private final FlowLimits limits;
    private final ConnectionListener listener;
    private final Lifecycle lifecycle;
    private final ZeekOptions zeekOptions;
    private final TimerQueue timers;
    private long connectionsCreated;
    private long connectionsReused;
    private long connectionsTimedOut;
    private long timerCapHits;
    private final TrafficCounters counters = new TrafficCounters();
    private LongConsumer handshakeRtts;
    /** The latest time seen: packet time never runs backwards for the idle lists, even if capture order does. */
    private long clockNanos = Long.MIN_VALUE;

    /** A tracker with Zeek's lifecycle and default options. */
    public ConnectionTracker(final int initialCapacity, final ConnectionListener listener)
    {
        this(initialCapacity, listener, Lifecycle.ZEEK, ZeekOptions.DEFAULTS);
    }

    public ConnectionTracker(
        final int initialCapacity, final ConnectionListener listener, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions)
    {
        this(initialCapacity, listener, lifecycle, zeekOptions, FlowLimits.UNBOUNDED);
    }

    /**
     * A tracker whose flow table follows {@code limits}: unbounded (connections are new objects and stay until they
     * end), or bounded (memory fixed at start, connections recycled, idle ones expired, the least recently active
     * evicted when full; each removal is emitted and counted, see {@link #removed}).
     */
    public ConnectionTracker(
        final int initialCapacity, final ConnectionListener listener, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits)
    {
        this.limits = limits;
        this.table = limits.isBounded() ? null : new ConnectionTable(initialCapacity);
        this.bounded = limits.isBounded() ? new BoundedFlowTable(limits, zeekOptions, this::onRemovedByTable) : null;
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
        if (nowNanos > clockNanos)
        {
            clockNanos = nowNanos;
            if (bounded != null)
            {
                bounded.expire(nowNanos);
            }
        }
        if (lifecycle != Lifecycle.ZEEK)
        {
            return;
        }
        int fired = 0;
        // size() first: an empty queue's instant (Long.MAX_VALUE) is also a time a capture can carry.
        for (; fired < MAX_TIMERS_PER_PACKET && timers.size() > 0 && timers.peekInstant() <= nowNanos; )
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
                connectionsTimedOut++;
                end(connection, EndReason.TIMEOUT);
                removeFromTable(connection); // after the record: a bounded table recycles the object
            }
            else
            {
                schedule(connection);
            }
        }
        if (fired == MAX_TIMERS_PER_PACKET && timers.size() > 0 && timers.peekInstant() <= nowNanos)
        {
            timerCapHits++;
        }
    }

    /** Accounts one TCP segment (the packet must hold a decoded TCP segment). */
    public void onSegment(final DecodedPacket p)
    {
        advanceTime(p.timestampNanos);
        final int hash = FlowHash.of(p);
        TcpConnection connection = bounded != null ? bounded.find(p, hash) : table.find(p, hash);
        if (connection == null)
        {
            connectionsCreated++;
            if (bounded != null)
            {
                connection = bounded.create(p, hash, 0);
            }
            else
            {
                connection = newConnection(p, hash, 0);
                table.insert(connection);
            }
            counters.hold(connection);
        }
        else if (isReuse(connection, p))
        {
            final boolean reusedPorts = connection.isReusedBy(p, connection.isFromA(p));
            final long generation = connection.generation + 1;
            connectionsReused++;
            connectionsCreated++;
            connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
            end(connection, EndReason.REUSED);
            if (bounded != null)
            {
                connection = bounded.recycleForSuccessor(connection, p, generation);
            }
            else
            {
                final TcpConnection successor = newConnection(p, hash, generation);
                table.replace(connection, successor);
                connection = successor;
            }
            counters.hold(connection);
            if (reusedPorts)
            {
                connection.reusedPorts = true;
                connection.pendingFlags = AnalysisFlag.REUSED_PORTS.bit();
            }
        }
        track(connection, p);
        if (bounded != null)
        {
            bounded.touch(connection, clockNanos);
        }
        if (lifecycle == Lifecycle.ZEEK)
        {
            schedule(connection);
        }
    }

    /** The connection accounts the segment; the live counters follow what it did. */
    private void track(final TcpConnection connection, final DecodedPacket p)
    {
        final boolean fromA = connection.isFromA(p);
        final TcpEndpoint sender = fromA ? connection.a : connection.b;
        final int origBefore = connection.originator().state.ordinal();
        final int respBefore = connection.responder().state.ordinal();
        final long outsideWindow = sender.outsideWindow;
        final long rstOutsideWindow = sender.rstOutsideWindow;
        final long dataAfterRst = sender.dataAfterRst;
        final boolean rttSeenBefore = connection.initialRttSeen;

        final int flags = connection.onSegment(p, fromA);

        final int direction = sender == connection.originator() ? TrafficCounters.ORIG : TrafficCounters.RESP;
        counters.onSegment(direction, flags);
        counters.moveStates(connection, origBefore, respBefore);
        // The three only grow, so their sum changes whenever one does.
        if (sender.outsideWindow + sender.rstOutsideWindow + sender.dataAfterRst !=
            outsideWindow + rstOutsideWindow + dataAfterRst)
        {
            counters.onSecurityEvents(direction, SecuritySignal.OUTSIDE_WINDOW, sender.outsideWindow - outsideWindow);
            counters.onSecurityEvents(direction, SecuritySignal.RST_OUTSIDE_WINDOW,
                sender.rstOutsideWindow - rstOutsideWindow);
            counters.onSecurityEvents(direction, SecuritySignal.DATA_AFTER_RST, sender.dataAfterRst - dataAfterRst);
        }
        if (!rttSeenBefore && connection.initialRttSeen)
        {
            counters.handshakeRttSamples++;
            if (handshakeRtts != null)
            {
                handshakeRtts.accept(connection.initialRttNanos);
            }
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
            if (timers.size() > 2L * activeConnections() + STALE_TIMER_SLACK)
            {
                timers.dropStale(); // amortised: runs after at least STALE_TIMER_SLACK pushes
            }
        }
    }

    private void removeFromTable(final TcpConnection connection)
    {
        if (bounded != null)
        {
            bounded.remove(connection);
        }
        else
        {
            table.remove(connection);
        }
    }

    private void onRemovedByTable(final TcpConnection connection, final FlowRemoval removal, final FlowPhase phase)
    {
        connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
        end(connection, removal.endReason());
    }

    private void end(final TcpConnection connection, final EndReason reason)
    {
        if (connection.endReason == null)
        {
            connection.endReason = reason;
        }
        counters.release(connection);
        listener.onConnectionEnd(connection);
    }

    /**
     * Ends every connection still in the table, oldest first, with {@code reason} unless it already closed or
     * reset, and empties the table.
     */
    public void finish(final EndReason reason)
    {
        final List<TcpConnection> open = new ArrayList<>(activeConnections());
        forEachActive(open::add);
        open.sort(Comparator.comparingLong(TcpConnection::firstTimestampNanos).thenComparingLong(c -> c.generation));
        timers.clear();
        for (final TcpConnection connection : open)
        {
            connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
            end(connection, reason);
        }
        // Only now: a bounded table recycles what it forgets, and the records above were made from these objects.
        if (bounded != null)
        {
            bounded.clear();
        }
        else
        {
            table.clear();
        }
    }

    /** Visits every connection still in the table, in no particular order; the action must not keep them. */
    public void forEachActive(final Consumer<TcpConnection> action)
    {
        if (bounded != null)
        {
            bounded.forEach(action);
        }
        else
        {
            table.forEach(action);
        }
    }

    /**
     * Puts back a connection checkpointed with {@link FlowStateCodec#encode}, as it was when encoded; its Zeek
     * timer is queued again. Call on a tracker that has not seen the connection's 4-tuple yet (a fresh one, before
     * its first segment): the table cannot check for a duplicate without a packet. A bounded table that is full
     * evicts as for a new connection. Counts as a created connection.
     *
     * @throws IllegalArgumentException when {@code encoded} is not a valid state (nothing is restored then).
     */
    public void restore(final ByteBuffer encoded)
    {
        final TcpConnection connection;
        if (bounded != null)
        {
            connection = bounded.restore(encoded);
        }
        else
        {
            connection = new TcpConnection();
            FlowStateCodec.decode(encoded, connection);
            table.insert(connection);
        }
        connection.zeek.reset(zeekOptions);
        connection.scheduledTimerNanos = ZeekSummary.NO_TIMER;
        connectionsCreated++;
        counters.hold(connection);
        // The clock resumes where the checkpointed tracker's was (at least): a first packet at that same instant
        // must not expire anything the uninterrupted tracker would not have.
        clockNanos = Math.max(clockNanos, Math.max(connection.idleSinceNanos, connection.lastTimestampNanos));
        if (lifecycle == Lifecycle.ZEEK)
        {
            schedule(connection);
        }
    }

    /** Live counters for metrics: any thread may read them (see {@link TrafficCounters}). */
    public TrafficCounters counters()
    {
        return counters;
    }

    /**
     * Receives each connection's handshake RTT (tshark's initial RTT, nanoseconds) when it is first measured, on this
     * tracker's thread; it must not allocate or block. Set before the first segment; null for none.
     */
    public void onHandshakeRtt(final LongConsumer observer)
    {
        this.handshakeRtts = observer;
    }

    /** Connections in {@code phase} now; any thread may read it. 0 for every phase when unbounded. */
    public long activeConnections(final FlowPhase phase)
    {
        return bounded != null ? bounded.phaseSize(phase) : 0;
    }

    public Lifecycle lifecycle()
    {
        return lifecycle;
    }

    public int activeConnections()
    {
        return bounded != null ? bounded.size() : table.size();
    }

    public FlowLimits limits()
    {
        return limits;
    }

    /** Connections the bounded table removed for {@code removal} while in {@code phase}; 0 when unbounded. */
    public long removed(final FlowRemoval removal, final FlowPhase phase)
    {
        return bounded != null ? bounded.removed(removal, phase) : 0;
    }

    /** Times the bounded table entered emergency mode (shorter timeouts when nearly full). */
    public long emergencyEntries()
    {
        return bounded != null ? bounded.emergencyEntries() : 0;
    }

    public boolean inEmergency()
    {
        return bounded != null && bounded.inEmergency();
    }

    /** Fixed off-heap bytes of the bounded table's bookkeeping; 0 when unbounded. */
    public long flowTableOffHeapBytes()
    {
        return bounded != null ? bounded.offHeapBytes() : 0;
    }

    public long connectionsCreated()
    {
        return connectionsCreated;
    }

    public long connectionsReused()
    {
        return connectionsReused;
    }

    /**
     * Packets at which due Zeek timers were left for later because {@code max_timer_expires} (300) had fired. Zeek
     * applies that cap to its one event loop; here each shard applies it to its own timers, so where it bites,
     * records can depend on the worker count.
     */
    public long timerCapHits()
    {
        return timerCapHits;
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
        return connection;
    }
}
