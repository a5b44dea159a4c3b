package dev.flowtracker.ingest.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.file.CaptureReplay;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The traffic metrics agree with the records the same run wrote: payload bytes by direction, the data-path RTT
 * histogram's sample count, the duration histogram's count, and the per-service split (listed ports apart, the
 * rest as {@code other}), summed from the JSON records of a capture with several services.
 */
class TrafficMetricsTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern SAMPLE = Pattern.compile("^([a-z_]+)(\\{[^}]*})? (\\S+)$");
    private static final Path SAMPLE_CAPTURE = Path.of("../samples/sample.pcap");
    /** HTTP, FTP control and data, and more, with retransmissions. */
    private static final String CORPUS_CAPTURE = "pcaps/zeek/ftp__bigtransfer.pcap";

    @Test
    void shouldCountWhatTheRecordsSay() throws IOException
    {
        final Path corpus = Path.of(System.getProperty("tracker.corpus", "../shared/corpus")).toAbsolutePath();
        Assumptions.assumeTrue(Files.isRegularFile(corpus.resolve(CORPUS_CAPTURE)),
            "skipped: the shared corpus is not at " + corpus + " (set -Dtracker.corpus=DIR to point at it)");
        final List<Path> captures = List.of(SAMPLE_CAPTURE, corpus.resolve(CORPUS_CAPTURE));
        final ServicePorts services = ServicePorts.parse("21,80");
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final FlowEndCounters[] ends = {new FlowEndCounters(services), new FlowEndCounters(services)};
        final Map<String, Double> samples;
        try (RecordWriter writer = RecordWriter.toStream(out); FlowRecords records = new FlowRecords(writer))
        {
            final Pipeline pipeline = new Pipeline(2, 1024, true, Lifecycle.ZEEK, ZeekOptions.DEFAULTS,
                FlowLimits.builder().maxFlows(10_000).build(),
                worker -> records.listenerFor(worker, ends[worker]::count));
            try (TrackerMetrics metrics = new TrackerMetrics(new TrackerMetrics.Parts(pipeline, List.<PacketSource>of(),
                ends, writer, 10_000, pipeline::finished)))
            {
                for (final Path capture : captures)
                {
                    CaptureReplay.read(capture, pipeline);
                }
                pipeline.finish();
                records.flush();
                samples = samples(metrics.scrape("text/plain").body());
            }
        }
        final Map<String, Double> expected = new HashMap<>();
        long connections = 0;
        for (final String line : out.toString(StandardCharsets.UTF_8).lines().toList())
        {
            final JsonNode record = JSON.readTree(line);
            final JsonNode orig = record.get("tcp").get("orig");
            final JsonNode resp = record.get("tcp").get("resp");
            final String port = record.get("id.resp_p").asText();
            final String service = port.equals("21") || port.equals("80") ? port : "other";
            connections++;
            expected.merge("tracker_tcp_payload_bytes_total{direction=\"orig\"}", orig.get("payload_bytes").asDouble(),
                Double::sum);
            expected.merge("tracker_tcp_payload_bytes_total{direction=\"resp\"}", resp.get("payload_bytes").asDouble(),
                Double::sum);
            expected.merge("tracker_tcp_ack_rtt_seconds_count",
                orig.get("rtt").get("samples").asDouble() + resp.get("rtt").get("samples").asDouble(), Double::sum);
            expected.merge("tracker_service_flows_ended_total{service_port=\"" + service + "\"}", 1.0, Double::sum);
            expected.merge("tracker_service_payload_bytes_total{direction=\"orig\",service_port=\"" + service + "\"}",
                orig.get("payload_bytes").asDouble(), Double::sum);
            expected.merge("tracker_service_payload_bytes_total{direction=\"resp\",service_port=\"" + service + "\"}",
                resp.get("payload_bytes").asDouble(), Double::sum);
            expected.merge("tracker_service_retransmissions_total{service_port=\"" + service + "\"}",
                orig.get("analysis").get("retransmission").asDouble() +
                    resp.get("analysis").get("retransmission").asDouble(), Double::sum);
        }
        expected.put("tracker_flow_duration_seconds_count", (double)connections);
        assertTrue(expected.get("tracker_service_flows_ended_total{service_port=\"21\"}") > 0, "FTP in the capture");
        assertTrue(expected.get("tracker_tcp_ack_rtt_seconds_count") > 0, "RTT samples in the capture");
        final List<String> wrong = new ArrayList<>();
        for (final Map.Entry<String, Double> entry : expected.entrySet())
        {
            final Double served = samples.get(entry.getKey());
            if (served == null || served.doubleValue() != entry.getValue().doubleValue())
            {
                wrong.add(entry.getKey() + ": records say " + entry.getValue() + ", metrics " + served);
            }
        }
        assertEquals(List.of(), wrong);
    }

    /** Sample name with its labels (as served, sorted by the registry) to value. */
    private static Map<String, Double> samples(final String exposition)
    {
        final Map<String, Double> samples = new HashMap<>();
        for (final String line : exposition.lines().toList())
        {
            final Matcher sample = SAMPLE.matcher(line);
            if (sample.matches())
            {
                samples.put(sample.group(1) + (sample.group(2) == null ? "" : sample.group(2)),
                    Double.parseDouble(sample.group(3)));
            }
        }
        return samples;
    }
}
