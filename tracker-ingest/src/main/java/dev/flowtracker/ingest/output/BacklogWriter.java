package dev.flowtracker.ingest.output;

import dev.flowtracker.ingest.output.RecordWriter.LossReason;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * The writer thread of a {@link RecordWriter}: takes what the workers handed over ({@link RecordHandoff}), keeps the
 * records in a bounded backlog and writes it to the {@link RecordOutput} in gathering writes whose short counts are
 * followed record by record, so no record is cut or written twice in a file. It exists so that a failing sink (a full
 * disk, a lost mount, a closed pipe) never stops tracking: records wait in the backlog ({@code bufferBytes}) and are
 * retried every {@code retryNanos}; a record that does not fit is dropped and counted ({@link LossReason#BUFFER_FULL});
 * what is still unwritten when the writer closes, after {@code closeGraceNanos} of retries, is counted too
 * ({@link LossReason#SHUTDOWN}). It also releases flushes and decides when a file rotates: at a record boundary,
 * never while the sink fails.
 *
 * <p>Threads: {@link #run} is the writer thread; everything here is that thread's. Other threads see only what it
 * publishes through {@link RecordWriterStatus}.
 */
final class BacklogWriter implements Runnable
{
    /** Records per gathering write (well under the kernel's IOV_MAX of 1024). */
    private static final int GATHER = 256;

    private final RecordHandoff handoff;
    private final RecordOutput output;
    private final RecordWriterStatus status;
    private final long bufferBytes;
    private final long retryNanos;
    private final long closeGraceNanos;
    private final ArrayDeque<ByteBuffer> backlog = new ArrayDeque<>();
    private final List<RecordHandoff.Barrier> barriers = new ArrayList<>();
    private final ByteBuffer[] gather = new ByteBuffer[GATHER];
    /** Records that entered / left the backlog (left: written, or lost at shutdown), in order. */
    private long backlogEntered;
    private long backlogLeft;
    private long nextAttemptNanos;

    BacklogWriter(
        final RecordHandoff handoff, final RecordOutput output, final RecordWriterStatus status, final long bufferBytes,
        final long retryNanos, final long closeGraceNanos)
    {
        this.handoff = handoff;
        this.output = output;
        this.status = status;
        this.bufferBytes = bufferBytes;
        this.retryNanos = retryNanos;
        this.closeGraceNanos = closeGraceNanos;
    }

    @Override
    public void run()
    {
        final List<Object> batch = RecordHandoff.newBatch();
        long stopDeadline = 0;
        boolean stopping = false;
        while (true)
        {
            final boolean failing = status.failing();
            final long waitNanos = stopping ? Math.min(retryNanos, Math.max(0, stopDeadline - System.nanoTime())) :
                backlog.isEmpty() ? output.idlePollNanos() :
                failing ? Math.max(0, nextAttemptNanos - System.nanoTime()) : 0;
            try
            {
                handoff.take(batch, waitNanos);
            }
            catch (final InterruptedException e)
            {
                continue; // only close() stops this thread
            }
            for (final Object entry : batch)
            {
                if (entry == RecordHandoff.STOP)
                {
                    stopping = true;
                    stopDeadline = System.nanoTime() + closeGraceNanos;
                }
                else if (entry instanceof RecordLayout layout)
                {
                    output.frame(layout);
                    addHeader();
                }
                else if (entry instanceof RecordHandoff.Barrier barrier)
                {
                    barrier.backlogEntriesBefore = backlogEntered;
                    barriers.add(barrier);
                }
                else
                {
                    accept((ByteBuffer)entry);
                }
            }
            batch.clear();
            if (!status.failing() || System.nanoTime() - nextAttemptNanos >= 0)
            {
                writeBacklog();
            }
            releaseBarriers();
            if (!status.failing() && output.dueForRotationByAge() && atRecordBoundary())
            {
                rotate();
            }
            if (stopping && handoff.isEmpty() && (backlog.isEmpty() || System.nanoTime() - stopDeadline >= 0))
            {
                finish();
                return;
            }
        }
    }

    private void accept(final ByteBuffer line)
    {
        if (status.readerLeft())
        {
            handoff.recycle(line); // nobody reads it: not lost
            return;
        }
        if (status.backlogBytes() + line.remaining() > bufferBytes)
        {
            status.lost(LossReason.BUFFER_FULL, 1); // the newest goes: the oldest waited longest
            handoff.recycle(line);
            return;
        }
        backlog.addLast(line);
        backlogEntered++;
        status.entered(line.remaining());
    }

    /** Writes as much of the backlog as the sink takes; a failure leaves the rest for a retry. */
    private void writeBacklog()
    {
        while (!backlog.isEmpty())
        {
            if (!output.isOpen() && !reopen())
            {
                return;
            }
            // With a size limit, stop at the record that reaches it, so the file is rotated right after it.
            long budget = output.sizeBudget();
            int count = 0;
            for (final Iterator<ByteBuffer> lines = backlog.iterator();
                lines.hasNext() && count < GATHER && budget > 0; )
            {
                final ByteBuffer line = lines.next();
                gather[count++] = line;
                budget -= line.remaining();
            }
            final long wrote;
            try
            {
                wrote = output.write(gather, count);
            }
            catch (final IOException e)
            {
                if (output.readerLeft(e))
                {
                    leftByReader();
                }
                else
                {
                    fail(RecordOutput.describe(e));
                }
                return;
            }
            finally
            {
                Arrays.fill(gather, 0, count, null);
            }
            if (wrote <= 0)
            {
                fail("the output took no bytes");
                return;
            }
            status.wrote(wrote);
            while (!backlog.isEmpty() && !backlog.peekFirst().hasRemaining())
            {
                final ByteBuffer done = backlog.pollFirst();
                if (!done.isReadOnly())
                {
                    backlogLeft++;
                    status.recordWritten();
                }
                handoff.recycle(done);
            }
            if (output.dueForRotationBySize() && atRecordBoundary())
            {
                rotate();
            }
        }
    }

    /** The stream's reader went away: what waits and what follows is dropped, and counted nowhere. */
    private void leftByReader()
    {
        status.leftByReader();
        for (final ByteBuffer line : backlog)
        {
            handoff.recycle(line);
        }
        backlog.clear();
        backlogLeft = backlogEntered;
        status.backlogCleared();
    }

    /** Queues the layout's header at the front of the backlog when the output is empty (a new or rotated file). */
    private void addHeader()
    {
        if (status.readerLeft())
        {
            return;
        }
        final ByteBuffer header = output.header();
        if (header != null)
        {
            backlog.addFirst(header);
            status.headerEntered(header.remaining());
        }
    }

    /** Writes the layout's footer straight out before the output is closed (best effort: none on a failing one). */
    private void writeFooter()
    {
        if (status.readerLeft() || status.failing())
        {
            return;
        }
        try
        {
            output.writeFooter();
        }
        catch (final IOException e)
        {
            if (output.readerLeft(e))
            {
                leftByReader(); // every record was read: only the footer was not
            }
            else
            {
                status.error(RecordOutput.describe(e));
            }
        }
    }

    private boolean atRecordBoundary()
    {
        return backlog.isEmpty() || backlog.peekFirst().position() == 0;
    }

    private void fail(final String why)
    {
        status.failed(why);
        nextAttemptNanos = System.nanoTime() + retryNanos;
    }

    /**
     * Releases the flushes whose records are all written (true), and, while the sink fails, the rest (false). A
     * record dropped for a full buffer never entered the backlog: it is counted lost, not waited for.
     */
    private void releaseBarriers()
    {
        for (int i = barriers.size() - 1; i >= 0; i--)
        {
            final RecordHandoff.Barrier barrier = barriers.get(i);
            final boolean allWritten = backlogLeft >= barrier.backlogEntriesBefore;
            if (allWritten || status.failing())
            {
                barrier.release(allWritten);
                barriers.remove(i);
            }
        }
    }

    /**
     * Closes down: a record the sink took only part of before it failed for good is counted lost, so its fragment
     * is cut back out of the file; what is left in the backlog is lost; waiting flushes are released.
     */
    private void finish()
    {
        output.cutPartialRecord(backlog.isEmpty() ? 0 : backlog.peekFirst().position());
        status.lost(LossReason.SHUTDOWN, backlog.stream().filter(line -> !line.isReadOnly()).count());
        final boolean records = output.hasRecords();
        if (backlog.isEmpty())
        {
            writeFooter();
        }
        status.failingAtClose(!backlog.isEmpty());
        backlog.clear();
        status.backlogCleared();
        releaseBarriers();
        output.closeAtExit(records);
    }

    /** Closes the file, moves it aside and starts a new one (a stream is never rotated). */
    private void rotate()
    {
        if (!output.isFile())
        {
            return;
        }
        writeFooter();
        output.closeAndMoveAside();
        reopen();
    }

    /** Opens the output again (after a rotation or a failed one); false, counted as a failure, when it cannot. */
    private boolean reopen()
    {
        try
        {
            output.reopen();
        }
        catch (final IOException e)
        {
            fail("cannot reopen " + output.file() + ": " + RecordOutput.describe(e));
            return false;
        }
        addHeader();
        return true;
    }
}
