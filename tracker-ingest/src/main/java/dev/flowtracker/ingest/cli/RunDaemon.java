package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.http.HttpServer;
import dev.flowtracker.ingest.metrics.FlowEndCounters;
import dev.flowtracker.ingest.metrics.TrackerMetrics;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.output.kafka.KafkaRecordSink;
import dev.flowtracker.ingest.pipeline.Checkpointing;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.pipeline.ReplayResume;
import dev.flowtracker.ingest.runtime.StopSignals;
import dev.flowtracker.ingest.runtime.TrackerRuntime;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.file.CaptureFileSource;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * {@code tracker run} once its configuration is checked: wires the sources, the pipeline, the metrics and HTTP into
 * its {@link TrackerRuntime}, runs until the input ends or a stop signal comes, and reports. Owned by the command's
 * thread; a stop signal reaches it only through {@link #stopRequested} and {@link #stopSignal} (see
 * {@link StopSignals}).
 */
final class RunDaemon
{
    private final RunOptions options;
    private final boolean quiet;
    private final PrintStream err;
    private final AtomicBoolean stopRequested = new AtomicBoolean();
    private final CountDownLatch stopSignal = new CountDownLatch(1);
    private final AtomicBoolean inputFinished = new AtomicBoolean();
    private TrackerRuntime runtime;
    private List<PacketSource> sources;
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
     * Runs the daemon on {@code runtime}'s record sinks (but Kafka's, in the options' layout), checkpointing to
     * {@code store} (may be null; the runtime has it already); the exit status. The caller closes the runtime.
     */
    int run(final TrackerRuntime runtime, final CheckpointStore store, final FlowLimits limits)
    {
        this.runtime = runtime;
        this.sinks = runtime.records();
        this.limits = limits;
        sources = options.sources();
        runtime.sources(sources);
        final FlowEndCounters[] flowEnds = new FlowEndCounters[options.workers];
        try
        {
            pipeline = runtime.pipeline(records -> newPipeline(store, flowEnds, records));
        }
        catch (final UncheckedIOException e)
        {
            err.println("tracker run: cannot restore checkpoints: " + Errors.describe(e.getCause()));
            return ExitCodes.INPUT_ERROR;
        }
        if (store != null && !quiet)
        {
            err.printf(Locale.ROOT, "tracker run: restored %,d connections from %s%n",
                pipeline.checkpoints().restoredFlows(), options.stateDir);
        }
        skipCheckpointedFrames();
        final TrackerMetrics metrics = new TrackerMetrics(new TrackerMetrics.Parts(pipeline, sources, flowEnds,
            runtime.sink(RecordWriter.class), limits.maxFlows(), inputFinished::get,
            runtime.sink(KafkaRecordSink.class)));
        try
        {
            http = runtime.serve(metrics, options.httpListen, options.webConfig);
        }
        catch (final IOException e)
        {
            err.println("tracker run: " + e.getMessage());
            return ExitCodes.INPUT_ERROR;
        }
        if (http != null)
        {
            err.println("tracker run: serving HTTP on " + (options.webConfig.tls() ? "https" : "http") + "://" +
                hostPort(http.address()));
        }
        // A stop signal stops the sources; this thread then finishes the pipeline, writes the final checkpoint or
        // records and exits with 128 + the signal. The JVM's shutdown sequence is not involved (see StopSignals).
        signals = runtime.stopOn(() ->
        {
            stopRequested.set(true);
            stopSignal.countDown();
            runtime.closeSources();
        }, true);
        return signals.exitStatus(track());
    }

    private Pipeline newPipeline(
        final CheckpointStore store, final FlowEndCounters[] flowEnds, final FlowRecords sinks)
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

    private int track()
    {
        final long start = System.nanoTime();
        String failure = runtime.startSources();
        if (failure == null)
        {
            failure = runtime.awaitSources();
        }
        runtime.closeSources();
        final boolean stopped = stopRequested.get();
        runtime.finish(stopped ? EndReason.SHUTDOWN : EndReason.END_OF_INPUT);
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
        final List<PacketSource> started = runtime.started();
        if (keepServing)
        {
            // The records stay with the writer while the daemon serves: a failing sink keeps being retried.
            sinks.flush();
            summary((System.nanoTime() - start) / 1e9, started);
            err.println("tracker run: input finished; still serving HTTP on " + hostPort(http.address()) +
                " until stopped (SIGTERM or SIGINT)");
            Uninterruptibly.await(stopSignal::await);
        }
        runtime.closeRecords(); // every record written and flushed (a failing sink retried for a while); a file closed
        if (!RecordSinks.reportLosses(RunCommand.NAME, sinks, err))
        {
            exit = ExitCodes.INPUT_ERROR;
        }
        if (!keepServing && !started.isEmpty()) // a source that could not start: its one line says it all
        {
            summary((System.nanoTime() - start) / 1e9, started);
        }
        return exit;
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
