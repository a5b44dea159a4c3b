package dev.flowtracker.ingest.metrics;

import static dev.flowtracker.ingest.metrics.TrackerMetric.*;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.SecuritySignal;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.output.kafka.KafkaRecordSink;
import dev.flowtracker.ingest.pipeline.CheckpointSchedule;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.pipeline.WorkerTotals;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.afpacket.AfPacketSource;
import dev.flowtracker.ingest.source.file.CaptureFileSource;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.HdrHistogram.Recorder;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleFunction;
import java.util.function.ToLongFunction;

/**
 * The daemon's metrics, bound to a Micrometer Prometheus registry: every meter is one of {@link TrackerMetric}'s
 * (names, types, labels and help come from there; docs/metrics.md explains them), and a renamed metric is also
 * served under its deprecated name. Nothing here runs on a hot thread: every meter is a function of counters the
 * sources and workers keep themselves, read when scraped.
 *
 * <p>Built once on the thread that wires the daemon; scrapes then come from the HTTP server's thread.
 */
public final class TrackerMetrics implements AutoCloseable
{
    /** Handshake RTT buckets: 50 µs (a LAN) to 10 s (SYN retries). */
    static final double[] RTT_BUCKETS_SECONDS = {
        0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    /** Connection durations: 10 ms to a day. */
    static final double[] DURATION_BUCKETS_SECONDS = {0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 14400, 86400};
    /** Checkpoint durations: 1 ms to 1 min. */
    static final double[] CHECKPOINT_BUCKETS_SECONDS = {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60};
    /** Kafka delivery latencies: 1 ms to 2 min (an outage's records are delivered late, not lost). */
    static final double[] KAFKA_LATENCY_BUCKETS_SECONDS = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
        10, 30, 60, 120};
    private static final String[] DIRECTIONS = {"orig", "resp"};
    private static final String[] SIDES = DIRECTIONS;
    private static final String TOTAL_SUFFIX = "_total";

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    /**
     * Everything a meter reads from: Micrometer holds function counters' and gauges' objects weakly, so a list made
     * just for a meter would be collected and the meter would freeze or turn NaN.
     */
    private final List<Object> readFrom = new ArrayList<>();
    /** The Kafka client's own metrics, when there is a Kafka sink. */
    private KafkaClientMetrics kafkaClientMetrics;

    /** What the metrics read: the running pipeline and what feeds and drains it. */
    public record Parts(
        Pipeline pipeline, List<PacketSource> sources, FlowEndCounters[] flowEnds, RecordWriter records,
        long maxFlows, BooleanSupplier inputFinished, KafkaRecordSink kafka)
    {
        /** Without a Kafka sink. */
        public Parts(
            final Pipeline pipeline, final List<PacketSource> sources, final FlowEndCounters[] flowEnds,
            final RecordWriter records, final long maxFlows, final BooleanSupplier inputFinished)
        {
            this(pipeline, sources, flowEnds, records, maxFlows, inputFinished, null);
        }
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
        if (parts.kafka() != null)
        {
            bindKafka(parts.kafka());
        }
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
        if (kafkaClientMetrics != null)
        {
            kafkaClientMetrics.close();
        }
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
                    counter(CAPTURE_KERNEL_PACKETS, capture, c -> c.kernelStats(name).packets(), name);
                    counter(CAPTURE_KERNEL_PACKETS_DROPPED, capture, c -> c.kernelStats(name).drops(), name);
                    counter(CAPTURE_KERNEL_FREEZES, capture, c -> c.kernelStats(name).freezes(), name);
                    counter(CAPTURE_CHECKSUMS_UNVERIFIED, capture, c -> c.framesWithChecksumsPending(name), name);
                }
            }
        }
        final List<CaptureFileSource> replays = sources.stream().filter(CaptureFileSource.class::isInstance)
            .map(CaptureFileSource.class::cast).toList();
        if (!replays.isEmpty())
        {
            counter(SOURCE_PACKETS_SKIPPED, replays, list -> sum(list, CaptureFileSource::skipped), "pcap");
        }
        byKind.forEach((kind, ofKind) ->
        {
            counter(SOURCE_PACKETS, ofKind, list -> sum(list, PacketSource::frames), kind);
            counter(SOURCE_BYTES, ofKind, list -> sum(list, PacketSource::bytes), kind);
            counter(SOURCE_PACKETS_DROPPED, ofKind, list -> sum(list, PacketSource::drops), kind);
        });
    }

    private void bindDecodeAndDrops(final Pipeline pipeline, final List<PacketSource> sources)
    {
        for (final DecodeEvent event : DecodeEvent.values())
        {
            counter(DECODE_EVENTS, pipeline, p -> p.stats().decodeEvents(event), event.label(),
                event.kind().name().toLowerCase(Locale.ROOT));
            if (event.kind() == DecodeEvent.Kind.MALFORMED)
            {
                counter(PACKETS_DROPPED, pipeline, p -> p.stats().decodeEvents(event), "decode", event.label());
            }
        }
        counter(PACKETS_DROPPED, pipeline, Pipeline::ringFullDrops, "ring", "ring_full");
        counter(PACKETS_DROPPED, sources, list -> sum(list, PacketSource::drops), "kernel", "ring_overflow");
    }

    private void bindPipeline(final Pipeline pipeline)
    {
        gauge(RING_CAPACITY, pipeline, Pipeline::ringSize);
        gauge(RING_REMAINING, pipeline, Pipeline::ringRemaining);
        for (int i = 0; i < pipeline.workers(); i++)
        {
            final int worker = i;
            final String label = Integer.toString(i);
            counter(WORKER_SEGMENTS, pipeline.totals(), t -> t.segments(worker), label);
            gauge(WORKER_LAG_EVENTS, pipeline, p -> p.workerLag(worker), label);
        }
        counter(WORKER_FAILURES, pipeline, Pipeline::workerFailures);
    }

    private void bindFlows(final Pipeline pipeline, final FlowEndCounters[] flowEnds, final long maxFlows)
    {
        for (final FlowPhase phase : FlowPhase.values())
        {
            gauge(FLOWS_ACTIVE, pipeline.totals(), t -> t.activeConnections(phase), phase.label());
            for (final FlowRemoval removal : FlowRemoval.values())
            {
                counter(FLOWS_REMOVED, pipeline.totals(), t -> t.flowsRemoved(removal, phase), removal.label(),
                    phase.label());
            }
        }
        for (int s = 0; s < SIDES.length; s++)
        {
            final int side = s;
            for (final TcpState state : TcpState.values())
            {
                gauge(ENDPOINTS_ACTIVE, pipeline.totals(), t -> t.traffic(counters -> counters.endpoints(side, state)),
                    SIDES[s], state.name());
            }
        }
        counter(FLOWS_STARTED, pipeline.totals(), WorkerTotals::connectionsCreated);
        counter(FLOWS_INTERIM_RECORDS, pipeline.totals(), WorkerTotals::interimRecords);
        for (int c = 0; c < FlowEndCounters.CONN_STATES.length; c++)
        {
            final int connState = c;
            for (final EndReason reason : EndReason.values())
            {
                counter(FLOWS_ENDED, flowEnds, ends ->
                {
                    long total = 0;
                    for (final FlowEndCounters end : ends)
                    {
                        total += end.count(connState, reason);
                    }
                    return total;
                }, FlowEndCounters.CONN_STATES[c], reason.label());
            }
        }
        bindServices(flowEnds);
        counter(FLOWS_RESTORED, pipeline.checkpoints(), CheckpointSchedule::restoredFlows);
        gauge(FLOW_TABLE_CAPACITY, pipeline, p -> maxFlows);
        gauge(FLOW_TABLE_EMERGENCY, pipeline.totals(), WorkerTotals::workersInEmergency);
        counter(FLOW_TABLE_EMERGENCY_ENTRIES, pipeline.totals(), WorkerTotals::emergencyEntries);
        gauge(FLOW_TABLE_OFFHEAP_BYTES, pipeline.totals(), WorkerTotals::flowTableOffHeapBytes);
    }

    private void bindServices(final FlowEndCounters[] flowEnds)
    {
        final ServicePorts services = flowEnds[0].services();
        for (int s = 0; s < services.size(); s++)
        {
            final int service = s;
            final String port = services.label(s);
            counter(SERVICE_FLOWS_ENDED, flowEnds,
                ends -> serviceSum(ends, service, FlowEndCounters.SERVICE_FLOWS), port);
            counter(SERVICE_PAYLOAD_BYTES, flowEnds,
                ends -> serviceSum(ends, service, FlowEndCounters.SERVICE_ORIG_BYTES), port, DIRECTIONS[0]);
            counter(SERVICE_PAYLOAD_BYTES, flowEnds,
                ends -> serviceSum(ends, service, FlowEndCounters.SERVICE_RESP_BYTES), port, DIRECTIONS[1]);
            counter(SERVICE_RETRANSMISSIONS, flowEnds,
                ends -> serviceSum(ends, service, FlowEndCounters.SERVICE_RETRANSMISSIONS), port);
        }
        final List<Recorder> durations = new ArrayList<>();
        for (final FlowEndCounters ends : flowEnds)
        {
            durations.add(ends.durations());
        }
        histogram(FLOW_DURATION, durations, DURATION_BUCKETS_SECONDS, FlowEndCounters.MAX_DURATION_NANOS);
    }

    private static long serviceSum(final FlowEndCounters[] flowEnds, final int service, final int which)
    {
        long total = 0;
        for (final FlowEndCounters ends : flowEnds)
        {
            total += ends.serviceCount(service, which);
        }
        return total;
    }

    private void bindAnalysis(final Pipeline pipeline)
    {
        for (int d = 0; d < DIRECTIONS.length; d++)
        {
            final int direction = d;
            counter(TCP_PAYLOAD_BYTES, pipeline.totals(),
                t -> t.traffic(counters -> counters.payloadBytes(direction)), DIRECTIONS[d]);
            counter(TCP_SEGMENTS, pipeline.totals(), t -> t.traffic(counters -> counters.segments(direction)),
                DIRECTIONS[d]);
            for (final AnalysisFlag flag : AnalysisFlag.values())
            {
                counter(TCP_ANALYSIS_EVENTS, pipeline.totals(),
                    t -> t.traffic(counters -> counters.analysisEvents(flag, direction)), flag.label(),
                    DIRECTIONS[d]);
            }
            for (final SecuritySignal signal : SecuritySignal.values())
            {
                counter(TCP_SECURITY_EVENTS, pipeline.totals(),
                    t -> t.traffic(counters -> counters.securityEvents(signal, direction)), signal.label(),
                    DIRECTIONS[d]);
            }
        }
        final List<Recorder> rtts = new ArrayList<>();
        for (int i = 0; i < pipeline.workers(); i++)
        {
            rtts.add(pipeline.handshakeRtts(i));
        }
        histogram(TCP_HANDSHAKE_RTT, rtts, RTT_BUCKETS_SECONDS, Pipeline.MAX_RECORDED_NANOS);
        final List<Recorder> ackRtts = new ArrayList<>();
        for (int i = 0; i < pipeline.workers(); i++)
        {
            ackRtts.add(pipeline.ackRtts(i));
        }
        histogram(TCP_ACK_RTT, ackRtts, RTT_BUCKETS_SECONDS, Pipeline.MAX_RECORDED_NANOS);
    }

    private void bindOutput(final Pipeline pipeline, final RecordWriter records)
    {
        if (records != null)
        {
            counter(RECORDS_WRITTEN, records, RecordWriter::written, records.name());
            for (final RecordWriter.LossReason reason : RecordWriter.LossReason.values())
            {
                counter(RECORDS_LOST, records, r -> r.lost(reason), records.name(), reason.label());
            }
            gauge(RECORDS_QUEUED, records, RecordWriter::queued);
            gauge(RECORDS_BACKLOG, records, RecordWriter::backlogRecords);
            gauge(RECORDS_BACKLOG_BYTES, records, RecordWriter::backlogBytes);
            gauge(RECORDS_SINK_FAILING, records, r -> r.failing() ? 1 : 0);
            counter(RECORDS_SINK_FAILURES, records, RecordWriter::sinkFailures);
        }
        counter(CHECKPOINT_ATTEMPTS, pipeline.checkpoints(), CheckpointSchedule::written, "written");
        counter(CHECKPOINT_ATTEMPTS, pipeline.checkpoints(), CheckpointSchedule::skipped, "skipped");
        counter(CHECKPOINT_ATTEMPTS, pipeline.checkpoints(), CheckpointSchedule::failed, "failed");
        gauge(CHECKPOINT_AGE, pipeline.checkpoints(), c -> c.lastCommittedMillis() == 0 ? Double.NaN :
            (System.currentTimeMillis() - c.lastCommittedMillis()) / 1000.0);
        histogram(CHECKPOINT_DURATION, List.of(pipeline.checkpoints().durations()), CHECKPOINT_BUCKETS_SECONDS,
            TimeUnit.HOURS.toNanos(1));
    }

    private void bindKafka(final KafkaRecordSink kafka)
    {
        counter(RECORDS_WRITTEN, kafka, KafkaRecordSink::written, kafka.name());
        for (final KafkaRecordSink.LossReason reason : KafkaRecordSink.LossReason.values())
        {
            counter(RECORDS_LOST, kafka, k -> k.lost(reason), kafka.name(), reason.label());
        }
        gauge(KAFKA_BUFFERED_RECORDS, kafka, KafkaRecordSink::bufferedRecords);
        gauge(KAFKA_BUFFERED_BYTES, kafka, KafkaRecordSink::bufferedBytes);
        gauge(KAFKA_BUFFER_LIMIT_BYTES, kafka, KafkaRecordSink::bufferLimitBytes);
        gauge(KAFKA_REACHABLE, kafka, k -> k.reachable() ? 1 : 0);
        counter(KAFKA_SEND_FAILURES, kafka, KafkaRecordSink::sendFailures);
        counter(KAFKA_RECORD_BYTES, kafka, KafkaRecordSink::writtenBytes);
        histogram(KAFKA_DELIVERY_LATENCY, List.of(kafka.latency()), KAFKA_LATENCY_BUCKETS_SECONDS,
            KafkaRecordSink.MAX_LATENCY_NANOS);
        // The client's own metrics (kafka_producer_*): its labels are the client id and the one topic, so bounded.
        kafkaClientMetrics = new KafkaClientMetrics(kafka.producer());
        kafkaClientMetrics.bindTo(registry);
    }

    private void bindProcess(final BooleanSupplier inputFinished)
    {
        gauge(BUILD_INFO, this, metrics -> 1, BuildVersion.version(), Runtime.version().toString());
        gauge(INPUT_FINISHED, inputFinished, finished -> finished.getAsBoolean() ? 1 : 0);
        new JvmMemoryMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
    }

    private static <T> long sum(final List<T> items, final ToLongFunction<T> read)
    {
        long total = 0;
        for (final T item : items)
        {
            total += read.applyAsLong(item);
        }
        return total;
    }

    /**
     * Registers one series of a counter, under its name and, while it has one, its deprecated name.
     *
     * @param labelValues one per {@link TrackerMetric#labelNames()}, in that order.
     */
    private <T> void counter(
        final TrackerMetric metric, final T source, final ToLongFunction<T> read, final String... labelValues)
    {
        final Tags tags = tags(metric, TrackerMetric.Type.COUNTER, labelValues);
        readFrom.add(source);
        for (final String name : names(metric))
        {
            // Micrometer adds the _total the catalogue's counter names carry.
            final String meterName = meterName(name.substring(0, name.length() - TOTAL_SUFFIX.length()));
            FunctionCounter.builder(meterName, source, value -> read.applyAsLong(value)).description(help(metric, name))
                .tags(tags).register(registry);
        }
    }

    /** Registers one series of a gauge, as {@link #counter} does. */
    private <T> void gauge(
        final TrackerMetric metric, final T source, final ToDoubleFunction<T> read, final String... labelValues)
    {
        final Tags tags = tags(metric, TrackerMetric.Type.GAUGE, labelValues);
        readFrom.add(source);
        for (final String name : names(metric))
        {
            Gauge.builder(meterName(name), source, read).description(help(metric, name)).tags(tags)
                .strongReference(true).register(registry);
        }
    }

    /** Registers a histogram without labels over the recorders, in seconds, straight into the Prometheus registry. */
    private void histogram(
        final TrackerMetric metric, final List<Recorder> recorders, final double[] upperBoundsSeconds,
        final long highestTrackableNanos)
    {
        tags(metric, TrackerMetric.Type.HISTOGRAM);
        if (metric.deprecatedName() != null)
        {
            // Each RecorderHistogram swaps its recorders' interval histograms: two over the same recorders would
            // split the samples between them.
            throw new IllegalArgumentException(metric + ": a histogram cannot be served under a deprecated name too");
        }
        registry.getPrometheusRegistry().register(new RecorderHistogram(metric.metricName(), metric.help(), recorders,
            upperBoundsSeconds, highestTrackableNanos));
    }

    /**
     * Micrometer's spelling of a Prometheus name: dotted, which its Prometheus naming convention turns back into
     * the same snake case. Not cosmetic: a gauge named {@code x.info} is served as an info metric
     * {@code x_info}, while {@code x_info} would lose its {@code _info} (a suffix the Prometheus client reserves).
     */
    private static String meterName(final String prometheusName)
    {
        return prometheusName.replace('_', '.');
    }

    private static List<String> names(final TrackerMetric metric)
    {
        return metric.deprecatedName() == null ? List.of(metric.metricName()) :
            List.of(metric.metricName(), metric.deprecatedName());
    }

    private static String help(final TrackerMetric metric, final String name)
    {
        return name.equals(metric.metricName()) ? metric.help() :
            "Deprecated: renamed " + metric.metricName() + ". " + metric.help();
    }

    /** The catalogue's label names paired with these values; refuses a meter the catalogue does not describe. */
    private static Tags tags(final TrackerMetric metric, final TrackerMetric.Type type, final String... labelValues)
    {
        if (metric.type() != type || metric.labelNames().size() != labelValues.length)
        {
            throw new IllegalArgumentException(metric + " is a " + metric.type().label() + " labelled " +
                metric.labelNames() + ", not a " + type.label() + " with " + labelValues.length + " label values");
        }
        Tags tags = Tags.empty();
        for (int i = 0; i < labelValues.length; i++)
        {
            tags = tags.and(metric.labelNames().get(i), labelValues[i]);
        }
        return tags;
    }
}
