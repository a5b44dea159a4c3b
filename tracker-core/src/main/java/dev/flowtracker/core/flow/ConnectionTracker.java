package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.SecuritySignal;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;
import dev.flowtracker.core.tcp.TrafficCounters;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;
import java.util.function.LongConsumer;

/**
 * Follows every TCP connection in a stream of decoded segments, in capture order, and hands each finished
 * connection to a {@link ConnectionListener}. Where one connection ends and the next starts on the same 4-tuple
 * follows the configured {@link Lifecycle}: Zeek's reuse test and timers (driven by packet time through
 * {@link #advanceTime}), or tshark's {@code tcp.stream} rule. Connections still open at {@link #finish} are
 * emitted then, oldest first.
 *
 * <p>Per-flow state lives off-heap in the flow table's {@link FlowStateStore}, one record per flow, and the engine
 * reads and writes it in place through a {@link TcpConnection} flyweight, so the heap does not grow with the number
 * of flows. Everything that outlives one segment (Zeek's timer queue, the idle lists, the index) holds slot numbers,
 * not objects.
 *
 * <p>Single-threaded: owned by the thread that feeds it.
 */
public final class ConnectionTracker
{
    /** Zeek fires at most this many timers per packet (its {@code max_timer_expires}). */
    private static final int MAX_TIMERS_PER_PACKET = 300;
    /** Stale timer entries tolerated beyond two per live connection before the queue is compacted. */
    private static final int STALE_TIMER_SLACK = 4096;

    /** Unbounded ({@link ConnectionTable}) without limits, bounded ({@link BoundedFlowTable}) with a capacity. */
    private final FlowTable table;
    /** The table's record store. */
    private final FlowStateStore store;
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
    /** finish()'s sort, its arrays kept for the next finish; and its visitor, made once. */
    private final FinishOrder finishOrder = new FinishOrder();
    private final IntConsumer collectForFinish = this::collectForFinish;
    private LongConsumer handshakeRtts;
    private LongConsumer ackRtts;
    /** Null unless interim records are on ({@link #emitInterimRecords}). */
    private InterimSchedule interims;
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
     * A tracker whose flow table follows {@code limits}: unbounded (connections stay until they end; the listener
     * may keep the object it is given), or bounded (memory fixed at start, objects recycled, idle connections
     * expired, the least recently active evicted when full; each removal is emitted and counted, see
     * {@link #removed}).
     */
    public ConnectionTracker(
        final int initialCapacity, final ConnectionListener listener, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits)
    {
        this(initialCapacity, listener, lifecycle, zeekOptions, limits, true);
    }

    /**
     * As {@link #ConnectionTracker(int, ConnectionListener, Lifecycle, ZeekOptions, FlowLimits)}; with
     * {@code listenerKeepsConnections} false the listener gets the connection in place (it keeps to
     * {@link ConnectionListener}'s contract), so connections that come and go allocate nothing. True costs one copy
     * per ended connection: for listeners that collect them.
     */
    public ConnectionTracker(
        final int initialCapacity, final ConnectionListener listener, final Lifecycle lifecycle,
        final ZeekOptions zeekOptions, final FlowLimits limits, final boolean listenerKeepsConnections)
    {
        this.limits = limits;
        this.table = limits.isBounded() ? new BoundedFlowTable(limits, zeekOptions, this::onRemovedByTable) :
            new ConnectionTable(initialCapacity, zeekOptions, listenerKeepsConnections);
        this.store = table.store();
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
            table.expire(nowNanos);
        }
        if (lifecycle == Lifecycle.ZEEK)
        {
            fireZeekTimers(nowNanos);
        }
        if (interims != null)
        {
            interims.fire(nowNanos, store, listener); // after the timers: a flow they ended needs no interim
        }
    }

    private void fireZeekTimers(final long nowNanos)
    {
        int fired = 0;
        // size() first: an empty queue's instant (Long.MAX_VALUE) is also a time a capture can carry.
        for (; fired < MAX_TIMERS_PER_PACKET && timers.size() > 0 && timers.peekInstant() <= nowNanos; )
        {
            final long instant = timers.peekInstant();
            final int slot = timers.peekSlot();
            final int serial = timers.peekSerial();
            timers.pop();
            if (store.serial(slot) != serial || store.scheduledTimer(slot) != instant)
            {
                continue; // stale entry: the connection's timers moved or it has gone
            }
            final TcpConnection connection = store.bind(slot);
            connection.scheduledTimerNanos(ZeekSummary.NO_TIMER);
            fired++;
            if (connection.zeek.fireNextTimer(nowNanos))
            {
                connectionsTimedOut++;
                end(connection, EndReason.TIMEOUT);
                removeFromTable(slot); // after the record: the slot and its object are reused
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
        TcpConnection connection = table.find(p, hash);
        if (connection == null)
        {
            connectionsCreated++;
            connection = table.create(p, hash, 0);
            counters.hold(connection);
            scheduleInterim(connection);
        }
        else if (isReuse(connection, p))
        {
            final boolean reusedPorts = connection.isReusedBy(p, connection.isFromA(p));
            final long generation = connection.generation() + 1;
            connectionsReused++;
            connectionsCreated++;
            connection.scheduledTimerNanos(ZeekSummary.NO_TIMER);
            final int slot = connection.slot;
            end(connection, EndReason.REUSED);
            connection = table.recycleForSuccessor(slot, p, generation);
            counters.hold(connection);
            scheduleInterim(connection);
            if (reusedPorts)
            {
                connection.reusedPorts(true);
                connection.pendingFlags(AnalysisFlag.REUSED_PORTS.bit());
            }
        }
        track(connection, p);
        table.touch(connection, clockNanos);
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
        // An ACK samples the RTT of the peer's data: one more sample, and the sum grew by it.
        final TcpEndpoint receiver = fromA ? connection.b : connection.a;
        final long rttSamplesBefore = receiver.rttSamples();
        final long rttSumBefore = receiver.rttSumNanos();
        final int origBefore = connection.originator().state().ordinal();
        final int respBefore = connection.responder().state().ordinal();
        final long outsideWindow = sender.outsideWindow();
        final long rstOutsideWindow = sender.rstOutsideWindow();
        final long dataAfterRst = sender.dataAfterRst();
        final boolean rttSeenBefore = connection.initialRttSeen();

        final int flags = connection.onSegment(p, fromA);

        final int direction = sender == connection.originator() ? TrafficCounters.ORIG : TrafficCounters.RESP;
        counters.onSegment(direction, flags, p.payloadLength);
        counters.moveStates(connection, origBefore, respBefore);
        // The three only grow, so their sum changes whenever one does.
        if (sender.outsideWindow() + sender.rstOutsideWindow() + sender.dataAfterRst() !=
            outsideWindow + rstOutsideWindow + dataAfterRst)
        {
            counters.onSecurityEvents(direction, SecuritySignal.OUTSIDE_WINDOW, sender.outsideWindow() - outsideWindow);
            counters.onSecurityEvents(direction, SecuritySignal.RST_OUTSIDE_WINDOW,
                sender.rstOutsideWindow() - rstOutsideWindow);
            counters.onSecurityEvents(direction, SecuritySignal.DATA_AFTER_RST, sender.dataAfterRst() - dataAfterRst);
        }
        if (ackRtts != null && receiver.rttSamples() != rttSamplesBefore && receiver.rttSumNanos() != Long.MAX_VALUE)
        {
            ackRtts.accept(receiver.rttSumNanos() - rttSumBefore);
        }
        if (!rttSeenBefore && connection.initialRttSeen())
        {
            counters.handshakeRttSamples++;
            if (handshakeRtts != null)
            {
                handshakeRtts.accept(connection.initialRttNanos());
            }
        }
    }

    private boolean isReuse(final TcpConnection connection, final DecodedPacket p)
    {
        if (lifecycle == Lifecycle.TSHARK)
        {
            return connection.isReusedBy(p, connection.isFromA(p));
        }
        return connection.zeek.created() && !TcpConnection.isDroppedByZeek(p, zeekOptions) &&
            connection.zeek.isReusedBy(p);
    }

    private void scheduleInterim(final TcpConnection connection)
    {
        if (interims != null)
        {
            interims.schedule(store, connection.slot, connection.firstTimestampNanos(), clockNanos, table.size());
        }
    }

    /** Queues the connection's earliest timer unless an entry at or before it is already queued. */
    private void schedule(final TcpConnection connection)
    {
        final long next = connection.zeek.nextTimerNanos();
        if (next < connection.scheduledTimerNanos())
        {
            connection.scheduledTimerNanos(next);
            timers.push(next, connection.slot, store.serial(connection.slot));
            if (timers.size() > 2L * activeConnections() + STALE_TIMER_SLACK)
            {
                timers.dropStale(store); // amortised: runs after at least STALE_TIMER_SLACK pushes
            }
        }
    }

    private void removeFromTable(final int slot)
    {
        table.remove(slot);
    }

    private void onRemovedByTable(final TcpConnection connection, final FlowRemoval removal, final FlowPhase phase)
    {
        connection.scheduledTimerNanos(ZeekSummary.NO_TIMER);
        end(connection, removal.endReason());
    }

    private void end(final TcpConnection connection, final EndReason reason)
    {
        if (connection.endReason() == null)
        {
            connection.endReason(reason);
        }
        counters.release(connection);
        listener.onConnectionEnd(store.forListener(connection));
    }

    private void collectForFinish(final int slot)
    {
        finishOrder.add(slot, store.firstTimestampNanos(slot), store.generation(slot));
    }

    /**
     * Ends every connection still in the table, oldest first, with {@code reason} unless it already closed or
     * reset, and empties the table.
     */
    public void finish(final EndReason reason)
    {
        finishOrder.clear(activeConnections());
        // Each record read once, not once per comparison: with many flows open the sort is cache misses.
        table.forEachSlot(collectForFinish);
        final int[] order = finishOrder.oldestFirst();
        timers.clear();
        if (interims != null)
        {
            interims.clear();
        }
        for (int i = 0, n = finishOrder.size(); i < n; i++)
        {
            final int slot = finishOrder.slot(order[i]);
            final TcpConnection connection = store.bind(slot);
            connection.scheduledTimerNanos(ZeekSummary.NO_TIMER);
            end(connection, reason);
        }
        // Only now: the slots go back to the store when the table forgets them.
        table.clear();
    }

    /**
     * Visits every connection still in the table, in no particular order, for reading: each is read in place
     * through a flyweight of the visit's own, so a visit (a checkpoint, an HTTP query) leaves the connection the
     * traffic is using as it was. Each object is valid only during its call: the action must not keep or change
     * them, nor call this tracker.
     */
    public void forEachActive(final Consumer<TcpConnection> action)
    {
        table.forEach(action);
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
        final TcpConnection connection = table.restore(encoded);
        connection.zeek.reset(zeekOptions);
        connection.scheduledTimerNanos(ZeekSummary.NO_TIMER);
        connectionsCreated++;
        counters.hold(connection);
        // The clock resumes where the checkpointed tracker's was (at least): a first packet at that same instant
        // must not expire anything the uninterrupted tracker would not have.
        clockNanos = Math.max(clockNanos, Math.max(connection.idleSinceNanos(), connection.lastTimestampNanos()));
        scheduleInterim(connection);
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

    /**
     * Emits an interim record of every open connection every {@code intervalNanos} of packet time from its first
     * packet, through {@link ConnectionListener#onConnectionUpdate} (see {@link InterimSchedule}). Call before the
     * first segment or restore.
     */
    public void emitInterimRecords(final long intervalNanos)
    {
        this.interims = new InterimSchedule(intervalNanos, 1 << 10);
    }

    /** Interim records emitted; 0 when they are off. Read on the tracker's thread (or after it finished). */
    public long interimRecords()
    {
        return interims == null ? 0 : interims.emitted();
    }

    /**
     * Receives every data-path ACK RTT sample (nanoseconds: an ACK's time minus that of the segment it exactly
     * acknowledges, as the records' {@code rtt} fields count them), on this tracker's thread; it must not allocate
     * or block. Set before the first segment; null for none.
     */
    public void onAckRtt(final LongConsumer observer)
    {
        this.ackRtts = observer;
    }

    /** Connections in {@code phase} now; any thread may read it. 0 for every phase when unbounded. */
    public long activeConnections(final FlowPhase phase)
    {
        return table.phaseSize(phase);
    }

    public Lifecycle lifecycle()
    {
        return lifecycle;
    }

    public int activeConnections()
    {
        return table.size();
    }

    public FlowLimits limits()
    {
        return limits;
    }

    /** Connections the bounded table removed for {@code removal} while in {@code phase}; 0 when unbounded. */
    public long removed(final FlowRemoval removal, final FlowPhase phase)
    {
        return table.removed(removal, phase);
    }

    /** Times the bounded table entered emergency mode (shorter timeouts when nearly full). */
    public long emergencyEntries()
    {
        return table.emergencyEntries();
    }

    public boolean inEmergency()
    {
        return table.inEmergency();
    }

    /**
     * Off-heap bytes of the flow table now: its index and bookkeeping, the chunks of flow records committed so far
     * (a bounded table's records take at most what {@link #flowTableMaxOffHeapBytes} says) and the timer queue. Any
     * thread may read it (the value may be a moment stale).
     */
    public long flowTableOffHeapBytes()
    {
        return table.offHeapBytes() + timers.offHeapBytes();
    }

    /**
     * Off-heap bytes of a full bounded table (index, bookkeeping, records), fixed at start; {@link Long#MAX_VALUE}
     * when unbounded. The timer queue comes on top (16 bytes per queued timer, about two per connection at most).
     */
    public long flowTableMaxOffHeapBytes()
    {
        return table.maxOffHeapBytes();
    }

    /**
     * What {@link #flowTableMaxOffHeapBytes} will say for a tracker with {@code limits}, before building one (whose
     * index and bookkeeping are allocated at once): lets a daemon refuse a bound the JVM cannot hold.
     */
    public static long flowTableMaxOffHeapBytes(final FlowLimits limits)
    {
        return limits.isBounded() ? BoundedFlowTable.maxOffHeapBytes(limits.maxFlows()) : Long.MAX_VALUE;
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
}
