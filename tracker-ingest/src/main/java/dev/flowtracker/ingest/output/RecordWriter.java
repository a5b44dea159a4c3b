package dev.flowtracker.ingest.output;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Writes flow records (one line each) on its own thread, so that shard workers never wait on the disk: a worker
 * encodes its record and hands the bytes over through a bounded queue. A full queue makes the worker wait (file
 * replay is lossless); the writer thread drains it whatever the disk does. An {@link AsciiRecord} is copied into a
 * buffer from a pool the writer thread refills as it writes, so handing records over allocates nothing.
 *
 * <p>When the sink fails (a full disk, a lost mount, a closed pipe) the daemon keeps tracking: records wait in a
 * bounded in-memory backlog ({@code bufferBytes}) and the writer retries every {@code retryNanos}, resuming exactly
 * where the kernel stopped (gathering writes whose short counts are followed record by record, so no record is cut
 * or written twice in a file). A record that does not fit in the backlog is dropped and counted
 * ({@link LossReason#BUFFER_FULL}); what is still unwritten when the writer closes, after
 * {@code closeGraceNanos} of retries, is counted too ({@link LossReason#SHUTDOWN}). Nothing is lost uncounted.
 *
 * <p>To a file, output rotates: when the file reaches {@code rotateBytes} or has been open {@code rotateNanos},
 * it is closed and renamed to {@code NAME.yyyyMMdd'T'HHmmss.SSS'Z'} (the time it was closed; {@code -0001},
 * {@code -0002}... when several close within a millisecond) and a new file is started under the configured name.
 * 0 turns either trigger off. Rotation waits for a record boundary.
 *
 * <p>{@link #write} may be called from any thread; {@link #flush} and {@link #close} from one controlling
 * thread at a time; the counters from any thread. The writer thread owns the channel and the backlog.
 */
public final class RecordWriter implements FlowRecordSink
{
    /** Why records were not written. */
    public enum LossReason
    {
        /** The sink was failing and the backlog was full. */
        BUFFER_FULL("buffer_full"),
        /** The sink was still failing when the writer closed. */
        SHUTDOWN("shutdown");

        private final String label;

        LossReason(final String label)
        {
            this.label = label;
        }

        /** The metric label value. */
        public String label()
        {
            return label;
        }
    }

    /** Backlog bound unless configured: about 100 k records of typical size. */
    public static final long DEFAULT_BUFFER_BYTES = 64L << 20;
    private static final long DEFAULT_RETRY_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final long DEFAULT_CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);
    private static final DateTimeFormatter ROTATED_SUFFIX =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    /** Records handed over but not taken by the writer thread yet, at most. */
    private static final int QUEUE_CAPACITY = 4096;
    private static final int DRAIN_BATCH = 256;
    /** Longest single wait of a record handed to a full queue before it looks again. */
    private static final long MAX_PUT_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    /** Records per gathering write (well under the kernel's IOV_MAX of 1024). */
    private static final int GATHER = 256;
    private static final long IDLE_POLL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The message of EPIPE (Linux), a write to a pipe whose reader closed it; the JVM ignores SIGPIPE. */
    private static final String BROKEN_PIPE = "Broken pipe";


    /** A flush waiting for every record in the backlog before it to be written, or for the sink to fail. */
    private static final class Barrier
    {
        final CountDownLatch done = new CountDownLatch(1);
        /** How many records had entered the backlog when the writer thread met this barrier. */
        long backlogEntriesBefore;
        volatile boolean written;
    }

    /** Queued by {@link #close}: the writer thread finishes. */
    private static final Object STOP = new Object();
    /** Capacity of a pooled record buffer: a typical record (about 1.7 KB) fits, a rare longer one gets its own. */
    static final int POOLED_BUFFER_BYTES = 4096;
    /**
     * Record buffers kept for reuse at most: as many as the queue and a drained batch hold, so a writer that lags
     * does not turn into allocation (18 MB of heap at most); more are in flight only while the sink fails.
     */
    private static final int POOL_BUFFERS = QUEUE_CAPACITY + DRAIN_BATCH;

    /** Opens (again) the channel records go to. */
    @FunctionalInterface
    interface ChannelOpener
    {
        GatheringByteChannel open() throws IOException;
    }

    /** Records (a {@link ByteBuffer} each, newline included), flush {@link Barrier}s and {@link #STOP}, in order. */
    private final BlockingQueue<Object> queue = new ArrayBlockingQueue<>(QUEUE_CAPACITY);
    /**
     * Record buffers the writer thread has finished with, for the next records: handing records over allocates
     * nothing once the pool holds what is in flight.
     */
    private final BlockingQueue<ByteBuffer> pool = new ArrayBlockingQueue<>(POOL_BUFFERS);
    private final Path file;
    private final ChannelOpener opener;
    private final long rotateBytes;
    private final long rotateNanos;
    private final long bufferBytes;
    private final long retryNanos;
    private final long closeGraceNanos;
    private final Thread thread;
    private final AtomicLong written = new AtomicLong();
    private final LossCounts<LossReason> lost = new LossCounts<>(LossReason.class);
    private final AtomicLong backlogRecords = new AtomicLong();
    private final AtomicLong backlogBytes = new AtomicLong();
    private final AtomicLong rotations = new AtomicLong();
    private final AtomicLong sinkFailures = new AtomicLong();
    private final AtomicReference<String> failure = new AtomicReference<>();
    private volatile boolean failing;
    private volatile boolean readerLeft;

    // Writer thread only.
    private final ArrayDeque<ByteBuffer> backlog = new ArrayDeque<>();
    private final List<Barrier> barriers = new ArrayList<>();
    private final ByteBuffer[] gather = new ByteBuffer[GATHER];
    private GatheringByteChannel out;
    /** Records that entered / left the backlog (left: written, or lost at shutdown), in order. */
    private long backlogEntered;
    private long backlogLeft;
    private long bytesInFile;
    private long openedNanos;
    private long nextAttemptNanos;
    private boolean closed;
    private final boolean rotateAtExit;
    /** Set once at creation by {@link #continuing}. */
    private long tornBytesCut;
    private long continuedBytes;
    /**
     * The layout whose header starts each (empty) file and whose footer ends it; null for none. Header buffers are
     * read-only, which tells them from records: they are not counted as records written or lost.
     */
    private RecordLayout framing;
    /** Bytes of the header at the start of the current file: a file of a header alone is not rotated. */
    private long headerBytes;

    /** Records to {@code console} (standard output): no rotation; it is flushed, never closed. */
    public static RecordWriter toStream(final OutputStream console)
    {
        return toStream(console, DEFAULT_BUFFER_BYTES);
    }

    /** Records to {@code console}, with at most {@code bufferBytes} waiting while it fails. */
    public static RecordWriter toStream(final OutputStream console, final long bufferBytes)
    {
        final GatheringByteChannel channel = new StreamChannel(console);
        return new RecordWriter(null, () -> channel, channel, 0, 0, bufferBytes, DEFAULT_RETRY_NANOS,
            DEFAULT_CLOSE_GRACE_NANOS);
    }

    /**
     * Records to this process's standard output through its file descriptor rather than {@code System.out} (a
     * {@link PrintStream} hides its errors), so that a reader that went away (EPIPE) is told from a failing disk:
     * then the records since are dropped, uncounted ({@link #readerLeft}). Flushed, never closed.
     */
    public static RecordWriter toStandardOutput(final long bufferBytes)
    {
        System.out.flush();
        final FileChannel channel = new FileOutputStream(FileDescriptor.out).getChannel();
        return new RecordWriter(null, () -> channel, channel, 0, 0, bufferBytes, DEFAULT_RETRY_NANOS,
            DEFAULT_CLOSE_GRACE_NANOS);
    }

    /**
     * Records to {@code file}, created or truncated now, rotated by size and age (0 = never).
     *
     * @throws IOException when the file cannot be created.
     */
    public static RecordWriter toFile(final Path file, final long rotateBytes, final long rotateNanos)
        throws IOException
    {
        return toFile(file, rotateBytes, rotateNanos, DEFAULT_BUFFER_BYTES);
    }

    /**
     * Records to {@code file} as {@link #toFile(Path, long, long)}, with at most {@code bufferBytes} of records
     * waiting while it cannot be written.
     *
     * @throws IOException when the file cannot be created.
     */
    public static RecordWriter toFile(
        final Path file, final long rotateBytes, final long rotateNanos, final long bufferBytes) throws IOException
    {
        final ChannelOpener opener = () -> FileChannel.open(file, StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
        return new RecordWriter(file, opener, opener.open(), rotateBytes, rotateNanos, bufferBytes,
            DEFAULT_RETRY_NANOS, DEFAULT_CLOSE_GRACE_NANOS);
    }

    /**
     * Records to {@code file}, continuing what an earlier run left there (a daemon's output must survive its
     * restarts): an existing file is appended to, never truncated. A last line without its newline is the torn
     * fragment of a record a killed process did not finish; it is cut off first ({@link #tornBytesCut}) so every
     * line stays a whole record. Rotation by size counts the bytes already there, rotation by age the file's age
     * (from its creation time where the file system records one, else from now). With {@code rotateAtExit} the file
     * is rotated aside when the writer closes, so the next run starts a new one.
     *
     * @throws IOException when the file cannot be opened or repaired.
     */
    public static RecordWriter continuing(
        final Path file, final long rotateBytes, final long rotateNanos, final boolean rotateAtExit,
        final long bufferBytes) throws IOException
    {
        final ChannelOpener opener = () -> FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
            StandardOpenOption.APPEND);
        final FileChannel first = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
            StandardOpenOption.WRITE);
        final long torn;
        final long size;
        try
        {
            torn = cutTornLastLine(first);
            size = first.size();
            first.position(size);
        }
        catch (final IOException e)
        {
            first.close();
            throw new IOException("cannot continue " + file + ": " + describe(e), e);
        }
        final RecordWriter writer = new RecordWriter(file, opener, first, rotateBytes, rotateNanos, bufferBytes,
            DEFAULT_RETRY_NANOS, DEFAULT_CLOSE_GRACE_NANOS, size, fileAgeNanos(file, size), rotateAtExit);
        writer.tornBytesCut = torn;
        writer.continuedBytes = size;
        return writer;
    }

    /** Truncates {@code channel} after its last newline; returns how many bytes were cut. */
    private static long cutTornLastLine(final FileChannel channel) throws IOException
    {
        final long size = channel.size();
        final ByteBuffer chunk = ByteBuffer.allocate(8192);
        long end = size;
        while (end > 0)
        {
            final long start = Math.max(0, end - chunk.capacity());
            chunk.clear().limit((int)(end - start));
            long at = start;
            while (chunk.hasRemaining())
            {
                final int read = channel.read(chunk, at);
                if (read < 0)
                {
                    throw new IOException("the file shrank while it was read");
                }
                at += read;
            }
            for (int i = chunk.position() - 1; i >= 0; i--)
            {
                if (chunk.get(i) == '\n')
                {
                    final long keep = start + i + 1;
                    if (keep < size)
                    {
                        channel.truncate(keep);
                    }
                    return size - keep;
                }
            }
            end = start;
        }
        if (size > 0)
        {
            channel.truncate(0); // no newline at all: one torn fragment
        }
        return size;
    }

    /** How long ago {@code file} was created, for age rotation; 0 when it is new or the file system cannot say. */
    private static long fileAgeNanos(final Path file, final long size)
    {
        if (size == 0)
        {
            return 0;
        }
        try
        {
            final BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            final FileTime created = attributes.creationTime();
            // Without a birth time, Java reports the modification time as the creation time: no age to go by.
            if (created.equals(attributes.lastModifiedTime()))
            {
                return 0;
            }
            return Math.max(0, TimeUnit.MILLISECONDS.toNanos(System.currentTimeMillis() - created.toMillis()));
        }
        catch (final IOException e)
        {
            return 0;
        }
    }

    /** Records to whatever {@code opener} opens (tests inject failures), {@code first} already open. */
    static RecordWriter toChannel(
        final ChannelOpener opener, final long bufferBytes, final long retryNanos, final long closeGraceNanos)
        throws IOException
    {
        return new RecordWriter(null, opener, opener.open(), 0, 0, bufferBytes, retryNanos, closeGraceNanos);
    }

    private RecordWriter(
        final Path file, final ChannelOpener opener, final GatheringByteChannel first, final long rotateBytes,
        final long rotateNanos, final long bufferBytes, final long retryNanos, final long closeGraceNanos)
    {
        this(file, opener, first, rotateBytes, rotateNanos, bufferBytes, retryNanos, closeGraceNanos, 0, 0, false);
    }

    private RecordWriter(
        final Path file, final ChannelOpener opener, final GatheringByteChannel first, final long rotateBytes,
        final long rotateNanos, final long bufferBytes, final long retryNanos, final long closeGraceNanos,
        final long bytesAlreadyInFile, final long fileAgeNanos, final boolean rotateAtExit)
    {
        if (bufferBytes <= 0)
        {
            throw new IllegalArgumentException("the record buffer must be positive, was " + bufferBytes);
        }
        this.file = file;
        this.opener = opener;
        this.rotateBytes = rotateBytes;
        this.rotateNanos = rotateNanos;
        this.bufferBytes = bufferBytes;
        this.retryNanos = retryNanos;
        this.closeGraceNanos = closeGraceNanos;
        this.out = first;
        this.bytesInFile = bytesAlreadyInFile;
        this.openedNanos = System.nanoTime() - Math.min(fileAgeNanos, rotateNanos > 0 ? rotateNanos : 0);
        this.rotateAtExit = rotateAtExit && file != null;
        this.thread = TrackerThreads.start("records", Kind.DAEMON, this::run);
    }

    /** {@code file} when writing to a file, {@code stdout} otherwise. */
    @Override
    public String name()
    {
        return file != null ? "file" : "stdout";
    }

    /**
     * Writes {@code layout}'s header before the first record when the file (or stream) is empty, and again at the
     * start of each rotated file, and its footer before a file is closed. Called once, before the first record.
     */
    public void frame(final RecordLayout layout)
    {
        put(layout);
    }

    /** Whether the stream's reader went away (a closed pipe); records since are dropped, not counted as lost. */
    @Override
    public boolean readerLeft()
    {
        return readerLeft;
    }

    /** Hands one record (without its newline) to the writer thread; waits while the queue is full. */
    public void write(final CharSequence record)
    {
        if (record instanceof AsciiRecord ascii)
        {
            write(ascii);
            return;
        }
        final byte[] bytes = (record + "\n").getBytes(StandardCharsets.UTF_8);
        put(ByteBuffer.wrap(bytes));
    }

    /**
     * Hands one record (without its newline) to the writer thread, copied into a pooled buffer: allocates nothing
     * while the writer keeps up. Waits while the queue is full.
     */
    @Override
    public void write(final AsciiRecord record)
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
     * Fills the buffer pool up front, as many as can ever wait for reuse: after this no record handed over allocates,
     * however far the writer thread falls behind (it fills as records flow otherwise). For allocation tests.
     */
    void fillPool()
    {
        while (pool.offer(ByteBuffer.allocate(POOLED_BUFFER_BYTES)))
        {
            // until full
        }
    }

    /** Gives a written (or dropped) record's buffer back for reuse. Writer thread. */
    private void recycle(final ByteBuffer line)
    {
        if (!line.isReadOnly() && line.capacity() == POOLED_BUFFER_BYTES)
        {
            pool.offer(line); // beyond the pool's bound it goes to the garbage collector
        }
    }

    /**
     * Waits until every record handed over before this call is written out of this process (true), or until the
     * sink is found failing with some of them still in the backlog (false): a flush never waits for a disk to
     * come back.
     */
    @Override
    public boolean flush()
    {
        final Barrier barrier = new Barrier();
        put(barrier);
        Uninterruptibly.await(barrier.done::await);
        return barrier.written;
    }

    /** Bytes of a torn last line an earlier run left in the file, cut off when this writer continued it. */
    public long tornBytesCut()
    {
        return tornBytesCut;
    }

    /** Bytes an earlier run had written to the file this writer continues (after the torn line was cut). */
    public long continuedBytes()
    {
        return continuedBytes;
    }

    /** Records written. */
    @Override
    public long written()
    {
        return written.get();
    }

    /** Records handed over and not yet taken by the writer thread; any thread. */
    public int queued()
    {
        return queue.size();
    }

    /** Records taken by the writer thread and waiting to be written (a failing sink makes this grow). */
    public long backlogRecords()
    {
        return backlogRecords.get();
    }

    /** Bytes of {@link #backlogRecords()}; at most the configured buffer. */
    public long backlogBytes()
    {
        return backlogBytes.get();
    }

    /** Records not written, all reasons. */
    @Override
    public long lost()
    {
        return lost.total();
    }

    /** Records not written for {@code reason}. */
    public long lost(final LossReason reason)
    {
        return lost.get(reason);
    }

    /** Whether the last write attempt failed (records wait in the backlog until one succeeds). */
    public boolean failing()
    {
        return failing;
    }

    /** Write attempts that failed (each is followed by a retry {@code retryNanos} later). */
    public long sinkFailures()
    {
        return sinkFailures.get();
    }

    /** Files closed and renamed by rotation. */
    public long rotations()
    {
        return rotations.get();
    }

    /** The first write error in one line, or null. */
    @Override
    public String failure()
    {
        return failure.get();
    }

    /**
     * Writes everything handed over (retrying a failing sink for the close grace period, then counting what is
     * left as lost), closes a file (not standard output) and stops the thread.
     */
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

    /**
     * Queues {@code entry}, waiting while the queue is full by parking with back-off rather than on the queue's
     * condition (whose wait allocates a node each time). A record is never dropped for an interrupt: the interrupt
     * is kept for the caller.
     */
    private void put(final Object entry)
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

    private void run()
    {
        final List<Object> batch = new ArrayList<>(DRAIN_BATCH);
        long stopDeadline = 0;
        boolean stopping = false;
        while (true)
        {
            final long waitNanos = stopping ? Math.min(retryNanos, Math.max(0, stopDeadline - System.nanoTime())) :
                backlog.isEmpty() ? idlePollNanos() : failing ? Math.max(0, nextAttemptNanos - System.nanoTime()) : 0;
            try
            {
                final Object first = waitNanos > 0 ? queue.poll(waitNanos, TimeUnit.NANOSECONDS) : queue.poll();
                if (first != null)
                {
                    batch.add(first);
                    queue.drainTo(batch, DRAIN_BATCH - 1);
                }
            }
            catch (final InterruptedException e)
            {
                continue; // only close() stops this thread
            }
            for (final Object entry : batch)
            {
                if (entry == STOP)
                {
                    stopping = true;
                    stopDeadline = System.nanoTime() + closeGraceNanos;
                }
                else if (entry instanceof RecordLayout layout)
                {
                    framing = layout;
                    addHeader();
                }
                else if (entry instanceof Barrier barrier)
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
            if (!failing || System.nanoTime() - nextAttemptNanos >= 0)
            {
                writeBacklog();
            }
            releaseBarriers();
            if (!failing)
            {
                maybeRotateByAge();
            }
            if (stopping && queue.isEmpty() && (backlog.isEmpty() || System.nanoTime() - stopDeadline >= 0))
            {
                finish();
                return;
            }
        }
    }

    private long idlePollNanos()
    {
        return rotateNanos > 0 ? Math.min(rotateNanos, IDLE_POLL_NANOS) : IDLE_POLL_NANOS;
    }

    private void accept(final ByteBuffer line)
    {
        if (readerLeft)
        {
            recycle(line); // nobody reads it: not lost
            return;
        }
        if (backlogBytes.get() + line.remaining() > bufferBytes)
        {
            lost.add(LossReason.BUFFER_FULL, 1); // the newest goes: the oldest waited longest
            recycle(line);
            return;
        }
        backlog.addLast(line);
        backlogEntered++;
        backlogRecords.incrementAndGet();
        backlogBytes.addAndGet(line.remaining());
    }

    /** Writes as much of the backlog as the sink takes; a failure leaves the rest for a retry. */
    private void writeBacklog()
    {
        while (!backlog.isEmpty())
        {
            if (out == null && !reopen())
            {
                return;
            }
            // With a size limit, stop at the record that reaches it, so the file is rotated right after it.
            long budget = rotateBytes > 0 ? rotateBytes - bytesInFile : Long.MAX_VALUE;
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
                wrote = out.write(gather, 0, count);
            }
            catch (final IOException e)
            {
                if (file == null && BROKEN_PIPE.equals(e.getMessage()))
                {
                    leftByReader();
                }
                else
                {
                    fail(describe(e));
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
            failing = false;
            bytesInFile += wrote;
            backlogBytes.addAndGet(-wrote);
            while (!backlog.isEmpty() && !backlog.peekFirst().hasRemaining())
            {
                final ByteBuffer done = backlog.pollFirst();
                if (!done.isReadOnly())
                {
                    backlogLeft++;
                    backlogRecords.decrementAndGet();
                    written.incrementAndGet();
                }
                recycle(done);
            }
            if (rotateBytes > 0 && bytesInFile >= rotateBytes && atRecordBoundary())
            {
                rotate();
            }
        }
    }

    /** The stream's reader went away: what waits and what follows is dropped, and counted nowhere. */
    private void leftByReader()
    {
        readerLeft = true;
        failing = false;
        for (final ByteBuffer line : backlog)
        {
            recycle(line);
        }
        backlog.clear();
        backlogLeft = backlogEntered;
        backlogRecords.set(0);
        backlogBytes.set(0);
    }

    /** Queues the layout's header at the front of the backlog when the output is empty (a new or rotated file). */
    private void addHeader()
    {
        if (framing == null || out == null || readerLeft)
        {
            return;
        }
        try
        {
            if (out instanceof FileChannel channel && file != null && channel.size() > 0)
            {
                return; // a continued file has its header
            }
        }
        catch (final IOException e)
        {
            return;
        }
        final ByteBuffer header = ByteBuffer.wrap(framing.header()).asReadOnlyBuffer();
        if (header.hasRemaining())
        {
            backlog.addFirst(header);
            backlogBytes.addAndGet(header.remaining());
            headerBytes = header.remaining();
        }
    }

    /** Writes the layout's footer straight out before the output is closed (best effort: none on a failing one). */
    private void writeFooter()
    {
        if (framing == null || out == null || readerLeft || failing)
        {
            return;
        }
        final ByteBuffer footer = ByteBuffer.wrap(framing.footer());
        try
        {
            while (footer.hasRemaining())
            {
                final int wrote = out.write(footer);
                if (wrote <= 0)
                {
                    break;
                }
                bytesInFile += wrote;
            }
        }
        catch (final IOException e)
        {
            if (file == null && BROKEN_PIPE.equals(e.getMessage()))
            {
                leftByReader(); // every record was read: only the footer was not
            }
            else
            {
                failure.compareAndSet(null, describe(e));
            }
        }
    }

    private boolean atRecordBoundary()
    {
        return backlog.isEmpty() || backlog.peekFirst().position() == 0;
    }

    private void fail(final String why)
    {
        failing = true;
        sinkFailures.incrementAndGet();
        failure.compareAndSet(null, why);
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
            final Barrier barrier = barriers.get(i);
            final boolean allWritten = backlogLeft >= barrier.backlogEntriesBefore;
            if (allWritten || failing)
            {
                barrier.written = allWritten;
                barrier.done.countDown();
                barriers.remove(i);
            }
        }
    }

    private void finish()
    {
        cutPartialRecord();
        lost.add(LossReason.SHUTDOWN, backlog.stream().filter(line -> !line.isReadOnly()).count());
        final boolean records = bytesInFile > headerBytes;
        if (backlog.isEmpty())
        {
            writeFooter();
        }
        failing = failing || !backlog.isEmpty();
        backlog.clear();
        backlogRecords.set(0);
        backlogBytes.set(0);
        releaseBarriers();
        if (file != null)
        {
            if (rotateAtExit && records && out != null)
            {
                closeOut();
                moveAside();
            }
            closeOut();
        }
    }

    /**
     * A record the sink took only part of before it failed for good is counted lost, so its fragment must not stay
     * in the file: the file is cut back to the last record boundary (a stream cannot be).
     */
    private void cutPartialRecord()
    {
        if (file == null || backlog.isEmpty() || backlog.peekFirst().position() == 0 ||
            !(out instanceof FileChannel channel))
        {
            return;
        }
        final int partial = backlog.peekFirst().position();
        try
        {
            channel.truncate(channel.size() - partial);
            bytesInFile -= partial;
        }
        catch (final IOException e)
        {
            failure.compareAndSet(null, "cannot cut a partly written record from " + file + ": " + describe(e));
        }
    }

    private void maybeRotateByAge()
    {
        if (file != null && rotateNanos > 0 && bytesInFile > headerBytes &&
            System.nanoTime() - openedNanos >= rotateNanos && atRecordBoundary())
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
        writeFooter();
        closeOut();
        moveAside();
        reopen();
    }

    /** Renames the (closed) file to its rotated name. */
    private void moveAside()
    {
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
    }

    /** Opens the channel again (after a rotation or a failed one); false, counted as a failure, when it cannot. */
    private boolean reopen()
    {
        bytesInFile = 0;
        headerBytes = 0;
        openedNanos = System.nanoTime();
        try
        {
            out = opener.open();
            addHeader();
            return true;
        }
        catch (final IOException e)
        {
            out = null;
            fail("cannot reopen " + file + ": " + describe(e));
            return false;
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
