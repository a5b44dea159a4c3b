package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.http.HttpApi;
import dev.flowtracker.ingest.http.HttpServer;
import dev.flowtracker.ingest.metrics.FlowEndCounters;
import dev.flowtracker.ingest.metrics.TrackerMetrics;
import dev.flowtracker.ingest.output.FlowRecordSink;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.output.RecordLayout;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.output.kafka.KafkaRecordSink;
import dev.flowtracker.ingest.pipeline.Checkpointing;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.pipeline.ReplayResume;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.SourceException;
import dev.flowtracker.ingest.source.file.CaptureFileSource;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code tracker run} once its configuration is checked: wires the sources, the pipeline, the metrics and HTTP, runs
 * until the input ends or a stop signal comes, and reports. Owned by the command's thread; a stop signal reaches it
 * only through {@link #stopRequested} and {@link #stopSignal} (see {@link StopSignals}).
 */
final class RunDaemon
{
    /** How often a live pipeline's clock moves the workers' time on when no packet arrives. */
    private static final long CLOCK_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    /** How long a shutdown signal waits for the records of open connections to be written. */
    private static final long SHUTDOWN_GRACE_SECONDS = 30;

    private final RunOptions options;
    private final boolean quiet;
    private final PrintStream err;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private final AtomicBoolean ready = new AtomicBoolean();
    private final AtomicBoolean inputFinished = new AtomicBoolean();
    private List<PacketSource> sources;
    /** The file or standard output sink, for its metrics and end-of-run report; null with Kafka only. */
    private RecordWriter records;
    /** The Kafka sink, or null. */
    private KafkaRecordSink kafka;
    /** Every sink, fed by the workers. */
    private FlowRecords sinks;
    private FlowLimits limits;
    private Pipeline pipeline;
    private HttpServer http;
    private StopSignals signals;

    RunDaemon(final RunOptions options, final boolean quiet, final PrintStream err)
    {
        this.options = options;
        this.quiet = quiet;
        this.err = err;
    }

    /**
     * Runs the daemon writing to {@code records} and {@code kafka} (either may be null, not both), checkpointing to
     * {@code store} (may be null), in
     * {@code layout} (but Kafka's, JSON); the exit status.
     */
    int run(final RecordWriter records, final KafkaRecordSink kafka, final CheckpointStore store,
        final FlowLimits limits, final RecordLayout layout)
    {
        this.records = records;
        this.kafka = kafka;
        final List<FlowRecordSink> all = new ArrayList<>();
        if (records != null)
        {
            all.add(records);
        }
        if (kafka != null)
        {
            all.add(kafka);
        }
        this.sinks = new FlowRecords(all, options.recordFields(), layout);
        this.limits = limits;
        sources = options.sources();
        final FlowEndCounters[] flowEnds = new FlowEndCounters[options.workers];
        try
        {
            pipeline = newPipeline(store, flowEnds);
        }
        catch (final UncheckedIOException e)
        {
            err.println("tracker run: cannot restore checkpoints: " + Errors.describe(e.getCause()));
            RunCommand.closeQuietly(store);
            sinks.close();
            return ExitCodes.INPUT_ERROR;
        }
        if (store != null && !quiet)
        {
            err.printf(Locale.ROOT, "tracker run: restored %,d connections from %s%n",
                pipeline.checkpoints().restoredFlows(), options.stateDir);
        }
        skipCheckpointedFrames();
        final TrackerMetrics metrics = new TrackerMetrics(new TrackerMetrics.Parts(pipeline, sources, flowEnds, records,
            limits.maxFlows(), inputFinished::get, kafka));
        if (options.httpListen != null)
        {
            try
            {
                http = HttpServer.start(options.httpListen, new HttpApi(metrics, () -> pipeline, ready::get),
                    options.webConfig);
                err.println("tracker run: serving HTTP on " + (options.webConfig.tls() ? "https" : "http") + "://" +
                    hostPort(http.address()));
            }
            catch (final IOException e)
            {
                err.println("tracker run: " + e.getMessage());
                pipeline.finish(EndReason.SHUTDOWN);
                sinks.close();
                RunCommand.closeQuietly(store);
                metrics.close();
                return ExitCodes.INPUT_ERROR;
            }
        }
        return runUntilStopped(store, metrics);
    }

    private Pipeline newPipeline(final CheckpointStore store, final FlowEndCounters[] flowEnds)
    {
        final Checkpointing checkpointing = store == null ? null :
            new Checkpointing(store, options.checkpointIntervalNanos, options.checkpointAtEnd, sinks::flush);
        final boolean live = sources.stream().anyMatch(PacketSource::live);
        int producers = 0;
        for (final PacketSource source : sources)
        {
            producers += source.deliveryThreads();
        }
        final ZeekOptions zeekOptions = ZeekOptions.builder().ignoreChecksums(options.ignoreChecksums).build();
        return new Pipeline(options.workers, options.ringSize, !live, producers, options.lifecycle, zeekOptions, limits,
            checkpointing, sinks.fields(), worker ->
            {
                final FlowEndCounters ends = new FlowEndCounters(options.servicePorts);
                flowEnds[worker] = ends;
                return sinks.listenerFor(worker, ends::count);
            });
    }

    /** A replay of the capture the checkpoints came from: the frames they hold must not be tracked again. */
    private void skipCheckpointedFrames()
    {
        final ReplayResume resume = pipeline.checkpoints().replayResume();
        if (resume == null)
        {
            return;
        }
        for (final PacketSource source : sources)
        {
            if (source instanceof CaptureFileSource replay)
            {
                replay.skip(resume::alreadyTracked);
                if (!quiet)
                {
                    err.printf(Locale.ROOT, "tracker run: the replay skips the frames the checkpoints already " +
                        "hold: up to packet time %s%s%n", Instant.ofEpochSecond(0, resume.latestNanos()),
                        resume.earliestNanos() == resume.latestNanos() ? "" : " (connections of shards whose " +
                            "last checkpoint is older: up to " + (resume.earliestNanos() == Long.MIN_VALUE ?
                            "none, a shard had no checkpoint" : Instant.ofEpochSecond(0, resume.earliestNanos())) +
                            ")");
                }
            }
        }
    }

    /**
     * A stop signal stops the sources; the command's own thread then finishes the pipeline, writes the final
     * checkpoint or records and exits with 128 + the signal. The JVM's shutdown sequence is not involved (see
     * StopSignals); a shutdown hook does the same only where the JVM refuses the signal handlers.
     */
    private int runUntilStopped(final CheckpointStore store, final TrackerMetrics metrics)
    {
        final CountDownLatch flushed = new CountDownLatch(1);
        final Runnable stop = () ->
        {
            stopRequested.set(true);
            stopSignal.countDown();
            for (final PacketSource source : sources)
            {
                source.close();
            }
        };
        signals = StopSignals.install("run", stop, err);
        // A hook's daemon flag does not matter (the JVM waits for every hook); USER is what the main thread gave it.
        final Thread shutdownHook = signals.installed() ? null : TrackerThreads.newThread("shutdown", Kind.USER, () ->
        {
            stop.run();
            try
            {
                flushed.await(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        });
        if (shutdownHook != null)
        {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        try
        {
            return signals.exitStatus(track());
        }
        finally
        {
            for (final PacketSource source : sources)
            {
                source.close();
            }
            if (http != null)
            {
                http.close();
            }
            metrics.close();
            RunCommand.closeQuietly(store);
            flushed.countDown();
            signals.close();
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
    }

    private int track()
    {
        final long start = System.nanoTime();
        final List<PacketSource> started = new ArrayList<>();
        String failure = startSources(started);
        if (failure == null)
        {
            ready.set(true);
            if (sources.stream().anyMatch(PacketSource::live))
            {
                pipeline.startClock(CLOCK_PERIOD_NANOS);
            }
            for (final PacketSource source : started)
            {
                Uninterruptibly.await(source::awaitEnd);
                if (source.failure() != null && failure == null)
                {
                    failure = source.failure().getMessage();
                }
            }
        }
        for (final PacketSource source : started)
        {
            source.close();
        }
        final boolean stopped = stopRequested.get();
        pipeline.finish(stopped ? EndReason.SHUTDOWN : EndReason.END_OF_INPUT);
        inputFinished.set(true);
        final boolean keepServing = http != null && !stopped && !options.exitAtEnd;
        int exit = ExitCodes.OK;
        if (failure != null)
        {
            err.println("tracker run: error: " + failure);
            exit = ExitCodes.INPUT_ERROR;
        }
        if (stopped)
        {
            reportStop();
        }
        if (pipeline.checkpoints().failed() > 0)
        {
            err.println("tracker run: error: " + pipeline.checkpoints().failed() + " checkpoint(s) failed, latest: " +
                pipeline.checkpoints().failure());
            exit = ExitCodes.INPUT_ERROR;
        }
        if (keepServing)
        {
            // The records stay with the writer while the daemon serves: a failing sink keeps being retried.
            sinks.flush();
            summary((System.nanoTime() - start) / 1e9, started);
            err.println("tracker run: input finished; still serving HTTP on " + hostPort(http.address()) +
                " until stopped (SIGTERM or SIGINT)");
            Uninterruptibly.await(stopSignal::await);
        }
        sinks.close(); // every record written and flushed (a failing sink retried for a while); a file closed
        if (!recordsAllWritten())
        {
            exit = ExitCodes.INPUT_ERROR;
        }
        if (!keepServing && !started.isEmpty()) // a source that could not start: its one line says it all
        {
            summary((System.nanoTime() - start) / 1e9, started);
        }
        return exit;
    }

    /** Starts the sources in order into {@code started}; the first failure (naming the file, interface or address). */
    private String startSources(final List<PacketSource> started)
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
                    err.println("tracker run: receiving " + source.description()); // after start: the bound port
                }
            }
            catch (final SourceException e)
            {
                return e.getMessage();
            }
            firstProducer += source.deliveryThreads();
        }
        return null;
    }

    private void reportStop()
    {
        final String by = "a shutdown signal" + switch (signals.signal())
        {
            case 0 -> "";
            case 2 -> " (SIGINT)";
            case 15 -> " (SIGTERM)";
            default -> " (" + signals.signal() + ")";
        };
        if (options.stateDir == null)
        {
            err.println("tracker run: stopped by " + by + "; open connections written with end_reason shutdown");
        }
        else if (pipeline.checkpoints().finalFailures() == 0)
        {
            err.printf(Locale.ROOT, "tracker run: stopped by %s; %,d open connections checkpointed in %s%n", by,
                pipeline.checkpoints().finalFlows(), options.stateDir);
        }
        else
        {
            err.printf(Locale.ROOT, "tracker run: error: stopped by %s; the final checkpoint failed for %d of %d " +
                    "workers (%s); only %,d open connections checkpointed in %s%n", by,
                pipeline.checkpoints().finalFailures(), pipeline.workers(), pipeline.checkpoints().failure(),
                pipeline.checkpoints().finalFlows(), options.stateDir);
        }
    }

    /** Reports records lost or a sink that failed and recovered; whether every record was delivered. */
    private boolean recordsAllWritten()
    {
        boolean all = true;
        if (kafka != null && kafka.lost() > 0)
        {
            err.printf(Locale.ROOT, "tracker run: error delivering flow records to Kafka: %s; %,d delivered%n",
                kafka.failure(), kafka.written());
            all = false;
        }
        if (records == null)
        {
            return all;
        }
        if (records.lost() > 0)
        {
            err.printf(Locale.ROOT, "tracker run: error writing flow records: %s; %,d lost (%,d for a full buffer, " +
                    "%,d still unwritable at exit), %,d written%n", records.failure(), records.lost(),
                records.lost(RecordWriter.LossReason.BUFFER_FULL), records.lost(RecordWriter.LossReason.SHUTDOWN),
                records.written());
            return false;
        }
        if (records.failure() != null)
        {
            err.printf(Locale.ROOT, "tracker run: warning: writing flow records failed %,d times (first: %s) and " +
                "recovered; no record lost%n", records.sinkFailures(), records.failure());
        }
        return all;
    }

    private void summary(final double seconds, final List<PacketSource> started)
    {
        if (quiet)
        {
            return;
        }
        err.printf(Locale.ROOT, "tracker run: %,d packets (%,d TCP), %,d connections, %d workers %s, ring %d, " +
                "ring_full drops %d, in %.3f s (%,.0f packets/s); %,d records written%n",
            pipeline.stats().frames(), pipeline.stats().tcpSegments(), pipeline.totals().connectionsCreated(),
            pipeline.workers(), Arrays.toString(pipeline.totals().segmentsPerWorker()), pipeline.ringSize(),
            pipeline.ringFullDrops(), seconds, seconds > 0 ? pipeline.stats().frames() / seconds : 0.0,
            sinks.written());
        err.printf(Locale.ROOT, "tracker run: flow table %,d flows; removed idle %s, emergency %s, capacity %s; " +
                "emergency mode entered %d times%n",
            limits.maxFlows(), removals(FlowRemoval.IDLE_TIMEOUT), removals(FlowRemoval.EMERGENCY_TIMEOUT),
            removals(FlowRemoval.CAPACITY), pipeline.totals().emergencyEntries());
        if (options.stateDir != null)
        {
            err.printf(Locale.ROOT, "tracker run: checkpoints written %d, skipped %d, failed %d%n",
                pipeline.checkpoints().written(), pipeline.checkpoints().skipped(), pipeline.checkpoints().failed());
        }
        for (final PacketSource source : started)
        {
            err.printf(Locale.ROOT, "tracker run: source %s %s: %,d frames, %,d bytes, %,d dropped before " +
                    "delivery%s%n", source.kind(), source.description(), source.frames(), source.bytes(),
                source.drops(),
                source instanceof CaptureFileSource replay && replay.skipped() > 0 ? String.format(Locale.ROOT,
                    ", %,d skipped (already in the checkpoints restored)", replay.skipped()) : "");
        }
    }

    /** "N (opening a, established b, closed c)" for one removal reason. */
    private String removals(final FlowRemoval removal)
    {
        final StringBuilder text = new StringBuilder().append(pipeline.totals().flowsRemoved(removal)).append(" (");
        for (final FlowPhase phase : FlowPhase.values())
        {
            text.append(phase == FlowPhase.OPENING ? "" : ", ").append(phase.label()).append(' ')
                .append(pipeline.totals().flowsRemoved(removal, phase));
        }
        return text.append(')').toString();
    }

    private static String hostPort(final InetSocketAddress address)
    {
        final String host = address.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
