package dev.flowtracker.ingest.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.metrics.FlowEndCounters;
import dev.flowtracker.ingest.metrics.TrackerMetrics;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.file.CaptureFileSource;
import dev.flowtracker.ingest.source.file.CaptureFiles;
import dev.flowtracker.ingest.source.file.CaptureReader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The daemon's HTTP server over a real pipeline: metrics agree with what was tracked and written, the flow API
 * answers from the workers' tables, and bad requests get clear errors.
 */
class HttpApiTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient client = HttpClient.newHttpClient();
    private final ByteArrayOutputStream written = new ByteArrayOutputStream();
    private Pipeline pipeline;
    private RecordWriter records;
    private TrackerMetrics metrics;
    private HttpServer server;
    private CaptureFileSource source;

    private void start(final int workers)
        throws IOException
    {
        records = RecordWriter.toStream(written);
        final FlowEndCounters[] ends = new FlowEndCounters[workers];
        pipeline = new Pipeline(workers, 1024, true, 1, Lifecycle.ZEEK, ZeekOptions.builder().build(),
            FlowLimits.builder().maxFlows(1000).build(), null, worker ->
            {
                final FlowRecordFormat format = new FlowRecordFormat();
                ends[worker] = new FlowEndCounters();
                return connection ->
                {
                    ends[worker].count(connection);
                    records.write(format.format(connection));
                };
            });
        source = new CaptureFileSource(List.of(SAMPLE), 0);
        metrics = new TrackerMetrics(new TrackerMetrics.Parts(pipeline, List.<PacketSource>of(source), ends, records,
            1000, pipeline::finished));
        server = HttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new HttpApi(metrics, () -> pipeline, () -> true), WebConfig.NONE);
    }

    @AfterEach
    void stop()
    {
        if (server != null)
        {
            server.close();
        }
        if (pipeline != null && !pipeline.finished())
        {
            pipeline.finish();
        }
        if (metrics != null)
        {
            metrics.close();
        }
    }

    @Test
    void shouldServeMetricsThatAgreeWithWhatWasTrackedAndWritten() throws Exception
    {
        start(2);
        source.start(pipeline::sink);
        source.awaitEnd();
        pipeline.finish(EndReason.END_OF_INPUT);
        records.close();
        final long recordCount = written.toString(StandardCharsets.UTF_8).lines().count();

        // Micrometer holds what meters read weakly: values must survive a collection.
        for (int i = 0; i < 3; i++)
        {
            System.gc();
        }
        final HttpResponse<String> scrape = get("/metrics", "text/plain");
        assertEquals(200, scrape.statusCode(), scrape.body());
        assertTrue(scrape.headers().firstValue("content-type").orElseThrow().startsWith("text/plain; version=0.0.4"));
        final Map<String, Double> samples = parse(scrape.body());
        assertEquals(pipeline.stats().frames(), samples.get("tracker_source_packets_total{source=\"pcap\"}"));
        assertEquals(pipeline.stats().tcpSegments(), sum(samples, "tracker_tcp_segments_total{"));
        assertEquals(pipeline.stats().tcpSegments(), sum(samples, "tracker_worker_segments_total{"));
        assertEquals(recordCount, sum(samples, "tracker_flows_ended_total{"));
        assertEquals(recordCount, samples.get("tracker_records_written_total{sink=\"stdout\"}"));
        assertEquals(recordCount, samples.get("tracker_flows_started_total"));
        assertEquals(0.0, sum(samples, "tracker_flows_active{"), "every connection ended");
        assertEquals(0.0, sum(samples, "tracker_endpoints_active{"));
        assertEquals(pipeline.stats().frames(), sum(samples, "tracker_decode_events_total{") -
            warnings(samples), "one outcome per frame");
        assertEquals(1.0, samples.get("tracker_input_finished"));
        // The sample's connections: 9, of which the completed handshakes have an RTT.
        final double rttCount = samples.get("tracker_tcp_handshake_rtt_seconds_count");
        assertTrue(rttCount >= 1 && rttCount <= recordCount, "rtt samples " + rttCount);
        assertEquals(rttCount, samples.get("tracker_tcp_handshake_rtt_seconds_bucket{le=\"+Inf\"}"));
        double previous = 0;
        for (final Map.Entry<String, Double> bucket : buckets(samples, "tracker_tcp_handshake_rtt_seconds_bucket"))
        {
            assertTrue(bucket.getValue() >= previous, "cumulative buckets: " + bucket.getKey());
            previous = bucket.getValue();
        }
        assertTrue(samples.containsKey("jvm_memory_used_bytes{area=\"heap\",id=\"G1 Eden Space\"}") ||
            samples.keySet().stream().anyMatch(name -> name.startsWith("jvm_memory_used_bytes")));
        assertTrue(samples.keySet().stream().noneMatch(name -> name.contains("orig_h") || name.contains("10.99.")),
            "no addresses in labels");

        final HttpResponse<String> openMetrics = get("/metrics", "application/openmetrics-text; version=1.0.0");
        assertTrue(openMetrics.headers().firstValue("content-type").orElseThrow()
            .startsWith("application/openmetrics-text"));
        assertTrue(openMetrics.body().strip().endsWith("# EOF"));
    }

    @Test
    void shouldAnswerFlowQueriesFromTheWorkersTables() throws Exception
    {
        start(3);
        // Half the capture: connections are still open.
        try (CaptureReader reader = CaptureFiles.open(SAMPLE))
        {
            reader.read(pipeline, 120);
        }
        final HttpResponse<String> top = get("/flows?limit=3&sort=bytes", null);
        assertEquals(200, top.statusCode());
        final JsonNode flows = JSON.readTree(top.body());
        assertTrue(flows.isArray() && flows.size() >= 1 && flows.size() <= 3, top.body());
        long previousBytes = Long.MAX_VALUE;
        records.flush();
        final String writtenSoFar = written.toString(StandardCharsets.UTF_8);
        for (final JsonNode flow : flows)
        {
            assertTrue(!writtenSoFar.contains(flow.get("uid").asText()), "held connections only: " + flow);
            final long bytes = flow.get("tcp").get("orig").get("payload_bytes").asLong() +
                flow.get("tcp").get("resp").get("payload_bytes").asLong();
            assertTrue(bytes <= previousBytes, "highest bytes first");
            previousBytes = bytes;
        }
        final String uid = flows.get(0).get("uid").asText();
        final HttpResponse<String> one = get("/flows/" + uid, null);
        assertEquals(200, one.statusCode());
        assertEquals(uid, JSON.readTree(one.body()).get("uid").asText());

        for (final String sort : List.of("retransmission", "duration", "rtt"))
        {
            assertEquals(200, get("/flows?sort=" + sort, null).statusCode(), sort);
        }
        assertEquals(404, get("/flows/Cnosuchuid", null).statusCode());
        assertEquals(400, get("/flows?limit=0", null).statusCode());
        assertEquals(400, get("/flows?limit=lots", null).statusCode());
        assertEquals(400, get("/flows?sort=size", null).statusCode());
        assertEquals(404, get("/nothing", null).statusCode());
        assertEquals(200, get("/health", null).statusCode());
        assertEquals(200, get("/ready", null).statusCode());
        final HttpResponse<String> post = client.send(HttpRequest.newBuilder(uri("/flows"))
            .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());

        pipeline.finish(EndReason.END_OF_INPUT);
        final HttpResponse<String> after = get("/flows", null);
        assertEquals(200, after.statusCode());
        assertEquals(0, JSON.readTree(after.body()).size(), "nothing open after the end of input");
    }

    /**
     * Clients that stall half-way through a request, flood pipelined requests without reading an answer, vanish
     * with a reset, or open more connections than the server keeps: the pipeline still tracks the whole capture
     * and a well-behaved client still gets its answers.
     */
    @Test
    void shouldKeepTrackingAndAnsweringWhileClientsStallFloodOrVanish() throws Exception
    {
        start(2);
        final List<Socket> abusers = new ArrayList<>();
        try
        {
            for (int i = 0; i < 10; i++)
            {
                final Socket stalled = connect();
                stalled.getOutputStream().write("GET /metrics HTTP/1.1\r\nHost: x\r\n".getBytes(
                    StandardCharsets.US_ASCII)); // and never the blank line that ends the request
                abusers.add(stalled);
            }
            final byte[] pipelined = ("GET /flows?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n" +
                "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n").repeat(100).getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < 3; i++)
            {
                final Socket flooding = new Socket();
                flooding.setReceiveBufferSize(4096);
                flooding.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), server.address().getPort()));
                flooding.getOutputStream().write(pipelined); // and never reads an answer
                abusers.add(flooding);
            }
            final Socket vanishing = connect();
            vanishing.getOutputStream().write("GET /flows?limit=1000 HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(
                StandardCharsets.US_ASCII));
            vanishing.setSoLinger(true, 0);
            vanishing.close(); // a reset while its answer is being made

            source.start(pipeline::sink);
            source.awaitEnd();
            pipeline.finish(EndReason.END_OF_INPUT);
            records.flush();
            assertEquals(9, written.toString(StandardCharsets.UTF_8).lines().count(), "every connection tracked");

            final HttpResponse<String> health = get("/health", null);
            assertEquals(200, health.statusCode(), health.body());
            final Map<String, Double> samples = parse(get("/metrics", "text/plain").body());
            assertEquals(9.0, samples.get("tracker_records_written_total{sink=\"stdout\"}"));

            // Connections beyond a client's share are closed as they arrive (the ten stalled ones are still open).
            for (int i = abusers.size(); i < HttpServer.MAX_CONNECTIONS_PER_CLIENT; i++)
            {
                abusers.add(connect());
            }
            final Socket beyond = connect();
            beyond.setSoTimeout(10_000);
            assertEquals(-1, beyond.getInputStream().read(), "closed by the server at once");
            beyond.close();
        }
        finally
        {
            for (final Socket abuser : abusers)
            {
                abuser.close();
            }
        }
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        HttpResponse<String> afterwards = null;
        while (System.nanoTime() < deadline)
        {
            try
            {
                afterwards = get("/health", null);
                break;
            }
            catch (final IOException e)
            {
                Thread.sleep(100); // the server has not seen the closes yet
            }
        }
        assertTrue(afterwards != null && afterwards.statusCode() == 200, "served again once the clients left");
    }

    private Socket connect() throws IOException
    {
        return new Socket(InetAddress.getLoopbackAddress(), server.address().getPort());
    }

    private HttpResponse<String> get(final String path, final String accept) throws Exception
    {
        final HttpRequest.Builder request = HttpRequest.newBuilder(uri(path)).GET();
        if (accept != null)
        {
            request.header("Accept", accept);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(final String path)
    {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    }

    private static final Pattern SAMPLE_LINE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\\{[^}]*})?) (\\S+)$");

    /** Sample name with labels (as exposed) to value. */
    static Map<String, Double> parse(final String exposition)
    {
        final Map<String, Double> samples = new HashMap<>();
        for (final String line : exposition.lines().toList())
        {
            final Matcher m = SAMPLE_LINE.matcher(line);
            if (!line.startsWith("#") && m.matches())
            {
                samples.put(m.group(1), Double.parseDouble(m.group(2)));
            }
        }
        return samples;
    }

    private static double sum(final Map<String, Double> samples, final String prefix)
    {
        return samples.entrySet().stream().filter(e -> e.getKey().startsWith(prefix))
            .mapToDouble(Map.Entry::getValue).sum();
    }

    private static double warnings(final Map<String, Double> samples)
    {
        return sum(samples, "tracker_decode_events_total{") - samples.entrySet().stream()
            .filter(e -> e.getKey().startsWith("tracker_decode_events_total{") && !e.getKey().contains("warning"))
            .mapToDouble(Map.Entry::getValue).sum();
    }

    private static List<Map.Entry<String, Double>> buckets(final Map<String, Double> samples, final String name)
    {
        final List<Map.Entry<String, Double>> buckets = new ArrayList<>();
        samples.entrySet().stream().filter(e -> e.getKey().startsWith(name + "{"))
            .sorted((a, b) -> Double.compare(bound(a.getKey()), bound(b.getKey()))).forEach(buckets::add);
        return buckets;
    }

    private static double bound(final String sample)
    {
        final Matcher m = Pattern.compile("le=\"([^\"]+)\"").matcher(sample);
        if (!m.find())
        {
            return Double.NaN;
        }
        return m.group(1).equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(m.group(1));
    }
}
