package dev.flowtracker.ingest.metrics;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.FlowPhase;
import dev.flowtracker.core.tcp.FlowRemoval;
import dev.flowtracker.core.tcp.SecuritySignal;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.TrafficCounters;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.afpacket.AfPacketSource;
import dev.flowtracker.ingest.source.pcap.CaptureFileSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The daemon's metrics (catalogue: docs/metrics.md), bound to a Micrometer Prometheus registry. Nothing here runs on
 * a hot thread: every meter is a function of counters the sources and workers keep themselves, read when scraped.
 *
 * <p>Built once on the thread that wires the daemon; scrapes then come from the HTTP server's thread.
 */
public final class TrackerMetrics implements AutoCloseable
{
    /** Handshake RTT buckets: 50 µs (a LAN) to 10 s (SYN retries). */
    static final double[] RTT_BUCKETS_SECONDS = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    /** Checkpoint durations: 1 ms to 1 min. */
    static final double[] CHECKPOINT_BUCKETS_SECONDS = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60};
    private static final String[] DIRECTIONS = {"orig", "resp"};
    private static final String[] SIDES = DIRECTIONS;

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    /**
     * Everything a meter reads from: Micrometer holds function counters' and gauges' objects weakly, so a list made
     * just for a meter would be collected and the meter would freeze or turn NaN.
     */
    private final List<Object> readFrom = new ArrayList<>();

    /** What the metrics read: the running pipeline and what feeds and drains it. */
    public record Parts(
        Pipeline pipeline, List<PacketSource> sources, FlowEndCounters[] flowEnds, RecordWriter records,
        long maxFlows, BooleanSupplier inputFinished)
    {
    }

    public TrackerMetrics(final Parts parts)
    {
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        bindSources(parts.sources());
        bindDecodeAndDrops(parts.pipeline(), parts.sources());
        bindPipeline(parts.pipeline());
        bindFlows(parts.pipeline(), parts.flowEnds(), parts.maxFlows());
        bindAnalysis(parts.pipeline());
        bindOutput(parts.pipeline(), parts.records());
        bindProcess(parts.inputFinished());
    }

    /** The registry to scrape. */
    public PrometheusMeterRegistry registry()
    {
        return registry;
    }

    /**
     * The exposition for a scraper's Accept header: OpenMetrics when it asks for it, else text format 0.0.4.
     */
    public Scrape scrape(final String accept)
    {
        final boolean openMetrics = accept != null && accept.contains("application/openmetrics-text");
        final String contentType = openMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8" :
            "text/plain; version=0.0.4; charset=utf-8";
        return new Scrape(contentType, registry.scrape(contentType));
    }

    /** A scrape's body and its content type. */
    public record Scrape(String contentType, String body)
    {
    }

    @Override
    public void close()
    {
        gcMetrics.close();
        registry.close();
    }

    private void bindSources(final List<PacketSource> sources)
    {
        final Map<String, List<PacketSource>> byKind = new LinkedHashMap<>();
        for (final PacketSource source : sources)
        {
            byKind.computeIfAbsent(source.kind(), kind -> new ArrayList<>()).add(source);
        }
        for (final PacketSource source : sources)
        {
            if (source instanceof AfPacketSource capture)
            {
                for (final String name : capture.options().interfaces())
                {
                    counter("tracker.capture.kernel.packets", "AF_PACKET PACKET_STATISTICS packets, per interface",
                        capture, c -> c.kernelStats(name).packets(), "interface", name);
                    counter("tracker.capture.kernel.drops", "AF_PACKET PACKET_STATISTICS drops (the ring was full)",
                        capture, c -> c.kernelStats(name).drops(), "interface", name);
                    counter("tracker.capture.kernel.freezes", "AF_PACKET PACKET_STATISTICS queue freezes",
                        capture, c -> c.kernelStats(name).freezes(), "interface", name);
                    counter("tracker.capture.checksums.unverified",
                        "AF_PACKET frames this host sent with checksums left to the NIC (TP_STATUS_CSUMNOTREADY)," +
                            " so not verified", capture, c -> c.framesWithChecksumsPending(name), "interface", name);
                }
            }
        }
        final List<CaptureFileSource> replays = sources.stream().filter(CaptureFileSource.class::isInstance)
            .map(CaptureFileSource.class::cast).toList();
        if (!replays.isEmpty())
        {
            counter("tracker.source.skipped", "Frames a restarted replay left out: the checkpoints it restored hold them",
                replays, list -> sum(list, CaptureFileSource::skipped), "source", "pcap");
        }
        byKind.forEach((kind, ofKind) ->
        {
            counter("tracker.source.packets", "Frames a source delivered to the pipeline", ofKind,
                list -> sum(list, PacketSource::frames), "source", kind);
            counter("tracker.source.bytes", "Bytes (as on the wire) of the frames sources delivered", ofKind,
                list -> sum(list, PacketSource::bytes), "source", kind);
            counter("tracker.source.drops", "Frames a source lost before delivery (kernel drops for AF_PACKET)",
                ofKind, list -> sum(list, PacketSource::drops), "source", kind);
        });
    }

    private void bindDecodeAndDrops(final Pipeline pipeline, final List<PacketSource> sources)
    {
        for (final DecodeEvent event : DecodeEvent.values())
        {
            counter("tracker.decode.events", "Decode outcomes: one per frame, plus warnings", pipeline,
                p -> p.stats().decodeEvents(event), "event", event.label(), "kind",
                event.kind().name().toLowerCase(java.util.Locale.ROOT));
            if (event.kind() == DecodeEvent.Kind.MALFORMED)
            {
                counter("tracker.packets.dropped", "Frames lost or left untracked, by stage and reason", pipeline,
                    p -> p.stats().decodeEvents(event), "stage", "decode", "reason", event.label());
            }
        }
        counter("tracker.packets.dropped", "Frames lost or left untracked, by stage and reason", pipeline,
            Pipeline::ringFullDrops, "stage", "ring", "reason", "ring_full");
        counter("tracker.packets.dropped", "Frames lost or left untracked, by stage and reason", sources,
            list -> sum(list, PacketSource::drops), "stage", "kernel", "reason", "ring_overflow");
    }

    private void bindPipeline(final Pipeline pipeline)
    {
        gauge("tracker.ring.capacity", "Ring slots", pipeline, Pipeline::ringSize);
        gauge("tracker.ring.remaining", "Free ring slots now", pipeline, Pipeline::ringRemaining);
        for (int i = 0; i < pipeline.workers(); i++)
        {
            final int worker = i;
            final String label = Integer.toString(i);
            counter("tracker.worker.segments", "TCP segments tracked by each shard worker", pipeline,
                p -> p.workerSegments(worker), "worker", label);
            gauge("tracker.worker.lag.events", "Ring events published but not yet processed by the worker",
                pipeline, p -> p.workerLag(worker), "worker", label);
        }
        counter("tracker.worker.failures", "Ring events whose processing threw", pipeline,
            Pipeline::workerFailures);
    }

    private void bindFlows(final Pipeline pipeline, final FlowEndCounters[] flowEnds, final long maxFlows)
    {
        for (final FlowPhase phase : FlowPhase.values())
        {
            gauge("tracker.flows.active", "Connections in the flow tables now, by phase", pipeline,
                p -> p.activeConnections(phase), "phase", phase.label());
            for (final FlowRemoval removal : FlowRemoval.values())
            {
                counter("tracker.flows.removed", "Connections the bounded flow table removed", pipeline,
                    p -> p.flowsRemoved(removal, phase), "reason", removal.label(), "phase", phase.label());
            }
        }
        for (int s = 0; s < SIDES.length; s++)
        {
            final int side = s;
            for (final TcpState state : TcpState.values())
            {
                gauge("tracker.endpoints.active", "Endpoints of the active connections by RFC 793 state", pipeline,
                    p -> sumWorkers(p, counters -> counters.endpoints(side, state)), "side", SIDES[s], "state",
                    state.name());
            }
        }
        counter("tracker.flows.started", "Connections created (successors of a reused 4-tuple included)", pipeline,
            Pipeline::connectionsCreated);
        for (int c = 0; c < FlowEndCounters.CONN_STATES.length; c++)
        {
            final int connState = c;
            for (final EndReason reason : EndReason.values())
            {
                counter("tracker.flows.ended", "Connection records emitted, by conn_state and end_reason", flowEnds,
                    ends ->
                    {
                        long total = 0;
                        for (final FlowEndCounters end : ends)
                        {
                            total += end.count(connState, reason);
                        }
                        return total;
                    }, "conn_state", FlowEndCounters.CONN_STATES[c], "end_reason", reason.label());
            }
        }
        counter("tracker.flows.restored", "Connections restored from checkpoints at start", pipeline,
            Pipeline::restoredFlows);
        gauge("tracker.flow.table.capacity", "Connections the flow tables hold at most", pipeline, p -> maxFlows);
        gauge("tracker.flow.table.emergency", "Workers whose flow table is in emergency mode now", pipeline,
            Pipeline::workersInEmergency);
        counter("tracker.flow.table.emergency.entries", "Times a flow table went into emergency mode", pipeline,
            Pipeline::emergencyEntries);
        gauge("tracker.flow.table.offheap.bytes",
            "Off-heap memory of the flow tables: index, bookkeeping, connection records and timer queue", pipeline,
            Pipeline::flowTableOffHeapBytes);
        counter("tracker.flow.table.working.set.misses",
            "Connections decoded from their off-heap record because they were not in the working set", pipeline,
            Pipeline::workingSetMisses);
    }

    private void bindAnalysis(final Pipeline pipeline)
    {
        for (int d = 0; d < DIRECTIONS.length; d++)
        {
            final int direction = d;
            counter("tracker.tcp.segments", "TCP segments tracked, by direction", pipeline,
                p -> sumWorkers(p, counters -> counters.segments(direction)), "direction", DIRECTIONS[d]);
            for (final AnalysisFlag flag : AnalysisFlag.values())
            {
                counter("tracker.tcp.analysis.events", "Segments carrying each tshark tcp.analysis flag", pipeline,
                    p -> sumWorkers(p, counters -> counters.analysisEvents(flag, direction)), "flag", flag.label(),
                    "direction", DIRECTIONS[d]);
            }
            for (final SecuritySignal signal : SecuritySignal.values())
            {
                counter("tracker.tcp.security.events", "Suspicious segments, by signal and direction", pipeline,
                    p -> sumWorkers(p, counters -> counters.securityEvents(signal, direction)), "signal",
                    signal.label(), "direction", DIRECTIONS[d]);
            }
        }
        final List<Recorder> rtts = new ArrayList<>();
        for (int i = 0; i < pipeline.workers(); i++)
        {
            rtts.add(pipeline.handshakeRtts(i));
        }
        registry.getPrometheusRegistry().register(new RecorderHistogram("tracker_tcp_handshake_rtt_seconds",
            "tshark's initial RTT (last SYN to the first ACK without SYN), one sample per connection", rtts,
            RTT_BUCKETS_SECONDS, Pipeline.MAX_RECORDED_NANOS));
    }

    private void bindOutput(final Pipeline pipeline, final RecordWriter records)
    {
        counter("tracker.records.written", "Flow records written to the sink", records, RecordWriter::written);
        for (final RecordWriter.LossReason reason : RecordWriter.LossReason.values())
        {
            counter("tracker.records.lost", "Flow records that could not be written", records, r -> r.lost(reason),
                "reason", reason.label());
        }
        gauge("tracker.records.queued", "Records waiting for the writer thread", records, RecordWriter::queued);
        gauge("tracker.records.backlog", "Records waiting for the sink to take them (grows while it fails)",
            records, RecordWriter::backlogRecords);
        gauge("tracker.records.backlog.bytes", "Bytes of records waiting for the sink to take them", records,
            RecordWriter::backlogBytes);
        gauge("tracker.records.sink.failing", "1 while the flow-record sink fails (records are buffered)", records,
            r -> r.failing() ? 1 : 0);
        counter("tracker.records.sink.failures", "Failed write attempts to the flow-record sink", records,
            RecordWriter::sinkFailures);
        counter("tracker.checkpoints", "Shard checkpoints by result", pipeline, Pipeline::checkpointsWritten,
            "result", "written");
        counter("tracker.checkpoints", "Shard checkpoints by result", pipeline, Pipeline::checkpointsSkipped,
            "result", "skipped");
        counter("tracker.checkpoints", "Shard checkpoints by result", pipeline, Pipeline::checkpointsFailed,
            "result", "failed");
        Gauge.builder("tracker.checkpoint.age.seconds", pipeline, p -> p.lastCheckpointMillis() == 0 ? Double.NaN :
                (System.currentTimeMillis() - p.lastCheckpointMillis()) / 1000.0)
            .description("Seconds since the last successful checkpoint commit").strongReference(true)
            .register(registry);
        registry.getPrometheusRegistry().register(new RecorderHistogram("tracker_checkpoint_duration_seconds",
            "Time to write and commit one shard's checkpoint", List.of(pipeline.checkpointDurations()),
            CHECKPOINT_BUCKETS_SECONDS, java.util.concurrent.TimeUnit.HOURS.toNanos(1)));
    }

    private void bindProcess(final BooleanSupplier inputFinished)
    {
        final String version = TrackerMetrics.class.getPackage().getImplementationVersion();
        Gauge.builder("tracker.build.info", () -> 1).description("Always 1; labels say what runs")
            .tag("version", version == null ? "dev" : version)
            .tag("java_version", Runtime.version().toString()).register(registry);
        Gauge.builder("tracker.input.finished", inputFinished, finished -> finished.getAsBoolean() ? 1 : 0)
            .description("1 once a replay reached the end of its input").strongReference(true).register(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    private interface CounterRead
    {
        long read(TrafficCounters counters);
    }

    private static long sumWorkers(final Pipeline pipeline, final CounterRead read)
    {
        long total = 0;
        for (int i = 0; i < pipeline.workers(); i++)
        {
            total += read.read(pipeline.trafficCounters(i));
        }
        return total;
    }

    private static <T> long sum(final List<T> items, final java.util.function.ToLongFunction<T> read)
    {
        long total = 0;
        for (final T item : items)
        {
            total += read.applyAsLong(item);
        }
        return total;
    }

    private <T> void counter(final String name, final String help, final T source,
        final java.util.function.ToLongFunction<T> read, final String... tags)
    {
        readFrom.add(source);
        FunctionCounter.builder(name, source, value -> read.applyAsLong(value)).description(help).tags(tags)
            .register(registry);
    }

    private <T> void gauge(final String name, final String help, final T source, final ToDoubleFunction<T> read,
        final String... tags)
    {
        readFrom.add(source);
        Gauge.builder(name, source, read).description(help).tags(tags).strongReference(true).register(registry);
    }
}
