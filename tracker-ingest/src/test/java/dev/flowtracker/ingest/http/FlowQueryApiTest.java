package dev.flowtracker.ingest.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.source.file.CaptureFiles;
import dev.flowtracker.ingest.source.file.CaptureReader;
import dev.flowtracker.ingest.source.file.PcapTestWriter;
import dev.flowtracker.ingest.source.file.TestFrames;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.output.RecordFields;
import dev.flowtracker.ingest.pipeline.Pipeline;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /flows} as a query API over a real pipeline: each filter keeps exactly the connections it names, each sort
 * ranks as documented in either order, bad parameters are refused with a 400 naming them, and records of
 * connections that ended stay answerable (by uid and with {@code ended=true}) within the ring's bound.
 */
class FlowQueryApiTest
{
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int BULK = QueryCapture.BULK_PORT;
    private static final int LOSSY = QueryCapture.LOSSY_PORT;
    private static final int SLOW = QueryCapture.SLOW_PORT;
    private static final int REJECTED = QueryCapture.REJECTED_PORT;
    private static final int UNANSWERED = QueryCapture.UNANSWERED_PORT;

    private final HttpClient client = HttpClient.newHttpClient();
    /** Records written (ended connections) in order: uid to record. */
    private final ConcurrentLinkedQueue<String> written = new ConcurrentLinkedQueue<>();
    private Pipeline pipeline;
    private HttpServer server;

    private void start(final int workers) throws IOException
    {
        pipeline = new Pipeline(workers, 1024, true, 1, Lifecycle.ZEEK, ZeekOptions.builder().build(),
            FlowLimits.builder().maxFlows(100_000).build(), null, new RecordFields(0, "tap-a"), worker ->
            {
                final FlowRecordFormat format = new FlowRecordFormat(new RecordFields(0, "tap-a"));
                return connection -> written.add(format.format(connection).toString());
            });
        server = HttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new HttpApi(null, () -> pipeline, () -> true), WebConfig.NONE);
    }

    private void read(final Path capture, final int limit) throws IOException
    {
        try (CaptureReader reader = CaptureFiles.open(capture))
        {
            reader.read(pipeline, limit);
        }
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
    }

    @Test
    void shouldKeepOnlyTheConnectionsEachFilterNames(@TempDir final Path dir) throws Exception
    {
        start(3);
        read(QueryCapture.write(dir.resolve("query.pcap"), 0), Integer.MAX_VALUE);
        assertEquals(List.of(), written.stream().toList(), "every connection of the capture is still active");
        // Without a sort here: by their last packet, oldest first (see assertPorts).
        assertPorts("", BULK, REJECTED, UNANSWERED, LOSSY, SLOW);
        assertPorts("host=10.0.0.2", LOSSY);
        assertPorts("host=" + QueryCapture.SERVER, BULK, REJECTED, UNANSWERED, LOSSY, SLOW);
        assertPorts("host=10.0.0.6");
        assertPorts("host=::ffff:10.0.0.2", LOSSY); // an IPv4-mapped literal is the IPv4 address
        assertPorts("host=fd00::2");
        assertPorts("net=10.1.0.0/16", SLOW);
        assertPorts("net=10.0.0.0/29", BULK, REJECTED, UNANSWERED, LOSSY); // the server, .9, is outside
        assertPorts("net=10.0.0.4/31", REJECTED, UNANSWERED);
        assertPorts("net=10.0.0.9/32&port=22", UNANSWERED);
        assertPorts("net=0.0.0.0/0&limit=2&sort=bytes", BULK, LOSSY);
        assertPorts("net=fd00::/8");
        assertPorts("port=443", LOSSY);
        assertPorts("port=" + BULK, BULK);
        assertPorts("conn_state=REJ", REJECTED);
        assertPorts("conn_state=S0", UNANSWERED);
        assertPorts("conn_state=SF");
        assertPorts("flag=retransmission&sort=packets", BULK, LOSSY);
        assertPorts("flag=retransmission&min=3", BULK);
        assertPorts("flag=retransmission&min=0&port=443", LOSSY);
        assertPorts("flag=zero_window");
        assertPorts("tap=tap-a&port=80", BULK);
        assertPorts("tap=tap-b");
        assertPorts("host=10.0.0.1&port=443");
        // The records say what the filters matched.
        final JsonNode lossy = flows("port=443").get(0);
        assertEquals("tap-a", lossy.get("tap").asText());
        assertEquals(2, lossy.get("tcp").get("orig").get("analysis").get("retransmission").asInt());
        assertEquals("REJ", flows("port=9").get(0).get("conn_state").asText());
    }

    @Test
    void shouldRankByRatioNotCountAndByDataPathRtt(@TempDir final Path dir) throws Exception
    {
        start(2);
        read(QueryCapture.write(dir.resolve("query.pcap"), 0), Integer.MAX_VALUE);
        // Four retransmissions in 207 packets rank below two in 13; the raw count ranks the other way.
        assertPorts("sort=retransmission_ratio&limit=2", LOSSY, BULK);
        assertPorts("sort=retransmission&limit=2", BULK, LOSSY);
        // The slow server's 200 ms ACK is the largest data-path RTT, the refused SYN's 0.1 ms the smallest; the
        // unanswered SYN has none and comes last in either order.
        final List<Integer> descending = ports(flows("sort=rtt_max"));
        assertEquals(List.of(SLOW, UNANSWERED), List.of(descending.get(0), descending.get(4)), "" + descending);
        final List<Integer> ascending = ports(flows("sort=rtt_max&order=asc"));
        assertEquals(List.of(REJECTED, SLOW, UNANSWERED), List.of(ascending.get(0), ascending.get(3),
            ascending.get(4)), "" + ascending);
        assertEquals(UNANSWERED, ports(flows("sort=rtt")).get(4), "no handshake RTT: last");
        assertEquals(UNANSWERED, ports(flows("sort=rtt&order=asc")).get(4), "no handshake RTT: last");
        assertPorts("sort=packets", BULK, LOSSY, SLOW, REJECTED, UNANSWERED);
        assertPorts("sort=packets&order=asc", UNANSWERED, REJECTED, SLOW, LOSSY, BULK);
        assertPorts("sort=duration&limit=1", SLOW);
        assertPorts("sort=recent", SLOW, LOSSY, UNANSWERED, REJECTED, BULK);
        assertPorts("sort=bytes&limit=3", BULK, LOSSY, SLOW);
    }

    @Test
    void shouldRefuseUnknownOrMalformedParametersNamingThem() throws Exception
    {
        start(1);
        final Map<String, String> refused = Map.ofEntries(
            Map.entry("/flows?hots=10.0.0.1", "hots"),
            Map.entry("/flows?host=10.0.0", "host"),
            Map.entry("/flows?host=example.org", "host"),
            Map.entry("/flows?host=fe80::1%25eth0", "host"),
            Map.entry("/flows?net=10.0.0.0", "net"),
            Map.entry("/flows?net=10.0.0.0/33", "net"),
            Map.entry("/flows?net=fd00::/129", "net"),
            Map.entry("/flows?net=10.0.0.0/x", "net"),
            Map.entry("/flows?port=65536", "port"),
            Map.entry("/flows?port=-1", "port"),
            Map.entry("/flows?conn_state=XX", "conn_state"),
            Map.entry("/flows?conn_state=sf", "conn_state"),
            Map.entry("/flows?flag=retransmissions", "flag"),
            Map.entry("/flows?min=2", "min"),
            Map.entry("/flows?flag=retransmission&min=-1", "min"),
            Map.entry("/flows?tap=a%20b", "tap"),
            Map.entry("/flows?order=up", "order"),
            Map.entry("/flows?ended=yes", "ended"),
            Map.entry("/flows?sort=size", "sort"),
            Map.entry("/flows?limit=0", "limit"),
            Map.entry("/flows?limit=1001", "limit"),
            Map.entry("/flows/Cabc?sort=bytes", "sort"));
        for (final Map.Entry<String, String> request : refused.entrySet())
        {
            final HttpResponse<String> answer = get(request.getKey());
            assertEquals(400, answer.statusCode(), request.getKey() + ": " + answer.body());
            assertEquals("application/json", answer.headers().firstValue("content-type").orElseThrow());
            final JsonNode body = JSON.readTree(answer.body());
            assertEquals(request.getValue(), body.get("parameter").asText(), request.getKey());
            assertTrue(body.get("error").asText().contains(request.getValue()), answer.body());
        }
        final HttpResponse<String> post = client.send(HttpRequest.newBuilder(uri("/flows"))
            .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("application/json", post.headers().firstValue("content-type").orElseThrow());
        assertTrue(JSON.readTree(post.body()).get("error").asText().contains("POST"), post.body());
        assertEquals("GET, HEAD", post.headers().firstValue("allow").orElseThrow());
        try (Socket raw = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort()))
        {
            raw.getOutputStream().write("GET /flows?host=%ZZ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
            final String answer = new String(raw.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
            assertTrue(answer.startsWith("HTTP/1.1 400"), answer);
            assertTrue(answer.contains("application/json") && answer.contains("{\"error\":"), answer);
        }
    }

    @Test
    void shouldAnswerByUidForConnectionsThatEndedWhileRunning(@TempDir final Path dir) throws Exception
    {
        start(2);
        // Ten more seconds of the slow connection: the refused and the unanswered SYN end, the rest stay.
        read(QueryCapture.write(dir.resolve("query.pcap"), 10), Integer.MAX_VALUE);
        awaitTracked();
        // A worker ends a flow when its packet clock passes the flow's timer, which may be on a frame of the other
        // shard that it reads after the last segment of its own: wait for the records, bounded.
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (written.size() < 2 && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        final List<String> endedSoFar = List.copyOf(written);
        assertEquals(2, endedSoFar.size(), "" + endedSoFar);
        for (final String record : endedSoFar)
        {
            final String uid = JSON.readTree(record).get("uid").asText();
            final HttpResponse<String> one = get("/flows/" + uid);
            assertEquals(200, one.statusCode(), uid);
            assertEquals(record, one.body().strip(), "the record as the sinks got it");
            assertTrue(uids(flows("")).stream().noneMatch(uid::equals), "not active any more: " + uid);
        }
        assertPorts("ended=true", REJECTED, UNANSWERED);
        assertPorts("ended=true&conn_state=S0", UNANSWERED);
        assertPorts("", BULK, LOSSY, SLOW);
        final String activeUid = flows("port=443").get(0).get("uid").asText();
        assertEquals(activeUid, JSON.readTree(get("/flows/" + activeUid).body()).get("uid").asText());
    }

    @Test
    void shouldListEndedRecordsWithFiltersAfterTheInputEnded() throws Exception
    {
        start(2);
        read(SAMPLE, Integer.MAX_VALUE);
        awaitTracked();
        pipeline.finish(EndReason.END_OF_INPUT);
        assertEquals(9, written.size());
        assertEquals(0, flows("").size(), "nothing active after the end of input");
        final JsonNode ended = flows("ended=true&limit=1000");
        assertEquals(uidsOf(written), Set.copyOf(uids(ended)));
        for (final JsonNode record : ended)
        {
            assertTrue(record.get("tcp").get("end_reason").isTextual(), record.toString());
        }
        assertEquals(2, flows("ended=true&host=fd99::1").size());
        assertEquals(2, flows("ended=true&net=fd99::/64&port=8080").size());
        assertEquals(2, flows("ended=true&net=fd99::2/128").size());
        assertEquals(2, flows("ended=true&net=fd99::3/127").size());
        assertEquals(0, flows("ended=true&net=fd99::4/126").size());
        assertEquals(0, flows("ended=true&host=10.99.0.1&net=fd99::/16").size());
        assertEquals(7, flows("ended=true&net=10.99.0.0/24").size());
        assertEquals(List.of(9), ports(flows("ended=true&conn_state=REJ"), "id.resp_p"));
        assertEquals(List.of(8083), ports(flows("ended=true&sort=bytes&limit=1"), "id.resp_p"));
        assertEquals(List.of(8083), ports(flows("ended=true&sort=packets&order=desc&limit=1"), "id.resp_p"));
        assertEquals(0, flows("ended=true&tap=tap-b").size());
        for (final String record : written)
        {
            final String uid = JSON.readTree(record).get("uid").asText();
            assertEquals(record, get("/flows/" + uid).body().strip());
        }
        assertEquals(404, get("/flows/Cnosuchuid").statusCode());
    }

    @Test
    void shouldKeepOnlyTheMostRecentTenThousandRecords(@TempDir final Path dir) throws Exception
    {
        start(1);
        // Refused connections, one every 10 ms: each ends 5 s of packet time after its RST, in order.
        final int connections = 12_000;
        final PcapTestWriter pcap = PcapTestWriter.ethernet();
        for (int i = 0; i < connections; i++)
        {
            final int client = 0x0A02_0000 + i;
            final long micros = 10_000L * i;
            pcap.record(1_800_000_000L + micros / 1_000_000, micros % 1_000_000, QueryCapture.withTcpChecksum(
                TestFrames.tcp(client, 0x0A00_0009, 20_000 + i, 9, 7000, 0, TestFrames.SYN, new byte[0])));
            pcap.record(1_800_000_000L + micros / 1_000_000, micros % 1_000_000 + 100, QueryCapture.withTcpChecksum(
                TestFrames.tcp(0x0A00_0009, client, 9, 20_000 + i, 0, 7001, TestFrames.RST | TestFrames.ACK,
                    new byte[0])));
        }
        read(pcap.writeTo(dir.resolve("refused.pcap")), Integer.MAX_VALUE);
        awaitTracked();
        pipeline.finish(EndReason.END_OF_INPUT);
        assertEquals(connections, written.size());
        final List<String> all = List.copyOf(written);
        final int kept = 10_000; // one worker: the whole process's share
        final List<Integer> oldest = ports(flows("ended=true&sort=recent&order=asc&limit=3"), "id.orig_p");
        assertEquals(List.of(20_000 + connections - kept, 20_001 + connections - kept, 20_002 + connections - kept),
            oldest, "the ring keeps the last " + kept);
        final List<Integer> newest = ports(flows("ended=true&sort=recent&limit=1"), "id.orig_p");
        assertEquals(List.of(20_000 + connections - 1), newest);
        assertEquals(404, get("/flows/" + JSON.readTree(all.get(0)).get("uid").asText()).statusCode(),
            "dropped from the ring");
        assertEquals(200, get("/flows/" + JSON.readTree(all.get(connections - kept)).get("uid").asText())
            .statusCode());
        assertEquals(1000, flows("ended=true&limit=1000&port=9").size());
    }

    /** Asserts the originator ports {@code /flows?query} lists (by last packet, oldest first, unless it sorts). */
    private void assertPorts(final String query, final int... originatorPorts) throws Exception
    {
        awaitTracked();
        if (!query.contains("sort="))
        {
            assertPorts(query + (query.isEmpty() ? "" : "&") + "sort=recent&order=asc", originatorPorts);
            return;
        }
        final List<Integer> expected = new ArrayList<>();
        for (final int port : originatorPorts)
        {
            expected.add(port);
        }
        assertEquals(expected, ports(flows(query)), query);
    }

    /** Waits until the workers have tracked every segment read: queries then see all of them. */
    private void awaitTracked() throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (pipeline.totals().segments() < pipeline.stats().tcpSegments() && System.nanoTime() < deadline)
        {
            Thread.sleep(10);
        }
        assertEquals(pipeline.stats().tcpSegments(), pipeline.totals().segments(), "the workers tracked all");
    }

    private JsonNode flows(final String query) throws Exception
    {
        final HttpResponse<String> answer = get("/flows?" + query);
        assertEquals(200, answer.statusCode(), query + ": " + answer.body());
        final JsonNode flows = JSON.readTree(answer.body());
        assertTrue(flows.isArray(), answer.body());
        return flows;
    }

    private static List<Integer> ports(final JsonNode flows)
    {
        return ports(flows, "id.orig_p");
    }

    private static List<Integer> ports(final JsonNode flows, final String field)
    {
        final List<Integer> ports = new ArrayList<>();
        flows.forEach(flow -> ports.add(flow.get(field).asInt()));
        return ports;
    }

    private static List<String> uids(final JsonNode flows)
    {
        final List<String> uids = new ArrayList<>();
        flows.forEach(flow -> uids.add(flow.get("uid").asText()));
        return uids;
    }

    private static Set<String> uidsOf(final Iterable<String> records) throws IOException
    {
        final Set<String> uids = ConcurrentHashMap.newKeySet();
        for (final String record : records)
        {
            uids.add(JSON.readTree(record).get("uid").asText());
        }
        return uids;
    }

    private HttpResponse<String> get(final String path) throws Exception
    {
        return client.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(final String path)
    {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    }
}
