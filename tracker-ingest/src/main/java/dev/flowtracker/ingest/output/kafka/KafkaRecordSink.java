package dev.flowtracker.ingest.output.kafka;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.output.AsciiRecord;
import dev.flowtracker.ingest.output.FlowRecordSink;
import dev.flowtracker.ingest.output.LossCounts;
import org.HdrHistogram.Recorder;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Flow records to a Kafka topic, one message per record whose value is exactly the JSON line a file gets (without
 * the newline), keyed by the record's {@code community_id} (or the tap name, or nothing), with a {@code tap} header.
 *
 * <p><b>Never stalls tracking on the broker.</b> The client's {@code send()} blocks while it has no metadata (a broker
 * that is down), so it runs only on this sink's sender thread. A worker copies its record into a buffer bounded in
 * bytes ({@link KafkaSinkSettings#bufferBytes()}), which holds every record until the broker acknowledges it. When
 * the buffer is full, a worker waits only while the broker is taking records (as it would for a slow disk; a replay
 * then stays lossless); while the broker is unreachable or stalled the newest records are dropped and counted
 * ({@link LossReason#BUFFER_FULL}). Records the client gave up on (its delivery timeout) are sent again, so a broker
 * that comes back gets everything the buffer held. A record the broker refuses for good (too large, not authorised)
 * is counted ({@link LossReason#REJECTED}); at {@link #close} what is still unacknowledged after the flush timeout
 * is counted ({@link LossReason#SHUTDOWN}).
 *
 * <p>{@link #flush} (before a checkpoint commits) returns once every record handed over before it is acknowledged,
 * so a restart from that checkpoint loses nothing (at least once); it answers false at once while the broker is
 * unreachable, and the checkpoint is skipped.
 *
 * <p>Threads: {@link #write} from any worker; {@link #flush} and {@link #close} from one controlling thread; the
 * sender thread ({@code tracker-kafka}) owns the producer's send calls; the client's I/O thread runs the delivery
 * callbacks; counters from any thread.
 */
public final class KafkaRecordSink implements FlowRecordSink
{
    /** Why records were not delivered. */
    public enum LossReason
    {
        /** The buffer was full while the broker was unreachable or stalled. */
        BUFFER_FULL("buffer_full"),
        /** The broker refused the record for good (too large, not authorised, no such topic...). */
        REJECTED("rejected"),
        /** Still unacknowledged when the flush timeout ran out at exit. */
        SHUTDOWN("shutdown");

        private final String label;

        LossReason(final String label)
        {
            this.label = label;
        }

        /** The value of the metrics' {@code reason} label. */
        public String label()
        {
            return label;
        }
    }

    /** Between sends of one record while the broker is unreachable: one probe, not the whole buffer, per interval. */
    private static final long RETRY_NANOS = TimeUnit.MILLISECONDS.toNanos(500);
    /** Outstanding records and no acknowledgement for this long: the broker is stalled; full buffer drops. */
    private static final long STALL_NANOS = TimeUnit.SECONDS.toNanos(2);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(1);
    private static final byte[] COMMUNITY_ID_KEY = "\"community_id\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final Object STOP = new Object();
    /** Longest delivery latency recorded as itself; longer ones count as this. */
    public static final long MAX_LATENCY_NANOS = TimeUnit.MINUTES.toNanos(10);

    private final KafkaSinkSettings settings;
    private final Producer<byte[], byte[]> producer;
    private final PrintStream err;
    private final Header[] headers;
    private final byte[] tapKey;
    /** byte[] records, flush {@link Barrier}s and {@link #STOP}, in order; bounded by the buffer's bytes. */
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    /** Records the client gave up on or could not take: sent again first. Sender thread and I/O thread. */
    private final ConcurrentLinkedQueue<byte[]> retry = new ConcurrentLinkedQueue<>();
    private final AtomicLong bufferedBytes = new AtomicLong();
    private final AtomicInteger pendingFlushes = new AtomicInteger();
    private final AtomicLong bufferedRecords = new AtomicLong();
    private final AtomicLong written = new AtomicLong();
    private final AtomicLong writtenBytes = new AtomicLong();
    private final AtomicLong sendFailures = new AtomicLong();
    private final LossCounts<LossReason> lost = new LossCounts<>(LossReason.class);
    /** The first refusal by the broker, in one line. */
    private final AtomicReference<String> refusal = new AtomicReference<>();
    /** Set at close when records were lost: what and why, in one line. */
    private volatile String failure;
    /** Hand-over to acknowledgement, nanoseconds: recorded by the client's I/O thread, read by metrics. */
    private final Recorder latency = new Recorder(1, MAX_LATENCY_NANOS, 3);
    private final Thread sender;
    /** Set by the I/O thread on an acknowledgement, by the sender on a failed send. */
    private volatile boolean reachable;
    private volatile long lastAckNanos = System.nanoTime();
    private volatile boolean closing;
    /** Set by close: the sender finishes whatever it is doing (a probe of an unreachable broker included). */
    private volatile boolean stopRequested;
    private volatile long unreachableSinceNanos;
    private boolean warnedUnreachable;
    private boolean closed;

    /**
     * Starts the sender thread and the client ({@link KafkaSinkSettings#producerProperties()} as they are, after
     * the defaults they override).
     *
     * @param err where the one warning for an unreachable broker, and the recovery, are written.
     * @throws KafkaException when the client refuses the properties (a one-line message).
     */
    public KafkaRecordSink(final KafkaSinkSettings settings, final PrintStream err)
    {
        this(settings, new KafkaProducer<>(settings.producerProperties(), new ByteArraySerializer(),
            new ByteArraySerializer()), err);
    }

    /** With the client given (tests). */
    KafkaRecordSink(final KafkaSinkSettings settings, final Producer<byte[], byte[]> producer, final PrintStream err)
    {
        this.settings = settings;
        this.producer = producer;
        this.err = err;
        final byte[] tap = settings.tapName() == null ? null : settings.tapName().getBytes(StandardCharsets.US_ASCII);
        this.headers = tap == null ? new Header[0] : new Header[] {new RecordHeader("tap", tap)};
        this.tapKey = tap;
        this.sender = TrackerThreads.start("kafka", Kind.DAEMON, this::run);
    }

    @Override
    public String name()
    {
        return "kafka";
    }

    /** Consumers of the topic parse JSON: --format does not apply. */
    @Override
    public boolean jsonOnly()
    {
        return true;
    }

    @Override
    public void write(final AsciiRecord record)
    {
        final int length = record.length();
        while (!reserve(length))
        {
            if (closing || !takingRecords())
            {
                lost.add(LossReason.BUFFER_FULL, 1);
                return;
            }
            LockSupport.parkNanos(IDLE_PARK_NANOS);
        }
        queue.add(Arrays.copyOf(record.bytes(), length));
    }

    /** Whether the broker is acknowledging records: reachable, and not silent with records outstanding. */
    private boolean takingRecords()
    {
        return reachable && (bufferedRecords.get() == 0 || System.nanoTime() - lastAckNanos < STALL_NANOS);
    }

    private boolean reserve(final int length)
    {
        while (true)
        {
            final long now = bufferedBytes.get();
            if (now + length > settings.bufferBytes() && now > 0)
            {
                return false;
            }
            if (bufferedBytes.compareAndSet(now, now + length))
            {
                bufferedRecords.incrementAndGet();
                return true;
            }
        }
    }

    private void release(final byte[] value)
    {
        bufferedBytes.addAndGet(-value.length);
        bufferedRecords.decrementAndGet();
    }

    @Override
    public boolean flush()
    {
        final Barrier barrier = new Barrier();
        pendingFlushes.incrementAndGet();
        queue.add(barrier);
        Uninterruptibly.await(barrier.done::await);
        return barrier.delivered;
    }

    @Override
    public long written()
    {
        return written.get();
    }

    /** Bytes of the record values acknowledged (before compression). */
    public long writtenBytes()
    {
        return writtenBytes.get();
    }

    @Override
    public long lost()
    {
        return lost.total();
    }

    /** Records not delivered for {@code reason}. */
    public long lost(final LossReason reason)
    {
        return lost.get(reason);
    }

    /** Records held until acknowledged (waiting, in the client, or to be sent again). */
    public long bufferedRecords()
    {
        return bufferedRecords.get();
    }

    /** Bytes of {@link #bufferedRecords()}; at most the configured buffer. */
    public long bufferedBytes()
    {
        return bufferedBytes.get();
    }

    /** The buffer's bound, bytes. */
    public long bufferLimitBytes()
    {
        return settings.bufferBytes();
    }

    /** Sends or deliveries that failed (each record is sent again unless the broker refused it for good). */
    public long sendFailures()
    {
        return sendFailures.get();
    }

    /** Whether the last send or delivery reached the broker. */
    public boolean reachable()
    {
        return reachable;
    }

    /** Time from hand-over to the sender thread to acknowledgement, nanoseconds. */
    public Recorder latency()
    {
        return latency;
    }

    /** The client, for binding its own metrics. */
    public Producer<byte[], byte[]> producer()
    {
        return producer;
    }

    /**
     * Null while the sink runs (a refusal or an outage does not stop it: records are counted, the broker retried);
     * after {@link #close}, what was not delivered and why, in one line, or null when everything was.
     */
    @Override
    public String failure()
    {
        return failure;
    }

    /**
     * Sends what was handed over and waits up to the flush timeout for the acknowledgements; what is left is counted
     * ({@link LossReason#SHUTDOWN}) and reported through {@link #failure}. Stops the sender thread and the client.
     */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        stopRequested = true;
        queue.add(STOP);
        Uninterruptibly.await(sender::join);
    }

    private void run()
    {
        long nextProbeNanos = 0;
        while (true)
        {
            if (stopRequested)
            {
                finish();
                return;
            }
            final boolean waitToProbe = !reachable && System.nanoTime() < nextProbeNanos;
            if (pendingFlushes.get() > 0 && (waitToProbe || !retry.isEmpty()))
            {
                // A checkpoint does not wait for an outage to end: its flush answers now, wherever it waits.
                queue.removeIf(entry -> entry instanceof Barrier barrier && answer(barrier, false));
            }
            if (waitToProbe)
            {
                LockSupport.parkNanos(IDLE_PARK_NANOS * 10);
                continue;
            }
            final byte[] again = retry.poll();
            final Object entry = again != null ? again : poll();
            if (entry instanceof Barrier barrier)
            {
                answer(barrier, reachable && drainedBefore());
            }
            else if (entry instanceof byte[] value && !send(value))
            {
                nextProbeNanos = System.nanoTime() + RETRY_NANOS;
            }
        }
    }

    private boolean answer(final Barrier barrier, final boolean delivered)
    {
        barrier.delivered = delivered;
        pendingFlushes.decrementAndGet();
        barrier.done.countDown();
        return true;
    }

    private Object poll()
    {
        try
        {
            return queue.poll(IDLE_PARK_NANOS, TimeUnit.NANOSECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Waits for the client to finish what it holds; true when nothing is left to send again. */
    private boolean drainedBefore()
    {
        producer.flush();
        return retry.isEmpty();
    }

    /** Hands one record to the client; false when it could not take it (kept to be sent again). */
    private boolean send(final byte[] value)
    {
        final long handedNanos = System.nanoTime();
        try
        {
            producer.send(new ProducerRecord<>(settings.topic(), null, key(value), value, Arrays.asList(headers)),
                (metadata, exception) -> delivered(value, handedNanos, metadata, exception));
            return true;
        }
        catch (final KafkaException e)
        {
            if (e instanceof RetriableException || e instanceof org.apache.kafka.common.errors.TimeoutException)
            {
                sendFailures.incrementAndGet();
                retry.add(value);
                unreachable(e);
                return false;
            }
            refused(value, e);
            return true;
        }
    }

    private void delivered(
        final byte[] value, final long handedNanos, final RecordMetadata metadata, final Exception exception)
    {
        if (exception == null)
        {
            lastAckNanos = System.nanoTime();
            written.incrementAndGet();
            writtenBytes.addAndGet(value.length);
            latency.recordValue(Math.clamp(lastAckNanos - handedNanos, 1, MAX_LATENCY_NANOS));
            release(value);
            if (!reachable)
            {
                reachable = true;
                if (warnedUnreachable)
                {
                    err.printf("tracker: kafka: delivering again after %.1f s; %d records waiting%n",
                        (lastAckNanos - unreachableSinceNanos) / 1e9, bufferedRecords.get());
                }
            }
            return;
        }
        if (closing)
        {
            lost.add(LossReason.SHUTDOWN, 1);
            release(value);
            return;
        }
        sendFailures.incrementAndGet();
        if (exception instanceof RetriableException)
        {
            retry.add(value);
            unreachable(exception);
        }
        else
        {
            refused(value, exception);
        }
    }

    private void refused(final byte[] value, final Exception e)
    {
        lost.add(LossReason.REJECTED, 1);
        release(value);
        refusal.compareAndSet(null, oneLine(e));
    }

    private void unreachable(final Exception e)
    {
        if (reachable || unreachableSinceNanos == 0)
        {
            unreachableSinceNanos = System.nanoTime();
        }
        reachable = false;
        if (!warnedUnreachable)
        {
            warnedUnreachable = true;
            err.printf("tracker: kafka: warning: cannot deliver to %s (%s); keeping up to %,d bytes of records and " +
                "retrying%n", settings.bootstrap(), oneLine(e), settings.bufferBytes());
        }
    }

    /** After STOP: sends what is queued, waits up to the flush timeout, then counts what is left. */
    private void finish()
    {
        final long deadline = System.nanoTime() + settings.flushTimeoutNanos();
        long nextProbeNanos = 0;
        while (bufferedRecords.get() > 0 && System.nanoTime() < deadline)
        {
            if (!reachable && System.nanoTime() < nextProbeNanos)
            {
                LockSupport.parkNanos(IDLE_PARK_NANOS * 10);
                continue;
            }
            byte[] value = retry.poll();
            if (value == null)
            {
                final Object entry = queue.poll();
                if (entry instanceof Barrier barrier)
                {
                    answer(barrier, false);
                    continue;
                }
                value = entry instanceof byte[] bytes ? bytes : null;
            }
            if (value == null)
            {
                LockSupport.parkNanos(IDLE_PARK_NANOS * 10);
                continue;
            }
            if (!send(value))
            {
                nextProbeNanos = System.nanoTime() + RETRY_NANOS;
            }
        }
        closing = true;
        producer.close(Duration.ZERO);
        long left = 0;
        for (Object entry = queue.poll(); entry != null; entry = queue.poll())
        {
            if (entry instanceof byte[] value)
            {
                release(value);
                left++;
            }
            else if (entry instanceof Barrier barrier)
            {
                answer(barrier, false);
            }
        }
        for (byte[] value = retry.poll(); value != null; value = retry.poll())
        {
            release(value);
            left++;
        }
        lost.add(LossReason.SHUTDOWN, left);
        if (lost() > 0)
        {
            failure = String.format("%,d records not delivered to %s: %,d dropped while the broker was unreachable " +
                "and the buffer full, %,d refused by the broker%s, %,d unacknowledged %.0f s into the exit",
                lost(), settings.bootstrap(), lost(LossReason.BUFFER_FULL), lost(LossReason.REJECTED),
                refusal.get() == null ? "" : " (first: " + refusal.get() + ")", lost(LossReason.SHUTDOWN),
                settings.flushTimeoutNanos() / 1e9);
        }
    }

    /** The message key: the record's community_id, the tap name, or none. */
    private byte[] key(final byte[] value)
    {
        return switch (settings.key())
        {
            case NONE -> null;
            case TAP -> tapKey;
            case COMMUNITY_ID -> communityId(value);
        };
    }

    /** The value of the record's {@code community_id} field (ASCII, no escapes), or null. */
    static byte[] communityId(final byte[] record)
    {
        final int end = record.length - COMMUNITY_ID_KEY.length;
        final byte second = COMMUNITY_ID_KEY[1];
        for (int i = 0; i <= end; i++)
        {
            // One byte before the whole key ("c": rarer than the quote): a range compare at every offset cost more
            // than the send.
            if (record[i + 1] == second &&
                Arrays.equals(record, i, i + COMMUNITY_ID_KEY.length, COMMUNITY_ID_KEY, 0, COMMUNITY_ID_KEY.length))
            {
                final int from = i + COMMUNITY_ID_KEY.length;
                int to = from;
                while (to < record.length && record[to] != '"')
                {
                    to++;
                }
                return Arrays.copyOfRange(record, from, to);
            }
        }
        return null;
    }

    private static String oneLine(final Throwable e)
    {
        final String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replace('\n', ' ');
    }

    /** A flush waiting for everything handed over before it to be acknowledged. */
    private static final class Barrier
    {
        private final CountDownLatch done = new CountDownLatch(1);
        private volatile boolean delivered;
    }
}
