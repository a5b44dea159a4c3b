package dev.flowtracker.ingest.runtime;

import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.http.HttpApi;
import dev.flowtracker.ingest.http.HttpServer;
import dev.flowtracker.ingest.http.WebConfig;
import dev.flowtracker.ingest.metrics.TrackerMetrics;
import dev.flowtracker.ingest.output.FlowRecordSink;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.SourceException;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * One run of the tracker, shared by {@code analyze} and {@code run}: the record sinks (opened by the command, handed
 * over here), the pipeline that feeds them (and its checkpoint store), the sources that feed the pipeline, the
 * metrics and HTTP server that read it, and the stop signals. The parts start in that order, each step named by a
 * method; {@link #close} stops whatever started, in the one order that loses nothing: sources, pipeline (every open
 * connection written or checkpointed), record sinks (delivered and closed), HTTP, metrics, checkpoint store, signals.
 * A command calls the steps it needs and closes the runtime, whatever happened; a new record sink is one more that
 * the command line opens into {@link FlowRecords} ({@code cli.RecordSinks}), and changes nothing here.
 *
 * <p>Owned by the command's thread. A stop signal reaches it only through the {@code onStop} given to
 * {@link #stopOn} (run on the JDK's signal thread, see {@link StopSignals}); {@link #ready} and the HTTP answers are
 * read from the HTTP threads.
 */
public final class TrackerRuntime implements AutoCloseable
{
    /** How often a live pipeline's clock moves the workers' time on when no packet arrives. */
    private static final long CLOCK_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How long the shutdown hook (where the JVM refuses signal handlers) waits for the stop to finish. */
    private static final long SHUTDOWN_GRACE_SECONDS = 30;

    private final String command;
    private final FlowRecords records;
    private final PrintStream err;
    private final AtomicBoolean ready = new AtomicBoolean();
    /** Counted down when the runtime has stopped: the shutdown hook waits for it. */
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final List<PacketSource> started = new ArrayList<>();
    private List<PacketSource> sources = List.of();
    private CheckpointStore store;
    private Pipeline pipeline;
    private TrackerMetrics metrics;
    private HttpServer http;
    private StopSignals signals;
    private Thread shutdownHook;
    private boolean recordsClosed;
    private boolean closed;

    /**
     * A runtime writing to {@code records}, which it closes from now on.
     *
     * @param command names the command in the lines it writes to {@code err} ({@code tracker <command>: ...}).
     */
    public TrackerRuntime(final String command, final FlowRecords records, final PrintStream err)
    {
        this.command = command;
        this.records = records;
        this.err = err;
    }

    /** Every record sink, fed by the workers. */
    public FlowRecords records()
    {
        return records;
    }

    /** The first record sink of {@code type}, or null when none was opened. */
    public <T extends FlowRecordSink> T sink(final Class<T> type)
    {
        for (final FlowRecordSink sink : records.sinks())
        {
            if (type.isInstance(sink))
            {
                return type.cast(sink);
            }
        }
        return null;
    }

    /** Takes the checkpoint store (may be null), closed after everything that writes to it. */
    public void checkpointStore(final CheckpointStore store)
    {
        this.store = store;
    }

    /**
     * Builds the pipeline over the record sinks ({@code build} makes it with their listeners). What {@code build}
     * throws (a restore that failed) goes to the caller; {@link #close} still closes the sinks and the store.
     */
    public Pipeline pipeline(final Function<FlowRecords, Pipeline> build)
    {
        pipeline = build.apply(records);
        return pipeline;
    }

    /** The pipeline, once built. */
    public Pipeline pipeline()
    {
        return pipeline;
    }

    /**
     * Takes {@code metrics} (closed at {@link #close}) and, unless {@code listen} is null, serves them and the flow
     * API over HTTP there; the server, or null without one.
     *
     * @throws IOException when the address cannot be bound; {@link #close} still closes what started.
     */
    public HttpServer serve(final TrackerMetrics metrics, final InetSocketAddress listen, final WebConfig webConfig)
        throws IOException
    {
        this.metrics = metrics;
        if (listen != null)
        {
            http = HttpServer.start(listen, new HttpApi(metrics, () -> pipeline, ready::get), webConfig);
        }
        return http;
    }

    /**
     * Installs the stop signals: the first runs {@code onStop}, which should make the input end soon. With
     * {@code hookFallback}, where the JVM refuses the handlers a shutdown hook runs {@code onStop} instead and waits
     * (a while) for {@link #close}, so that the stop still writes what it owes.
     */
    public StopSignals stopOn(final Runnable onStop, final boolean hookFallback)
    {
        signals = StopSignals.install(command, onStop, err);
        if (hookFallback && !signals.installed())
        {
            // A hook's daemon flag does not matter (the JVM waits for every hook); USER is what the main thread gave.
            shutdownHook = TrackerThreads.newThread("shutdown", Kind.USER, () ->
            {
                onStop.run();
                try
                {
                    stopped.await(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
                }
                catch (final InterruptedException e)
                {
                    Thread.currentThread().interrupt();
                }
            });
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        return signals;
    }

    /** Takes the sources (not started yet), closed first at {@link #close} and by {@link #closeSources}. */
    public void sources(final List<PacketSource> sources)
    {
        this.sources = sources;
    }

    /**
     * Starts the sources in order, each feeding the pipeline from its own producer ports, then (when one is live) the
     * pipeline's clock; the first failure (naming the file, interface or address), or null when all started. The
     * ones that started are {@link #started}.
     */
    public String startSources()
    {
        int firstProducer = 0;
        for (final PacketSource source : sources)
        {
            final int base = firstProducer;
            try
            {
                source.start(thread -> pipeline.sink(base + thread));
                started.add(source);
                if (source.live())
                {
                    err.println("tracker " + command + ": receiving " + source.description()); // after start: the port
                }
            }
            catch (final SourceException e)
            {
                return e.getMessage();
            }
            firstProducer += source.deliveryThreads();
        }
        ready.set(true);
        if (sources.stream().anyMatch(PacketSource::live))
        {
            pipeline.startClock(CLOCK_PERIOD_NANOS);
        }
        return null;
    }

    /** Waits until every started source has ended; the first one's failure, or null. */
    public String awaitSources()
    {
        String failure = null;
        for (final PacketSource source : started)
        {
            Uninterruptibly.await(source::awaitEnd);
            if (source.failure() != null && failure == null)
            {
                failure = source.failure().getMessage();
            }
        }
        return failure;
    }

    /** The sources that started, in order. */
    public List<PacketSource> started()
    {
        return started;
    }

    /** Stops every source (any thread: a stop signal calls this too). */
    public void closeSources()
    {
        for (final PacketSource source : sources)
        {
            source.close();
        }
    }

    /**
     * Ends the pipeline: every open connection written with {@code reason} (or checkpointed), the workers stopped.
     * From the thread that fed an offline pipeline; once (later calls do nothing).
     */
    public void finish(final EndReason reason)
    {
        if (pipeline != null)
        {
            pipeline.finish(reason);
        }
    }

    /**
     * Gives the stop signals back to the JVM: from now on a signal ends the process the JVM's way. For a command
     * whose {@code onStop} has nothing left to stop once its input is read.
     */
    public void releaseSignals()
    {
        if (signals != null)
        {
            signals.close();
        }
    }

    /** Delivers what the record sinks hold and closes them (a failing sink is retried for a while first). */
    public void closeRecords()
    {
        if (!recordsClosed)
        {
            recordsClosed = true;
            records.close();
        }
    }

    /** Stops whatever started, in the order of the class comment; once. */
    @Override
    public void close()
    {
        if (closed)
        {
            return;
        }
        closed = true;
        closeSources();
        finish(EndReason.SHUTDOWN);
        closeRecords();
        if (http != null)
        {
            http.close();
        }
        if (metrics != null)
        {
            metrics.close();
        }
        closeStore();
        stopped.countDown();
        releaseSignals();
        if (shutdownHook != null)
        {
            try
            {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            }
            catch (final IllegalStateException e)
            {
                // the JVM is already shutting down: the hook has run or is running
            }
        }
    }

    private void closeStore()
    {
        if (store != null)
        {
            try
            {
                store.close();
            }
            catch (final IOException e)
            {
                // the lock goes with the process anyway
            }
        }
    }
}
