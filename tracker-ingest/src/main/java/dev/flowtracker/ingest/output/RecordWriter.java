package dev.flowtracker.ingest.output;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.output.RecordOutput.ChannelOpener;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.TimeUnit;

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
 * <p>This class is the sink's face; the parts are the hand-off ({@link RecordHandoff}), the writer thread
 * ({@link BacklogWriter}), the file and its rotation ({@link RecordOutput}), the repair of a continued file
 * ({@link ContinuedRecordFile}) and what the writer thread publishes ({@link RecordWriterStatus}).
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

    private final RecordHandoff handoff = new RecordHandoff();
    private final RecordWriterStatus status = new RecordWriterStatus();
    private final Path file;
    private final Thread thread;
    /** Set once at creation by {@link #continuing}. */
    private final long tornBytesCut;
    private final long continuedBytes;
    /** Controlling thread only. */
    private boolean closed;

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
        final ContinuedRecordFile continued = ContinuedRecordFile.open(file);
        return new RecordWriter(file, opener, continued.channel(), rotateBytes, rotateNanos, bufferBytes,
            DEFAULT_RETRY_NANOS, DEFAULT_CLOSE_GRACE_NANOS, continued, rotateAtExit);
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
        this(file, opener, first, rotateBytes, rotateNanos, bufferBytes, retryNanos, closeGraceNanos, null, false);
    }

    private RecordWriter(
        final Path file, final ChannelOpener opener, final GatheringByteChannel first, final long rotateBytes,
        final long rotateNanos, final long bufferBytes, final long retryNanos, final long closeGraceNanos,
        final ContinuedRecordFile continued, final boolean rotateAtExit)
    {
        if (bufferBytes <= 0)
        {
            throw new IllegalArgumentException("the record buffer must be positive, was " + bufferBytes);
        }
        this.file = file;
        this.tornBytesCut = continued == null ? 0 : continued.tornBytesCut();
        this.continuedBytes = continued == null ? 0 : continued.size();
        final RecordOutput output = new RecordOutput(file, opener, first, rotateBytes, rotateNanos,
            continuedBytes, continued == null ? 0 : continued.ageNanos(), rotateAtExit, status);
        final BacklogWriter writer = new BacklogWriter(handoff, output, status, bufferBytes, retryNanos,
            closeGraceNanos);
        this.thread = TrackerThreads.start("records", Kind.DAEMON, writer);
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
        handoff.put(layout);
    }

    /** Whether the stream's reader went away (a closed pipe); records since are dropped, not counted as lost. */
    @Override
    public boolean readerLeft()
    {
        return status.readerLeft();
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
        handoff.put(ByteBuffer.wrap(bytes));
    }

    /**
     * Hands one record (without its newline) to the writer thread, copied into a pooled buffer: allocates nothing
     * while the writer keeps up. Waits while the queue is full.
     */
    @Override
    public void write(final AsciiRecord record)
    {
        handoff.putRecord(record);
    }

    /**
     * Fills the buffer pool up front, as many as can ever wait for reuse: after this no record handed over allocates,
     * however far the writer thread falls behind (it fills as records flow otherwise). For allocation tests.
     */
    void fillPool()
    {
        handoff.fillPool();
    }

    /**
     * Waits until every record handed over before this call is written out of this process (true), or until the
     * sink is found failing with some of them still in the backlog (false): a flush never waits for a disk to
     * come back.
     */
    @Override
    public boolean flush()
    {
        final RecordHandoff.Barrier barrier = new RecordHandoff.Barrier();
        handoff.put(barrier);
        return barrier.await();
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
        return status.written();
    }

    /** Records handed over and not yet taken by the writer thread; any thread. */
    public int queued()
    {
        return handoff.queued();
    }

    /** Records taken by the writer thread and waiting to be written (a failing sink makes this grow). */
    public long backlogRecords()
    {
        return status.backlogRecords();
    }

    /** Bytes of {@link #backlogRecords()}; at most the configured buffer. */
    public long backlogBytes()
    {
        return status.backlogBytes();
    }

    /** Records not written, all reasons. */
    @Override
    public long lost()
    {
        return status.lost();
    }

    /** Records not written for {@code reason}. */
    public long lost(final LossReason reason)
    {
        return status.lost(reason);
    }

    /** Whether the last write attempt failed (records wait in the backlog until one succeeds). */
    public boolean failing()
    {
        return status.failing();
    }

    /** Write attempts that failed (each is followed by a retry {@code retryNanos} later). */
    public long sinkFailures()
    {
        return status.sinkFailures();
    }

    /** Files closed and renamed by rotation. */
    public long rotations()
    {
        return status.rotations();
    }

    /** The first write error in one line, or null. */
    @Override
    public String failure()
    {
        return status.failure();
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
        handoff.put(RecordHandoff.STOP);
        Uninterruptibly.await(thread::join);
    }
}
