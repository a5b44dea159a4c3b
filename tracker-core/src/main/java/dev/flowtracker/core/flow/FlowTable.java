package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.TcpConnection;

import java.nio.ByteBuffer;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * Where a tracker's live flows are: an index from a 4-tuple (either direction) to the slot of its flow in a
 * {@link FlowStateStore}, which keeps each flow's engine state off-heap. Two kinds: {@link ConnectionTable} grows
 * without bound (offline analysis: connections stay until they end), {@link BoundedFlowTable} has a capacity fixed at
 * start, idle timeouts per phase, an emergency mode and eviction (the daemon). The tracker sees only this
 * interface; what a kind does not have answers as "nothing" (no idle time to note, no expiry, no removals).
 *
 * <p>Owned by one tracker thread; {@link #size}, {@link #phaseSize} and the removal counts may be read by others.
 */
interface FlowTable
{
    /** The record store behind the table. */
    FlowStateStore store();

    /** Live flows. */
    int size();

    /** The packet's flow, bound in place, or null. */
    TcpConnection find(DecodedPacket p, int hash);

    /** A new flow for the packet's 4-tuple, reset and in the table (a bounded table may evict to make room). */
    TcpConnection create(DecodedPacket p, int hash, long generation);

    /** A flow decoded from a checkpoint, in the table (a full bounded table evicts to make room). */
    TcpConnection restore(ByteBuffer encoded);

    /** The slot of an ended flow whose 4-tuple continues with a new one (port reuse): a new flow in the slot. */
    TcpConnection recycleForSuccessor(int slot, DecodedPacket p, long generation);

    /** The flow saw a segment at {@code nowNanos} (its idle time starts again). */
    void touch(TcpConnection connection, long nowNanos);

    /** Takes the flow out of the table and frees its slot. */
    void remove(int slot);

    /** Removes the flows idle past their phase's timeout at {@code nowNanos}, each told to the removal listener. */
    void expire(long nowNanos);

    /** Visits every live flow, each read in place in turn. */
    void forEach(Consumer<TcpConnection> action);

    /** Visits every live flow's slot. */
    void forEachSlot(IntConsumer action);

    /** Empties the table. */
    void clear();

    /** Off-heap bytes in use: index, bookkeeping and records. */
    long offHeapBytes();

    /** Off-heap bytes when full, fixed at start; {@link Long#MAX_VALUE} for a table that grows. */
    long maxOffHeapBytes();

    /** Flows in {@code phase} now; 0 for every phase in a table that does not track phases. */
    long phaseSize(FlowPhase phase);

    /** Flows the table removed on its own for {@code removal} while in {@code phase}. */
    long removed(FlowRemoval removal, FlowPhase phase);

    /** Times the table entered emergency mode (shorter timeouts when nearly full). */
    long emergencyEntries();

    /** Whether the table is in emergency mode now. */
    boolean inEmergency();
}
