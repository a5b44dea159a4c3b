package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The whole per-flow state of a flow table, off-heap: one fixed-size record per slot, read and written in place. A
 * {@link TcpConnection} is a flyweight: {@link #bind} wraps the store's one connection object around a slot's
 * record, and the engine runs on the record itself. There is no object per flow, nothing to decode when a flow
 * comes back after others, nothing to write back when it leaves; the heap does not grow with the number of flows.
 *
 * <p>Records live in chunks of up to {@value #MAX_CHUNK_RECORDS} slots ({@value #UNBOUNDED_CHUNK_RECORDS} when
 * unbounded), allocated when the first slot of a chunk is first used: a bounded store never holds more than
 * {@code capacity} records, and a small run stays small. A chunk keeps its records' headers side by side and their
 * bodies after them, so that the free list and timer entries' staleness checks touch a few compact cache lines.
 * The flow's hash is not kept here: the record holds it ({@link #hash}) and the index beside each slot
 * ({@link FlowIndex}). Each record's header, in the chunk's header area:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |        Serial: tells the slot's successive flows apart        |
 *  +---------------------------------------------------------------+
 *  |                 Next free slot (while free)                   |
 *  +---------------------------------------------------------------+
 *
 *  and, in the chunk's body area, 8-byte aligned:
 *  +---------------------------------------------------------------+
 *  |     Body: the connection's state, {@link TcpConnection#BYTES}  ...
 *  |     (its own fields, its endpoints', its Zeek summary's)    ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>The connection {@link #bind} returns is valid until the next {@link #bind} or {@link #release} of another
 * slot; the one {@link #view} returns until the next
 * {@link #view}. Callers hold at most one of each at a time. A listener that keeps ended connections gets a copy
 * ({@link #forListener}).
 *
 * <p>Owned by one tracker thread.
 */
final class FlowStateStore
{
    static final int NONE = -1;
    /** Records per chunk at most; smaller for a smaller capacity. */
    static final int MAX_CHUNK_RECORDS = 4096;
    static final int UNBOUNDED_CHUNK_RECORDS = 2048;

    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;

    // Header layout.
    private static final int SERIAL_OFFSET = 0;
    private static final int FREE_NEXT_OFFSET = 4;
    static final int HEADER_BYTES = 8;
    /** Bytes of one body, 8-byte aligned. */
    static final int BODY_BYTES = (TcpConnection.BYTES + 7) & ~7;
    /** Bytes of one record, header and body. */
    static final int RECORD_BYTES = HEADER_BYTES + BODY_BYTES;

    private final int capacity;
    private final boolean handOver;
    private final int chunkShift;
    private final int chunkMask;
    /** Per chunk: the headers side by side (what lookups and the free list read), then the bodies. */
    private MemorySegment[] headers = new MemorySegment[4];
    private MemorySegment[] bodies = new MemorySegment[4];
    private int chunkCount;
    /** Bytes of the chunks so far: written by the owner, read by any thread (metrics). */
    private volatile long committedBytes;
    /** Slots ever handed out; those below are live or on the free list. */
    private int created;
    private int freeHead = NONE;
    private int nextSerial;

    /** Wrapped around the record the engine works on. */
    private final TcpConnection bound = new TcpConnection();
    /** Wrapped around a record being read (a checkpoint, a query, an interim record), so the bound one stays. */
    private final TcpConnection visitor = new TcpConnection();

    /**
     * @param capacity slots at most ({@link Integer#MAX_VALUE}: unbounded, chunks are added as needed).
     * @param handOver whether ended flows go to a listener that may keep them ({@link #forListener}).
     */
    FlowStateStore(final int capacity, final ZeekOptions zeekOptions, final boolean handOver)
    {
        if (capacity < 1)
        {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.handOver = handOver;
        // Unbounded: chunks a huge page fits in; a short-lived tracker (tests, tools) still commits little, since
        // mapped chunk memory is committed only as records are first used (ChunkMemory).
        final int chunkRecords = chunkRecords(capacity);
        this.chunkShift = Integer.numberOfTrailingZeros(chunkRecords);
        this.chunkMask = chunkRecords - 1;
        bound.zeek.reset(zeekOptions);
        visitor.zeek.reset(zeekOptions);
    }

    /** A free slot, its header reset (a new serial); the caller ensures one is left. */
    int acquire()
    {
        final int slot;
        if (freeHead != NONE)
        {
            slot = freeHead;
            freeHead = header(slot).get(INT, offset(slot) + FREE_NEXT_OFFSET);
        }
        else
        {
            if (created == capacity)
            {
                throw new IllegalStateException("no free slot: " + capacity + " in use");
            }
            slot = created++;
            if ((slot >>> chunkShift) == chunkCount)
            {
                addChunk();
            }
        }
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        chunk.set(INT, offset + FREE_NEXT_OFFSET, 0);
        chunk.set(INT, offset + SERIAL_OFFSET, nextSerial++);
        return slot;
    }

    /** The slot goes back to the free list. */
    void release(final int slot)
    {
        if (bound.slot == slot)
        {
            bound.slot = NONE;
        }
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        chunk.set(INT, offset + SERIAL_OFFSET, nextSerial++); // queued entries of the flow go stale
        chunk.set(INT, offset + FREE_NEXT_OFFSET, freeHead);
        freeHead = slot;
    }

    /** The slot starts a successor flow (port reuse): a new serial, so timer entries of the old flow go stale. */
    void renew(final int slot)
    {
        header(slot).set(INT, offset(slot) + SERIAL_OFFSET, nextSerial++);
    }

    /**
     * The slot's flow, read and written in place; valid until another slot is bound or released. For a new flow, a
     * successor or a restore, the caller resets or decodes it.
     */
    TcpConnection bind(final int slot)
    {
        if (bound.slot != slot)
        {
            bound.wrap(bodies[slot >>> chunkShift], bodyOffset(slot));
            bound.slot = slot;
        }
        return bound;
    }

    /**
     * The slot's flow for reading only, without disturbing the flow {@link #bind} returned: valid until the next
     * call of this method; the caller must not change it.
     */
    TcpConnection view(final int slot)
    {
        visitor.wrap(bodies[slot >>> chunkShift], bodyOffset(slot));
        visitor.slot = slot;
        return visitor;
    }

    /**
     * What an ended connection's listener gets: the connection itself, valid during the call only, or, when the
     * listener may keep it ({@code handOver}), a copy in memory of its own.
     */
    TcpConnection forListener(final TcpConnection connection)
    {
        if (!handOver)
        {
            return connection;
        }
        final TcpConnection copy = new TcpConnection();
        copy.zeek.reset(connection.zeek.options());
        copy.copyFrom(connection);
        return copy;
    }

    /** The flow hash of the slot's flow, read from its record. */
    int hash(final int slot)
    {
        return TcpConnection.recordHash(bodies[slot >>> chunkShift], bodyOffset(slot));
    }

    int serial(final int slot)
    {
        return header(slot).get(INT, offset(slot) + SERIAL_OFFSET);
    }

    /** The slot's queued Zeek timer ({@link TcpConnection#scheduledTimerNanos}). */
    long scheduledTimer(final int slot)
    {
        return TcpConnection.recordScheduledTimerNanos(bodies[slot >>> chunkShift], bodyOffset(slot));
    }

    /** Whether the packet belongs to the slot's flow, read from its record. */
    boolean matches(final int slot, final DecodedPacket p)
    {
        return TcpConnection.recordMatches(bodies[slot >>> chunkShift], bodyOffset(slot), p);
    }

    long firstTimestampNanos(final int slot)
    {
        return TcpConnection.recordFirstTimestampNanos(bodies[slot >>> chunkShift], bodyOffset(slot));
    }

    long generation(final int slot)
    {
        return TcpConnection.recordGeneration(bodies[slot >>> chunkShift], bodyOffset(slot));
    }

    /** Off-heap bytes committed so far (whole chunks); any thread may read it. */
    long offHeapBytes()
    {
        return committedBytes;
    }

    /** Off-heap bytes when every slot is in use ({@link Long#MAX_VALUE} when unbounded). */
    long maxOffHeapBytes()
    {
        return maxOffHeapBytes(capacity);
    }

    /** Off-heap bytes of a full store of {@code capacity} slots ({@link Long#MAX_VALUE} when unbounded). */
    static long maxOffHeapBytes(final int capacity)
    {
        if (capacity == Integer.MAX_VALUE)
        {
            return Long.MAX_VALUE;
        }
        final long chunkRecords = chunkRecords(capacity);
        return (capacity + chunkRecords - 1) / chunkRecords * chunkRecords * RECORD_BYTES;
    }

    private static int chunkRecords(final int capacity)
    {
        return capacity == Integer.MAX_VALUE ? UNBOUNDED_CHUNK_RECORDS :
            (int)Math.min(MAX_CHUNK_RECORDS, Long.highestOneBit(Math.max(1L, capacity - 1L) << 1));
    }

    private void addChunk()
    {
        if (chunkCount == headers.length)
        {
            headers = Arrays.copyOf(headers, chunkCount * 2);
            bodies = Arrays.copyOf(bodies, chunkCount * 2);
        }
        // Huge pages once the table has grown past its first chunk: a small run stays small.
        final MemorySegment chunk = ChunkMemory.allocate((long)(chunkMask + 1) * RECORD_BYTES, chunkCount > 0);
        headers[chunkCount] = chunk.asSlice(0, (long)(chunkMask + 1) * HEADER_BYTES);
        bodies[chunkCount] = chunk.asSlice((long)(chunkMask + 1) * HEADER_BYTES);
        chunkCount++;
        committedBytes += chunk.byteSize(); // single writer
    }

    private MemorySegment header(final int slot)
    {
        return headers[slot >>> chunkShift];
    }

    /** Of the slot's header in its chunk's headers. */
    private long offset(final int slot)
    {
        return (long)(slot & chunkMask) * HEADER_BYTES;
    }

    /** Of the slot's body in its chunk's bodies. */
    private long bodyOffset(final int slot)
    {
        return (long)(slot & chunkMask) * BODY_BYTES;
    }
}
