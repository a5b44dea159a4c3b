package dev.flowtracker.ingest.output;

import dev.flowtracker.ingest.concurrent.Uninterruptibly;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The bounded hand-off between the threads that produce records and a {@link RecordWriter}'s writer thread: a queue
 * of records (a {@link ByteBuffer} each, newline included), the layout to frame them with, flush {@link Barrier}s and
 * {@link #STOP}, in order, and a pool of record buffers the writer thread gives back as it writes, so that handing a
 * record over allocates nothing. It exists so that a worker never touches the disk: it copies its record, queues it,
 * and waits only while the queue is full (file replay is lossless).
 *
 * <p>Threads: {@link #put} and {@link #putRecord} from any thread (shard workers, the controlling thread);
 * {@link #take} and {@link #recycle} from the writer thread only; {@link #queued} from any thread.
 */
final class RecordHandoff
{
    /** Queued by {@link RecordWriter#close}: the writer thread finishes. */
    static final Object STOP = new Object();
    /** Capacity of a pooled record buffer: a typical record (about 1.7 KB) fits, a rare longer one gets its own. */
    static final int POOLED_BUFFER_BYTES = 4096;
    /** Records handed over but not taken by the writer thread yet, at most. */
    private static final int QUEUE_CAPACITY = 4096;
    private static final int DRAIN_BATCH = 256;
    /** Longest single wait of a record handed to a full queue before it looks again. */
    private static final long MAX_PUT_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /**
     * Record buffers kept for reuse at most: as many as the queue and a drained batch hold, so a writer that lags
     * does not turn into allocation (18 MB of heap at most); more are in flight only while the sink fails.
     */
    private static final int POOL_BUFFERS = QUEUE_CAPACITY + DRAIN_BATCH;

    /** A flush waiting for every record in the backlog before it to be written, or for the sink to fail. */
    static final class Barrier
    {
        private final CountDownLatch done = new CountDownLatch(1);
        /** How many records had entered the backlog when the writer thread met this barrier. Writer thread. */
        long backlogEntriesBefore;
        private volatile boolean written;

        /** Lets the flush return, saying whether every record before it was written. Writer thread. */
        void release(final boolean allWritten)
        {
            written = allWritten;
            done.countDown();
        }

        /** Waits for {@link #release}; returns what it said. The flushing thread. */
        boolean await()
        {
            Uninterruptibly.await(done::await);
            return written;
        }
    }

    /** Records, the layout, flush barriers and {@link #STOP}, in order. */
    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    /**
     * Record buffers the writer thread has finished with, for the next records: handing records over allocates
     * nothing once the pool holds what is in flight.
     */
    private final BlockingQueue<ByteBuffer> pool = new ArrayBlockingQueue<>(POOL_BUFFERS);

    /**
     * Hands one record (without its newline) over, copied into a pooled buffer: allocates nothing while the writer
     * keeps up. Waits while the queue is full.
     */
    void putRecord(final AsciiRecord record)
    {
        final int length = record.length() + 1;
        ByteBuffer line = length <= POOLED_BUFFER_BYTES ? pool.poll() : null;
        if (line == null)
        {
            line = ByteBuffer.allocate(Math.max(length, POOLED_BUFFER_BYTES));
        }
        line.clear();
        line.put(record.bytes(), 0, record.length()).put((byte)'\n').flip();
        put(line);
    }

    /**
     * Queues {@code entry}, waiting while the queue is full by parking with back-off rather than on the queue's
     * condition (whose wait allocates a node each time). A record is never dropped for an interrupt: the interrupt
     * is kept for the caller.
     */
    void put(final Object entry)
    {
        boolean interrupted = false;
        long parkNanos = 1_000;
        while (!queue.offer(entry))
        {
            LockSupport.parkNanos(this, parkNanos);
            parkNanos = Math.min(parkNanos * 2, MAX_PUT_PARK_NANOS);
            interrupted |= Thread.interrupted();
        }
        if (interrupted)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Moves the next entries (a batch at most) into {@code batch}, waiting up to {@code waitNanos} for the first
     * (not at all for 0). Writer thread.
     */
    void take(final List<Object> batch, final long waitNanos) throws InterruptedException
    {
        final Object first = waitNanos > 0 ? queue.poll(waitNanos, TimeUnit.NANOSECONDS) : queue.poll();
        if (first != null)
        {
            batch.add(first);
            queue.drainTo(batch, DRAIN_BATCH - 1);
        }
    }

    /** An empty batch, sized for {@link #take}. */
    static List<Object> newBatch()
    {
        return new ArrayList<>(DRAIN_BATCH);
    }

    boolean isEmpty()
    {
        return queue.isEmpty();
    }

    /** Records handed over and not yet taken by the writer thread; any thread. */
    int queued()
    {
        return queue.size();
    }

    /** Gives a written (or dropped) record's buffer back for reuse. Writer thread. */
    void recycle(final ByteBuffer line)
    {
        if (!line.isReadOnly() && line.capacity() == POOLED_BUFFER_BYTES)
        {
            pool.offer(line); // beyond the pool's bound it goes to the garbage collector
        }
    }

    /** Fills the buffer pool up front, as many as can ever wait for reuse. For allocation tests. */
    void fillPool()
    {
        while (pool.offer(ByteBuffer.allocate(POOLED_BUFFER_BYTES)))
        {
            // until full
        }
    }
}
