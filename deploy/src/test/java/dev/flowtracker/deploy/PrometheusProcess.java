package dev.flowtracker.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real Prometheus on a free loopback port, with deploy/prometheus/prometheus.yml's configuration made quick:
 * the tracker job scrapes {@code target} every second and the rule files (absolute paths to the repository's)
 * are evaluated every second. Its HTTP API answers queries. Owned by the test thread.
 */
final class PrometheusProcess implements AutoCloseable
{
    static final String JOB = "tracker";
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

    private final Process process;
    private final Path log;
    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(REQUEST_TIMEOUT).build();

    private PrometheusProcess(final Process process, final Path log, final URI base)
    {
        this.process = process;
        this.log = log;
        this.base = base;
    }

    /** Writes the configuration into {@code dir}, starts Prometheus and waits until it is ready. */
    static PrometheusProcess start(final Path binary, final Path dir, final String target, final Duration timeout)
        throws IOException, InterruptedException
    {
        Files.createDirectories(dir);
        final Path config = dir.resolve("prometheus.yml");
        DeployFiles.YAML.writeValue(config.toFile(), quickConfig(target));
        final int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress()))
        {
            port = socket.getLocalPort();
        }
        final Path log = dir.resolve("prometheus.log");
        final Process process = new ProcessBuilder(List.of(binary.toString(), "--config.file=" + config,
            "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port,
            "--log.level=warn")).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        final PrometheusProcess prometheus = new PrometheusProcess(process, log,
            URI.create("http://127.0.0.1:" + port));
        try
        {
            prometheus.awaitReady(timeout);
            return prometheus;
        }
        catch (final IOException | InterruptedException | RuntimeException e)
        {
            prometheus.close();
            throw e;
        }
    }

    /** deploy/prometheus/prometheus.yml with the target, 1 s intervals and absolute rule file paths. */
    static ObjectNode quickConfig(final String target)
    {
        final Path main = DeployFiles.deploy("prometheus/prometheus.yml");
        final ObjectNode config = (ObjectNode) DeployFiles.yaml(main);
        ((ObjectNode) config.get("global")).put("scrape_interval", "1s").put("evaluation_interval", "1s");
        final ArrayNode rules = config.putArray("rule_files");
        DeployFiles.yaml(main).path("rule_files")
            .forEach(f -> rules.add(main.getParent().resolve(f.asText()).toAbsolutePath().toString()));
        int jobs = 0;
        for (final JsonNode scrape : config.path("scrape_configs"))
        {
            if (JOB.equals(scrape.path("job_name").asText()))
            {
                jobs++;
                final ObjectNode job = (ObjectNode) scrape;
                job.put("scrape_interval", "1s").put("scrape_timeout", "1s");
                job.putArray("static_configs").addObject().putArray("targets").add(target);
            }
        }
        if (jobs != 1)
        {
            throw new IllegalStateException(main + " should have one scrape job '" + JOB + "', has " + jobs);
        }
        return config;
    }

    private void awaitReady(final Duration timeout) throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline)
        {
            if (!process.isAlive())
            {
                throw new IllegalStateException("prometheus exited with " + process.exitValue() + ":\n" + log());
            }
            try
            {
                final HttpResponse<String> ready = http.send(HttpRequest.newBuilder(base.resolve("/-/ready"))
                    .timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
                if (ready.statusCode() == 200)
                {
                    return;
                }
            }
            catch (final IOException notYet)
            {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("prometheus not ready within " + timeout + ":\n" + log());
    }

    /** The API's answer to an instant query now (status, data or error), whatever the HTTP status. */
    JsonNode query(final String promql) throws IOException, InterruptedException
    {
        return get("/api/v1/query?query=" + URLEncoder.encode(promql, StandardCharsets.UTF_8));
    }

    /** Every metric name Prometheus has series for. */
    JsonNode metricNames() throws IOException, InterruptedException
    {
        return get("/api/v1/label/__name__/values").path("data");
    }

    /** Every value the label has in some series. */
    JsonNode labelValues(final String label) throws IOException, InterruptedException
    {
        return get("/api/v1/label/" + URLEncoder.encode(label, StandardCharsets.UTF_8) + "/values").path("data");
    }

    private JsonNode get(final String pathAndQuery) throws IOException, InterruptedException
    {
        final HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        return DeployFiles.JSON.readTree(response.body());
    }

    /** Whether a successful query answer holds at least one sample (a scalar or string always does). */
    static boolean hasData(final JsonNode answer)
    {
        final JsonNode data = answer.path("data");
        return switch (data.path("resultType").asText())
        {
            case "vector", "matrix" -> !data.path("result").isEmpty();
            case "scalar", "string" -> true;
            default -> false;
        };
    }

    String log()
    {
        try
        {
            return Files.readString(log);
        }
        catch (final IOException e)
        {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    /** SIGTERM, then SIGKILL if it has not stopped within 30 s. */
    @Override
    public void close()
    {
        process.destroy();
        try
        {
            if (!process.waitFor(30, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException e)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
