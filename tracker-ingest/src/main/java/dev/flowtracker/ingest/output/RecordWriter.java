package dev.flowtracker.ingest.output;

import dev.flowtracker.ingest.concurrent.Uninterruptibly;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writes flow records (one line each) on its own thread, so that shard workers never wait on the disk: a worker
 * encodes its record and hands the bytes over through a bounded queue. A full queue makes the worker wait (file
 * replay is lossless); a write error loses the record, counted, and the daemon keeps tracking.
 *
 * <p>To a file, output rotates: when the file reaches {@code rotateBytes} or has been open {@code rotateNanos},
 * it is closed and renamed to {@code NAME.yyyyMMdd'T'HHmmss.SSS'Z'} (the time it was closed; {@code -0001},
 * {@code -0002}... when several close within a millisecond) and a new file is started under the configured name. 0 turns either trigger off.
 *
 * <p>{@link #write} may be called from any thread; {@link #flush} and {@link #close} from one controlling
 * thread at a time. The writer thread owns the output stream.
 */
public final class RecordWriter implements AutoCloseable
{
    private static final DateTimeFormatter ROTATED_SUFFIX =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** Records handed over but not written yet, at most. */
    private static final int QUEUE_CAPACITY = 4096;
    private static final int DRAIN_BATCH = 256;

    /** A queue entry: a record's bytes, or a flush barrier. */
    private record Entry(byte[] line, CountDownLatch flushed)
    {
    }

    private static final Entry STOP = new Entry(null, null);

    private final BlockingQueue<Entry> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    private final Path file;
    private final long rotateBytes;
    private final long rotateNanos;
    private final Thread thread;
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong rotations = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private OutputStream out;
    private long bytesInFile;
    private long openedNanos;
    private boolean closed;

    /** Records to {@code console} (standard output): no rotation; it is flushed, never closed. */
    public static RecordWriter toStream(final OutputStream console)
    {
        return new RecordWriter(new BufferedOutputStream(console, 1 << 16), null, 0, 0);
    }

    /**
     * Records to {@code file}, created or truncated now, rotated by size and age (0 = never).
     *
     * @throws IOException when the file cannot be created.
     */
    public static RecordWriter toFile(final Path file, final long rotateBytes, final long rotateNanos)
        throws IOException
    {
        return new RecordWriter(open(file), file, rotateBytes, rotateNanos);
    }

    private RecordWriter(final OutputStream out, final Path file, final long rotateBytes, final long rotateNanos)
    {
        this.file = file;
        this.rotateBytes = rotateBytes;
        this.rotateNanos = rotateNanos;
        this.out = out;
        this.openedNanos = System.nanoTime();
        this.thread = new Thread(this::run, "tracker-records");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    private static OutputStream open(final Path file) throws IOException
    {
        return new BufferedOutputStream(Files.newOutputStream(file), 1 << 16);
    }

    /** Hands one record (without its newline) to the writer thread; waits while the queue is full. */
    public void write(final CharSequence record)
    {
        final byte[] bytes = (record + "\n").getBytes(StandardCharsets.UTF_8);
        put(new Entry(bytes, null));
    }

    /** Returns once every record handed over before this call is written and flushed out of this process. */
    public void flush()
    {
        final CountDownLatch flushed = new CountDownLatch(1);
        put(new Entry(null, flushed));
        Uninterruptibly.await(flushed::await);
    }

    /** Records written. */
    public long written()
    {
        return written.get();
    }

    /** Records handed over and not yet written; any thread. */
    public int queued()
    {
        return queue.size();
    }

    /** Records lost to write errors. */
    public long lost()
    {
        return lost.get();
    }

    /** Files closed and renamed by rotation. */
    public long rotations()
    {
        return rotations.get();
    }

    /** The first write error in one line, or null. */
    public String failure()
    {
        return failure.get();
    }

    /** Writes everything handed over, flushes, closes a file (not standard output) and stops the thread. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        put(STOP);
        Uninterruptibly.await(thread::join);
    }

    private void put(final Entry entry)
    {
        Uninterruptibly.await(() -> queue.put(entry)); // a record is never dropped for an interrupt
    }

    private void run()
    {
        final List<Entry> batch = new ArrayList<>(DRAIN_BATCH);
        while (true)
        {
            try
            {
                batch.add(queue.poll(rotateNanos > 0 ? Math.min(rotateNanos, TimeUnit.SECONDS.toNanos(1)) :
                    TimeUnit.SECONDS.toNanos(1), TimeUnit.NANOSECONDS));
            }
            catch (final InterruptedException e)
            {
                continue; // only close() stops this thread
            }
            queue.drainTo(batch, DRAIN_BATCH - 1);
            boolean stop = false;
            for (final Entry entry : batch)
            {
                if (entry == null)
                {
                    continue; // poll timed out: a chance to rotate an idle file by age
                }
                if (entry == STOP)
                {
                    stop = true;
                }
                else if (entry.flushed() != null)
                {
                    flushOut();
                    entry.flushed().countDown();
                }
                else
                {
                    try
                    {
                        writeLine(entry.line());
                    }
                    catch (final RuntimeException e)
                    {
                        // This thread must outlive any failure: workers wait on its queue.
                        lost.incrementAndGet();
                        failure.compareAndSet(null, e.toString());
                    }
                }
            }
            batch.clear();
            if (stop)
            {
                flushOut();
                if (file != null)
                {
                    closeOut();
                }
                return;
            }
            if (queue.isEmpty())
            {
                flushOut(); // nothing waiting: let readers (tail -f, a collector) see what there is
            }
            maybeRotate();
        }
    }

    private void writeLine(final byte[] line)
    {
        if (out == null && file != null)
        {
            reopen(); // after a failed rotation: try again for every record, so output resumes when it can
        }
        if (out == null)
        {
            lost.incrementAndGet();
            return;
        }
        try
        {
            out.write(line);
            written.incrementAndGet();
            bytesInFile += line.length;
        }
        catch (final IOException e)
        {
            lost.incrementAndGet();
            failure.compareAndSet(null, describe(e));
        }
        if (rotateBytes > 0 && bytesInFile >= rotateBytes)
        {
            rotate();
        }
    }

    private void maybeRotate()
    {
        if (file != null && rotateNanos > 0 && bytesInFile > 0 && System.nanoTime() - openedNanos >= rotateNanos)
        {
            rotate();
        }
    }

    private void rotate()
    {
        if (file == null)
        {
            return;
        }
        closeOut();
        try
        {
            final String base = file.getFileName() + "." + ROTATED_SUFFIX.format(Instant.now());
            // Several rotations in one millisecond must not replace each other (a rename would, silently).
            Path rotated = file.resolveSibling(base);
            for (int n = 1; Files.exists(rotated); n++)
            {
                rotated = file.resolveSibling(base + String.format("-%04d", n));
            }
            Files.move(file, rotated, StandardCopyOption.ATOMIC_MOVE);
            rotations.incrementAndGet();
        }
        catch (final IOException e)
        {
            failure.compareAndSet(null, "cannot rotate " + file + ": " + describe(e));
        }
        reopen();
    }

    private void reopen()
    {
        try
        {
            out = open(file);
        }
        catch (final IOException e)
        {
            out = null; // the records meanwhile are counted as lost
            failure.compareAndSet(null, "cannot reopen " + file + ": " + describe(e));
        }
        bytesInFile = 0;
        openedNanos = System.nanoTime();
    }

    private void flushOut()
    {
        if (out == null)
        {
            return;
        }
        try
        {
            out.flush();
        }
        catch (final IOException e)
        {
            failure.compareAndSet(null, describe(e));
        }
    }

    private void closeOut()
    {
        if (out == null)
        {
            return;
        }
        try
        {
            out.close();
        }
        catch (final IOException e)
        {
            failure.compareAndSet(null, describe(e));
        }
        out = null;
    }

    private static String describe(final IOException e)
    {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
