package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.tcp.CompactRecord;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.tcp.zeek.ZeekSummary;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * The whole per-flow state of a flow table, off-heap: one fixed-size record per slot, and a small working set of
 * {@link TcpConnection} objects that the engine runs on. A slot's record is the authoritative state of its flow
 * unless the flow is bound to a working object; {@link #bind} brings a flow into the working set, writing the
 * least recently bound object back to its own record first when the set is full (a miss costs one encode and one
 * decode of a {@link CompactRecord}, and allocates nothing). So heap use is fixed by the working set size, not by the
 * number of flows.
 *
 * <p>A connection with a value that the compact record cannot hold exactly (more than 65,535 SYNs, or segments of
 * one analysis flag, from one side; more than 4 G packets; more than 2 GB sent one way, past Zeek's 32-bit relative
 * sequence numbers; a time it keeps more than 39 hours from its last packet...) is spilled: its record keeps only
 * the fields read without decoding, and its whole state goes in {@link FlowStateCodec}'s wide form
 * ({@link TcpConnection#ENCODED_BYTES}) to a heap array of a pool, until its next bind. Nothing is ever cut or
 * saturated. The pool's arrays are reused, so a spill allocates only when more flows are spilled at once than ever
 * before ({@link #spilled}); each spilled flow costs the heap about 1.4 KB while outside the working set.
 *
 * <p>Records live in chunks of up to {@value #MAX_CHUNK_RECORDS} slots ({@value #UNBOUNDED_CHUNK_RECORDS} when
 * unbounded), allocated when the first slot of a chunk is first used: a bounded store never holds more than
 * {@code capacity} records, and a small run stays small. A chunk keeps its records' headers side by side and their
 * bodies after them, so that lookups, timers and the working set's bookkeeping touch a few compact cache lines and
 * only a miss touches a body. Each record's header, in the chunk's header area:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                      Flow hash (FlowHash)                     |
 *  +---------------------------------------------------------------+
 *  |     Working object holding the flow + 1 (0: in the record)    |
 *  +---------------------------------------------------------------+
 *  |        Serial: tells the slot's successive flows apart        |
 *  +---------------------------------------------------------------+
 *  |  Next free slot (while free), or spilled state + 1 (in use)   |
 *  +---------------------------------------------------------------+
 *  |   Scheduled Zeek timer, while not in a working object (its    |
 *  +               TcpConnection.scheduledTimerNanos)              +
 *  |                                                               |
 *  +---------------------------------------------------------------+
 *
 *  and, in the chunk's body area, 8-byte aligned:
 *  +---------------------------------------------------------------+
 *  |     Body: CompactRecord (the identity and order fields     ...
 *  |     always; all of the state unless spilled)               ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Objects handed out are only valid until the next {@link #bind}, {@link #bindFresh}, {@link #view} or
 * {@link #release} of another slot: callers hold at most one at a time. An unbounded store (offline analysis) hands the
 * object of an ended flow over to its listener, which may keep it ({@link #handOver}; a new object takes its place); a
 * bounded one recycles it.
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
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;

    // Record layout.
    private static final int HASH_OFFSET = 0;
    private static final int RESIDENT_OFFSET = 4;
    private static final int SERIAL_OFFSET = 8;
    private static final int FREE_NEXT_OFFSET = 12;
    private static final int TIMER_OFFSET = 16;
    static final int HEADER_BYTES = 24;
    /** Bytes of one body, 8-byte aligned. */
    static final int BODY_BYTES = (CompactRecord.BYTES + 7) & ~7;
    /** Bytes of one record, header and body. */
    static final int RECORD_BYTES = HEADER_BYTES + BODY_BYTES;

    private final int capacity;
    private final ZeekOptions zeekOptions;
    private final boolean handOver;
    private final int chunkShift;
    private final int chunkMask;
    /** Per chunk: the headers side by side (what lookups, timers and the working set read), then the bodies. */
    private MemorySegment[] headers = new MemorySegment[4];
    private MemorySegment[] bodies = new MemorySegment[4];
    /**
     * The codec runs on this heap copy of one body, moved to and from the record in one bulk copy: faster than field
     * by field through a view of the segment, and it allocates nothing.
     */
    private final byte[] scratch = new byte[CompactRecord.BYTES];
    private final StateBuffer scratchView = new StateBuffer(scratch);
    private final CompactRecord compact = new CompactRecord();
    /** Wide states of spilled records, by spill id; ids not in use are on {@link #freeSpills}. */
    private byte[][] spills = new byte[0][];
    private int[] freeSpills = new int[0];
    private int freeSpillCount;
    private final StateBuffer spillView = new StateBuffer(null);
    private int chunkCount;
    /** Bytes of the chunks so far: written by the owner, read by any thread (metrics). */
    private volatile long committedBytes;
    /** Slots ever handed out; those below are live or on the free list. */
    private int created;
    private int freeHead = NONE;
    private int nextSerial;

    // The working set: objects, their order of use (the least recent is evicted first) and a stack of free ones.
    private final TcpConnection[] working;
    private final RecencyList recency;
    private final int[] freeWorking;
    private int freeWorkingCount;
    private int workingCreated;
    /** Holds a flow outside the working set while it is visited ({@link #view}); made on first use. */
    private TcpConnection visitor;
    /** Written by the owner only (its cost is nothing beside a miss's decode), read by any thread (metrics). */
    private volatile long misses;

    /**
     * @param capacity slots at most ({@link Integer#MAX_VALUE}: unbounded, chunks are added as needed).
     * @param workingSetSize working objects at most, made as needed.
     * @param handOver whether ended flows' objects go to the listener for good ({@link #handOver}).
     */
    FlowStateStore(final int capacity, final int workingSetSize, final ZeekOptions zeekOptions, final boolean handOver)
    {
        if (capacity < 1 || workingSetSize < 1)
        {
            throw new IllegalArgumentException("capacity and working set must be positive: " + capacity + ", " +
                workingSetSize);
        }
        this.capacity = capacity;
        this.zeekOptions = zeekOptions;
        this.handOver = handOver;
        // Unbounded: chunks a huge page fits in; a short-lived tracker (tests, tools) still commits little, since
        // mapped chunk memory is committed only as records are first used (ChunkMemory).
        final int chunkRecords = chunkRecords(capacity);
        this.chunkShift = Integer.numberOfTrailingZeros(chunkRecords);
        this.chunkMask = chunkRecords - 1;
        final int k = Math.min(workingSetSize, capacity);
        this.working = new TcpConnection[k];
        this.recency = new RecencyList(k);
        this.freeWorking = new int[k];
    }

    /** A free slot, its header reset (not bound, no timer, a new serial); the caller ensures one is left. */
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
        chunk.set(INT, offset + RESIDENT_OFFSET, 0);
        chunk.set(INT, offset + FREE_NEXT_OFFSET, 0);
        chunk.set(INT, offset + SERIAL_OFFSET, nextSerial++);
        chunk.set(LONG, offset + TIMER_OFFSET, ZeekSummary.NO_TIMER);
        return slot;
    }

    /** The slot goes back to the free list; its working object, if any, is free for another flow. */
    void release(final int slot)
    {
        detach(slot);
        dropSpill(slot);
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        chunk.set(LONG, offset + TIMER_OFFSET, ZeekSummary.NO_TIMER);
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
     * The slot's flow in a working object, decoded from its record unless already bound. The object is valid until
     * another slot is bound or released.
     */
    TcpConnection bind(final int slot)
    {
        final int resident = header(slot).get(INT, offset(slot) + RESIDENT_OFFSET);
        if (resident != 0)
        {
            recency.touch(resident - 1);
            return working[resident - 1];
        }
        misses = misses + 1; // single writer
        final int w = takeWorkingObject();
        final TcpConnection connection = working[w];
        load(slot, connection);
        dropSpill(slot); // the working object holds the state now
        attach(slot, w);
        return connection;
    }

    /**
     * The slot's flow for reading only, without disturbing the working set: its working object if bound, else a
     * visitor object decoded from the record (nothing is written back, no flow is evicted). Valid until the next
     * call of any method here; the caller must not change it.
     */
    TcpConnection view(final int slot)
    {
        final int resident = header(slot).get(INT, offset(slot) + RESIDENT_OFFSET);
        if (resident != 0)
        {
            return working[resident - 1];
        }
        if (visitor == null)
        {
            visitor = new TcpConnection();
        }
        load(slot, visitor);
        return visitor;
    }

    /**
     * The slot's flow, to be ended and then forgotten by its table ({@code finish}): as {@link #view} (a decode into
     * the visitor object counts as a miss, but evicts and writes back nothing), or bound as by {@link #bind} when
     * ended flows' objects are handed over. Then {@link #discardWorkingObject}.
     */
    TcpConnection bindToEnd(final int slot)
    {
        if (handOver)
        {
            return bind(slot);
        }
        final TcpConnection connection = view(slot);
        if (connection == visitor)
        {
            misses = misses + 1; // single writer
        }
        return connection;
    }

    /**
     * A working object for a slot whose record holds nothing worth reading (a new flow, a successor, a restore):
     * the bound one, else any, left as it was. The caller resets or decodes it.
     */
    TcpConnection bindFresh(final int slot)
    {
        final int resident = header(slot).get(INT, offset(slot) + RESIDENT_OFFSET);
        if (resident != 0)
        {
            recency.touch(resident - 1);
            return working[resident - 1];
        }
        dropSpill(slot); // the record is stale: the caller resets or decodes the object
        final int w = takeWorkingObject();
        attach(slot, w);
        return working[w];
    }

    /**
     * Gives the slot's working object away for good (an unbounded store's listener may keep an ended connection):
     * the slot keeps no working object and its record is stale, so only release or {@link #bindFresh} may follow.
     * A bounded store keeps its object.
     */
    void handOver(final int slot)
    {
        if (!handOver)
        {
            return;
        }
        final int w = detach(slot);
        if (w != NONE)
        {
            working[w] = null; // made again when next needed
        }
    }

    /**
     * The slot's flow was emitted and its table will forget it: its working object goes back unwritten, so ending
     * every flow ({@code finish}) neither evicts those still to come nor encodes dead records. Only release follows.
     */
    void discardWorkingObject(final int slot)
    {
        detach(slot);
    }

    /** Frees the slot's working object, if it has one, without writing it back; returns it, or {@link #NONE}. */
    private int detach(final int slot)
    {
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        final int resident = chunk.get(INT, offset + RESIDENT_OFFSET);
        if (resident == 0)
        {
            return NONE;
        }
        freeWorkingObject(resident - 1);
        chunk.set(INT, offset + RESIDENT_OFFSET, 0);
        return resident - 1;
    }

    /**
     * The slot's flow has closed (only stragglers are expected now): if bound, its working object becomes the first
     * one written back when the set needs room, so flows that closed but stay for their timers do not push out
     * flows still exchanging data.
     */
    void demote(final int slot)
    {
        final int resident = header(slot).get(INT, offset(slot) + RESIDENT_OFFSET);
        if (resident != 0)
        {
            recency.demote(resident - 1);
        }
    }

    int hash(final int slot)
    {
        return header(slot).get(INT, offset(slot) + HASH_OFFSET);
    }

    void hash(final int slot, final int hash)
    {
        header(slot).set(INT, offset(slot) + HASH_OFFSET, hash);
    }

    int serial(final int slot)
    {
        return header(slot).get(INT, offset(slot) + SERIAL_OFFSET);
    }

    /** The slot's queued Zeek timer ({@link TcpConnection#scheduledTimerNanos}), bound or not. */
    long scheduledTimer(final int slot)
    {
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        final int resident = chunk.get(INT, offset + RESIDENT_OFFSET);
        return resident != 0 ? working[resident - 1].scheduledTimerNanos() : chunk.get(LONG, offset + TIMER_OFFSET);
    }

    /** Whether the packet belongs to the slot's flow, read from its record when not bound (nothing is decoded). */
    boolean matches(final int slot, final DecodedPacket p)
    {
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        final int resident = chunk.get(INT, offset + RESIDENT_OFFSET);
        return resident != 0 ? working[resident - 1].matches(p) :
            CompactRecord.encodedMatches(bodies[slot >>> chunkShift], bodyOffset(slot), p);
    }

    long firstTimestampNanos(final int slot)
    {
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        final int resident = chunk.get(INT, offset + RESIDENT_OFFSET);
        return resident != 0 ? working[resident - 1].firstTimestampNanos() :
            CompactRecord.encodedFirstTimestampNanos(bodies[slot >>> chunkShift], bodyOffset(slot));
    }

    long generation(final int slot)
    {
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        final int resident = chunk.get(INT, offset + RESIDENT_OFFSET);
        return resident != 0 ? working[resident - 1].generation() :
            CompactRecord.encodedGeneration(bodies[slot >>> chunkShift], bodyOffset(slot));
    }

    /** Binds that had to decode a record (the flow was not in the working set). */
    long misses()
    {
        return misses;
    }

    /** Records whose state is spilled to the heap now (see the class comment). */
    int spilled()
    {
        return spills.length - freeSpillCount;
    }

    int workingSetSize()
    {
        return working.length;
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

    private int takeWorkingObject()
    {
        final int w;
        if (freeWorkingCount > 0)
        {
            w = freeWorking[--freeWorkingCount];
        }
        else if (workingCreated < working.length)
        {
            w = workingCreated++;
        }
        else
        {
            w = recency.leastRecent();
            recency.remove(w);
            writeBack(working[w]);
        }
        if (working[w] == null)
        {
            working[w] = new TcpConnection(); // the set fills once, up to its size (and again after a hand-over)
        }
        return w;
    }

    private void freeWorkingObject(final int w)
    {
        recency.remove(w);
        working[w].slot = NONE;
        freeWorking[freeWorkingCount++] = w;
    }

    private void attach(final int slot, final int w)
    {
        working[w].slot = slot;
        header(slot).set(INT, offset(slot) + RESIDENT_OFFSET, w + 1);
        recency.addMostRecent(w);
    }

    /** Encodes a working object into its slot's record; the slot is then not bound. */
    private void writeBack(final TcpConnection connection)
    {
        final int slot = connection.slot;
        final long offset = offset(slot);
        scratchView.position(0);
        final boolean fits = compact.encode(connection, scratchView);
        MemorySegment.copy(scratch, 0, bodies[slot >>> chunkShift], ValueLayout.JAVA_BYTE, bodyOffset(slot),
            scratch.length);
        final MemorySegment chunk = headers[slot >>> chunkShift];
        if (!fits)
        {
            dropSpill(slot); // none is expected: binding the slot dropped it
            final int spill = takeSpill();
            connection.encode(spillView.wrap(spills[spill], 0));
            chunk.set(INT, offset + FREE_NEXT_OFFSET, spill + 1);
        }
        chunk.set(LONG, offset + TIMER_OFFSET, connection.scheduledTimerNanos());
        chunk.set(INT, offset + RESIDENT_OFFSET, 0);
        connection.slot = NONE;
    }

    private void load(final int slot, final TcpConnection connection)
    {
        final long offset = offset(slot);
        final int spill = headers[slot >>> chunkShift].get(INT, offset + FREE_NEXT_OFFSET) - 1;
        // Every encoded field is assigned, so the previous flow leaves nothing.
        if (spill >= 0)
        {
            connection.decode(spillView.wrap(spills[spill], 0));
            spillView.wrap(null, 0);
        }
        else
        {
            MemorySegment.copy(bodies[slot >>> chunkShift], ValueLayout.JAVA_BYTE, bodyOffset(slot), scratch, 0,
                scratch.length);
            scratchView.position(0);
            compact.decode(scratchView, connection);
        }
        connection.zeek.reset(zeekOptions);
        connection.scheduledTimerNanos(headers[slot >>> chunkShift].get(LONG, offset + TIMER_OFFSET));
    }

    /** A free spill id, its array made when first used. */
    private int takeSpill()
    {
        if (freeSpillCount == 0)
        {
            final int grown = Math.max(16, spills.length * 2);
            final int old = spills.length;
            spills = Arrays.copyOf(spills, grown);
            freeSpills = Arrays.copyOf(freeSpills, grown);
            for (int id = grown - 1; id >= old; id--)
            {
                freeSpills[freeSpillCount++] = id;
            }
        }
        final int spill = freeSpills[--freeSpillCount];
        if (spills[spill] == null)
        {
            spills[spill] = new byte[TcpConnection.ENCODED_BYTES];
        }
        return spill;
    }

    /** Forgets the slot's spilled state, if any (it was decoded, or the record is stale). */
    private void dropSpill(final int slot)
    {
        final MemorySegment chunk = header(slot);
        final long offset = offset(slot);
        final int spill = chunk.get(INT, offset + FREE_NEXT_OFFSET) - 1;
        if (spill >= 0)
        {
            freeSpills[freeSpillCount++] = spill;
            chunk.set(INT, offset + FREE_NEXT_OFFSET, 0);
        }
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
