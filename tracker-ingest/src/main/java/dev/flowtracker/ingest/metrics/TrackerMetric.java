package dev.flowtracker.ingest.metrics;

import java.util.List;
import java.util.Locale;

/**
 * The catalogue of the daemon's metrics: each is declared here once, with its exposed name, type, unit, help text
 * and label names, and {@link TrackerMetrics} builds every meter from it. docs/metrics.md describes the same
 * entries in prose; {@code TrackerMetricCatalogueTest} keeps the two in step.
 *
 * <p>Names follow Prometheus conventions: the {@code tracker_} prefix, {@code _total} on counters and only there,
 * base units ({@code _seconds}, {@code _bytes}) in the name. An entry renamed after release keeps its old name in
 * {@link #deprecatedName()}: the old name is still exported, with the same labels and values, so dashboards and
 * alerts written against it keep working until they move.
 *
 * <p>Immutable; any thread.
 */
public enum TrackerMetric
{
    // Sources and capture.
    SOURCE_PACKETS("tracker_source_packets_total", Type.COUNTER, "frames", List.of("source"),
        "Frames a source delivered to the pipeline"),
    SOURCE_BYTES("tracker_source_bytes_total", Type.COUNTER, "bytes", List.of("source"),
        "Bytes (as on the wire) of the frames sources delivered"),
    SOURCE_PACKETS_DROPPED("tracker_source_packets_dropped_total", Type.COUNTER, "frames", List.of("source"),
        "Frames a source lost before delivery (kernel drops for AF_PACKET)", "tracker_source_drops_total"),
    SOURCE_PACKETS_SKIPPED("tracker_source_packets_skipped_total", Type.COUNTER, "frames", List.of("source"),
        "Frames a restarted replay left out: the checkpoints it restored hold them", "tracker_source_skipped_total"),
    CAPTURE_KERNEL_PACKETS("tracker_capture_kernel_packets_total", Type.COUNTER, "frames", List.of("interface"),
        "AF_PACKET PACKET_STATISTICS packets, per interface"),
    CAPTURE_KERNEL_PACKETS_DROPPED("tracker_capture_kernel_packets_dropped_total", Type.COUNTER, "frames",
        List.of("interface"), "AF_PACKET PACKET_STATISTICS drops (the ring was full)",
        "tracker_capture_kernel_drops_total"),
    CAPTURE_KERNEL_FREEZES("tracker_capture_kernel_freezes_total", Type.COUNTER, "freezes", List.of("interface"),
        "AF_PACKET PACKET_STATISTICS queue freezes"),
    CAPTURE_CHECKSUMS_UNVERIFIED("tracker_capture_checksums_unverified_total", Type.COUNTER, "frames",
        List.of("interface"),
        "AF_PACKET frames this host sent with checksums left to the NIC (TP_STATUS_CSUMNOTREADY), so not verified"),

    // Decode and drops.
    DECODE_EVENTS("tracker_decode_events_total", Type.COUNTER, "events", List.of("event", "kind"),
        "Decode outcomes: one per frame, plus warnings"),
    PACKETS_DROPPED("tracker_packets_dropped_total", Type.COUNTER, "frames", List.of("stage", "reason"),
        "Frames lost or left untracked, by stage and reason"),

    // Pipeline.
    RING_CAPACITY("tracker_ring_capacity", Type.GAUGE, "slots", List.of(), "Ring slots"),
    RING_REMAINING("tracker_ring_remaining", Type.GAUGE, "slots", List.of(), "Free ring slots now"),
    WORKER_SEGMENTS("tracker_worker_segments_total", Type.COUNTER, "segments", List.of("worker"),
        "TCP segments tracked by each shard worker"),
    WORKER_LAG_EVENTS("tracker_worker_lag_events", Type.GAUGE, "events", List.of("worker"),
        "Ring events published but not yet processed by the worker"),
    WORKER_FAILURES("tracker_worker_failures_total", Type.COUNTER, "events", List.of(),
        "Ring events whose processing threw"),

    // Flows.
    FLOWS_ACTIVE("tracker_flows_active", Type.GAUGE, "connections", List.of("phase"),
        "Connections in the flow tables now, by phase"),
    ENDPOINTS_ACTIVE("tracker_endpoints_active", Type.GAUGE, "endpoints", List.of("side", "state"),
        "Endpoints of the active connections by RFC 793 state"),
    FLOWS_STARTED("tracker_flows_started_total", Type.COUNTER, "connections", List.of(),
        "Connections created (successors of a reused 4-tuple included)"),
    FLOWS_ENDED("tracker_flows_ended_total", Type.COUNTER, "connections", List.of("conn_state", "end_reason"),
        "Connection records emitted, by conn_state and end_reason"),
    FLOWS_INTERIM_RECORDS("tracker_flows_interim_records_total", Type.COUNTER, "records", List.of(),
        "Interim records of connections still open (--update-interval)"),
    FLOWS_REMOVED("tracker_flows_removed_total", Type.COUNTER, "connections", List.of("reason", "phase"),
        "Connections the bounded flow table removed"),
    FLOWS_RESTORED("tracker_flows_restored_total", Type.COUNTER, "connections", List.of(),
        "Connections restored from checkpoints at start"),
    FLOW_TABLE_CAPACITY("tracker_flow_table_capacity", Type.GAUGE, "connections", List.of(),
        "Connections the flow tables hold at most"),
    FLOW_TABLE_EMERGENCY("tracker_flow_table_emergency", Type.GAUGE, "workers", List.of(),
        "Workers whose flow table is in emergency mode now"),
    FLOW_TABLE_EMERGENCY_ENTRIES("tracker_flow_table_emergency_entries_total", Type.COUNTER, "entries", List.of(),
        "Times a flow table went into emergency mode"),
    FLOW_TABLE_OFFHEAP_BYTES("tracker_flow_table_offheap_bytes", Type.GAUGE, "bytes", List.of(),
        "Off-heap memory of the flow tables: index, bookkeeping, connection records and timer queue"),

    // TCP analysis.
    TCP_SEGMENTS("tracker_tcp_segments_total", Type.COUNTER, "segments", List.of("direction"),
        "TCP segments tracked, by direction"),
    TCP_ANALYSIS_EVENTS("tracker_tcp_analysis_events_total", Type.COUNTER, "segments", List.of("flag", "direction"),
        "Segments carrying each tshark tcp.analysis flag"),
    TCP_SECURITY_EVENTS("tracker_tcp_security_events_total", Type.COUNTER, "segments",
        List.of("signal", "direction"), "Suspicious segments, by signal and direction"),
    TCP_HANDSHAKE_RTT("tracker_tcp_handshake_rtt_seconds", Type.HISTOGRAM, "seconds", List.of(),
        "tshark's initial RTT (last SYN to the first ACK without SYN), one sample per connection"),
    TCP_ACK_RTT("tracker_tcp_ack_rtt_seconds", Type.HISTOGRAM, "seconds", List.of(),
        "Data-path RTT: an ACK's time minus that of the segment it exactly acknowledges, every sample"),
    TCP_PAYLOAD_BYTES("tracker_tcp_payload_bytes_total", Type.COUNTER, "bytes", List.of("direction"),
        "TCP payload bytes tracked, by direction (as the IP header gives them, captured or not)"),
    FLOW_DURATION("tracker_flow_duration_seconds", Type.HISTOGRAM, "seconds", List.of(),
        "Durations of the connection records emitted (the records' duration)"),
    SERVICE_FLOWS_ENDED("tracker_service_flows_ended_total", Type.COUNTER, "connections", List.of("service_port"),
        "Connection records emitted, by responder port (--service-ports; other ports as other)"),
    SERVICE_PAYLOAD_BYTES("tracker_service_payload_bytes_total", Type.COUNTER, "bytes",
        List.of("service_port", "direction"), "Payload bytes of the connection records emitted, by responder port " +
        "and direction (counted when a connection ends)"),
    SERVICE_RETRANSMISSIONS("tracker_service_retransmissions_total", Type.COUNTER, "segments",
        List.of("service_port"), "Segments flagged retransmission in the connection records emitted, by responder " +
        "port (counted when a connection ends)"),

    // Output and checkpoints.
    RECORDS_WRITTEN("tracker_records_written_total", Type.COUNTER, "records", List.of("sink"),
        "Flow records delivered, by sink (file, stdout, kafka)"),
    RECORDS_LOST("tracker_records_lost_total", Type.COUNTER, "records", List.of("sink", "reason"),
        "Flow records that could not be delivered, by sink and reason"),
    RECORDS_QUEUED("tracker_records_queued", Type.GAUGE, "records", List.of(),
        "Records waiting for the writer thread"),
    RECORDS_BACKLOG("tracker_records_backlog", Type.GAUGE, "records", List.of(),
        "Records waiting for the sink to take them (grows while it fails)"),
    RECORDS_BACKLOG_BYTES("tracker_records_backlog_bytes", Type.GAUGE, "bytes", List.of(),
        "Bytes of records waiting for the sink to take them"),
    RECORDS_SINK_FAILING("tracker_records_sink_failing", Type.GAUGE, "boolean", List.of(),
        "1 while the flow-record sink fails (records are buffered)"),
    RECORDS_SINK_FAILURES("tracker_records_sink_failures_total", Type.COUNTER, "attempts", List.of(),
        "Failed write attempts to the flow-record sink"),
    KAFKA_BUFFERED_RECORDS("tracker_kafka_buffered_records", Type.GAUGE, "records", List.of(),
        "Records the Kafka sink holds until the broker acknowledges them"),
    KAFKA_BUFFERED_BYTES("tracker_kafka_buffered_bytes", Type.GAUGE, "bytes", List.of(),
        "Bytes of the records the Kafka sink holds"),
    KAFKA_BUFFER_LIMIT_BYTES("tracker_kafka_buffer_limit_bytes", Type.GAUGE, "bytes", List.of(),
        "The Kafka sink's buffer bound (--kafka-buffer)"),
    KAFKA_REACHABLE("tracker_kafka_reachable", Type.GAUGE, "boolean", List.of(),
        "1 while the Kafka broker acknowledges records"),
    KAFKA_SEND_FAILURES("tracker_kafka_send_failures_total", Type.COUNTER, "attempts", List.of(),
        "Kafka sends or deliveries that failed (the record is sent again unless the broker refused it)"),
    KAFKA_RECORD_BYTES("tracker_kafka_record_bytes_total", Type.COUNTER, "bytes", List.of(),
        "Bytes of record values the Kafka broker acknowledged (before compression)"),
    KAFKA_DELIVERY_LATENCY("tracker_kafka_delivery_latency_seconds", Type.HISTOGRAM, "seconds", List.of(),
        "Time from a record's hand-over to the Kafka sink to the broker's acknowledgement"),
    CHECKPOINT_ATTEMPTS("tracker_checkpoint_attempts_total", Type.COUNTER, "checkpoints", List.of("result"),
        "Shard checkpoints by result", "tracker_checkpoints_total"),
    CHECKPOINT_DURATION("tracker_checkpoint_duration_seconds", Type.HISTOGRAM, "seconds", List.of(),
        "Time to write and commit one shard's checkpoint"),
    CHECKPOINT_AGE("tracker_checkpoint_age_seconds", Type.GAUGE, "seconds", List.of(),
        "Seconds since the last successful checkpoint commit"),

    // tracker aggregate (its own process and endpoint: AggregateMetrics).
    AGGREGATE_RECORDS_READ("tracker_aggregate_records_read_total", Type.COUNTER, "records", List.of(),
        "Messages read from the record topic, malformed ones included"),
    AGGREGATE_INTERIM_RECORDS_SKIPPED("tracker_aggregate_interim_records_skipped_total", Type.COUNTER, "records",
        List.of(), "Interim records read and left out (connections count by their final records)"),
    AGGREGATE_RECORDS_MALFORMED("tracker_aggregate_records_malformed_total", Type.COUNTER, "records",
        List.of("reason"), "Messages of the record topic skipped as malformed, by reason"),
    AGGREGATE_ROLLUPS_WRITTEN("tracker_aggregate_rollups_written_total", Type.COUNTER, "rows", List.of(),
        "Per-minute rollup rows written"),
    AGGREGATE_DEDUP_RECORDS_WRITTEN("tracker_aggregate_dedup_records_written_total", Type.COUNTER, "records",
        List.of(), "De-duplicated records written"),
    AGGREGATE_DUPLICATES_MERGED("tracker_aggregate_duplicates_merged_total", Type.COUNTER, "records", List.of(),
        "Sightings merged into a record another tap had given"),

    // Process.
    BUILD_INFO("tracker_build_info", Type.GAUGE, "info", List.of("version", "java_version"),
        "Always 1; labels say what runs"),
    INPUT_FINISHED("tracker_input_finished", Type.GAUGE, "boolean", List.of(),
        "1 once a replay reached the end of its input");

    /** The Prometheus metric type, as docs/metrics.md names it. */
    public enum Type
    {
        COUNTER, GAUGE, HISTOGRAM;

        /** The name in the exposition's {@code # TYPE} line and in docs/metrics.md. */
        public String label()
        {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final String metricName;
    private final Type type;
    private final String unit;
    private final List<String> labelNames;
    private final String help;
    private final String deprecatedName;

    TrackerMetric(
        final String metricName, final Type type, final String unit, final List<String> labelNames,
        final String help)
    {
        this(metricName, type, unit, labelNames, help, null);
    }

    TrackerMetric(
        final String metricName, final Type type, final String unit, final List<String> labelNames,
        final String help, final String deprecatedName)
    {
        this.metricName = metricName;
        this.type = type;
        this.unit = unit;
        this.labelNames = labelNames;
        this.help = help;
        this.deprecatedName = deprecatedName;
    }

    /** The exposed name, as a query uses it: counters with {@code _total}, histograms without {@code _bucket}. */
    public String metricName()
    {
        return metricName;
    }

    public Type type()
    {
        return type;
    }

    /**
     * What one unit of the value is: a base unit ({@code seconds}, {@code bytes}, which the name ends with) or
     * the thing counted ({@code frames}, {@code connections}, ...; {@code boolean} for 0/1, {@code info} for a
     * constant 1 whose labels carry the information).
     */
    public String unit()
    {
        return unit;
    }

    /** Label names, in the order {@link TrackerMetrics} gives their values. */
    public List<String> labelNames()
    {
        return labelNames;
    }

    public String help()
    {
        return help;
    }

    /** The name this metric had before it was renamed, still exported as an alias; null when it was never renamed. */
    public String deprecatedName()
    {
        return deprecatedName;
    }
}
