package dev.flowtracker.ingest.aggregate;

import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One instance of the aggregation: the Kafka Streams application, its metrics endpoint, start and an orderly stop.
 * More instances with the same {@code application.id} share the input partitions (Kafka Streams' consumer group
 * assigns them tasks, and moves a task's state with it through its changelog topics).
 *
 * <p>Threads: {@link #start}, {@link #await} and {@link #close} on the owning (command's) thread; {@link #stop} from
 * any thread (a signal handler); the topology runs on Kafka Streams' stream threads.
 */
public final class AggregateApp implements AutoCloseable
{
    /** How long {@link #close} waits for the stream threads to commit and leave the group. */
    public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

    private final AggregateCounters counters;
    private final KafkaStreams streams;
    private final AggregateMetrics metrics;
    private final PrintStream err;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicBoolean failed = new AtomicBoolean();

    /**
     * Builds the application; nothing connects before {@link #start}.
     *
     * @param config the Kafka Streams configuration (application.id, bootstrap.servers and the rest).
     * @throws org.apache.kafka.common.config.ConfigException when Kafka Streams refuses the configuration.
     */
    public AggregateApp(final AggregateTopology.Settings settings, final Properties config, final PrintStream err)
    {
        this.err = err;
        this.counters = new AggregateCounters(err);
        this.streams = new KafkaStreams(AggregateTopology.build(settings, counters), config);
        this.metrics = new AggregateMetrics(streams, counters);
        streams.setUncaughtExceptionHandler(e ->
        {
            final Throwable cause = e.getCause() != null ? e.getCause() : e;
            err.println("tracker aggregate: error: stream thread failed: " + String.valueOf(cause.getMessage())
                .replace('\n', ' '));
            failed.set(true);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.setStateListener((now, before) ->
        {
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.PENDING_SHUTDOWN)
            {
                stopped.countDown();
            }
        });
    }

    /**
     * Serves the metrics on {@code metricsListen} (when not null) and starts the stream threads.
     *
     * @throws IOException when the metrics address cannot be bound.
     */
    public void start(final InetSocketAddress metricsListen) throws IOException
    {
        if (metricsListen != null)
        {
            metrics.listen(metricsListen);
        }
        streams.start();
    }

    /** Makes {@link #await} return: the first step of an orderly stop. Any thread. */
    public void stop()
    {
        stopped.countDown();
    }

    /** Waits until {@link #stop} or a fatal error of the application; false if {@code timeout} passed first. */
    public boolean await(final Duration timeout) throws InterruptedException
    {
        return stopped.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Whether a stream thread failed (the application then stops; the exit status is 1). */
    public boolean failed()
    {
        return failed.get();
    }

    /** The application's state (RUNNING once it has its partitions). */
    public KafkaStreams.State state()
    {
        return streams.state();
    }

    /** The application's own counts. */
    public AggregateCounters counters()
    {
        return counters;
    }

    /** The metrics endpoint's address, or null without one. */
    public InetSocketAddress metricsAddress()
    {
        return metrics.address();
    }

    /** Commits what the stream threads have done, leaves the group and closes the stores and the metrics. */
    @Override
    public void close()
    {
        // Leaving the group hands this instance's tasks to the others at once, not after the session timeout.
        if (!streams.close(CloseOptions.timeout(CLOSE_TIMEOUT).withGroupMembershipOperation(
            CloseOptions.GroupMembershipOperation.LEAVE_GROUP)))
        {
            err.println("tracker aggregate: warning: the stream threads did not stop within " +
                CLOSE_TIMEOUT.toSeconds() + " s");
        }
        metrics.close();
    }
}
