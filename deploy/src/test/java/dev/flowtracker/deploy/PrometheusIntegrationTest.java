package dev.flowtracker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import dev.flowtracker.ingest.source.afpacket.AfPacket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: a real tracker replays a capture and keeps serving, a real Prometheus scrapes it with
 * deploy/prometheus's configuration and rules, and every PromQL expression the deployment uses must return data:
 *
 * <ul>
 *   <li>every target of every Grafana panel, with Grafana's variables given values ({@code $__rate_interval} 10s,
 *       {@code $__interval} 5s, {@code $__range} 2m, {@code $job} tracker, {@code $instance} the tracker's address,
 *       a custom variable all its options), and every {@code label_values} variable query (as
 *       {@code count by (label) (query)});</li>
 *   <li>every recording rule's expression, and the series it records (so Prometheus really evaluates it);</li>
 *   <li>every alert: a healthy daemon rightly fires none, so the whole expression must only be valid, and each
 *       operand of its top-level {@code and} and comparisons ({@link PromQl#alertOperands}) must return data. The
 *       alerts are written to allow this: thresholds on series, joined by {@code and}.</li>
 * </ul>
 *
 * <p>Each expression is retried once a second until it returns data or 60 s have passed since Prometheus was
 * ready; the failure lists every expression without data, and the metric names they use that Prometheus has never
 * seen. Skipped when {@code prometheus} is not installed (.ci/run installs Debian's package).
 *
 * <p>One exception, printed on every run: the AF_PACKET kernel statistics ({@link #LIVE_CAPTURE_ONLY}) exist only
 * while capturing on an interface, which a replay does not; an expression that uses nothing but them must be valid
 * here, and {@link #shouldReturnDataForKernelCaptureExpressionsWhileCapturingOnLoopback} requires their data from
 * a tracker capturing on {@code lo}. Every other metric, whatever the source, must be there.
 */
class PrometheusIntegrationTest
{
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration DATA_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    /** Linux's capability number for raw and packet sockets. */
    private static final int CAP_NET_RAW = 13;
    /** An equality or regex label matcher whose value is literal words, or an alternation of them. */
    private static final Pattern LITERAL_MATCHER =
        Pattern.compile("\\b([a-z_]+)\\s*=~?\\s*\"\\(?([A-Za-z0-9_.:]+(?:\\|[A-Za-z0-9_.:]+)*)\\)?\"");
    private static final Pattern METRIC_NAME =
        Pattern.compile("\\b((?:tracker|jvm|process|system)_[a-z0-9_]+|tracker:[a-z0-9_:]+|up)\\b(?!\\s*\\()");

    /**
     * docs/metrics.md's metrics that only a live AF_PACKET capture serves (one series per interface): a replay
     * has none. {@link #shouldListOnlyCatalogueMetricsAsLiveCaptureOnly} keeps the names in step with the catalogue.
     */
    static final Set<String> LIVE_CAPTURE_ONLY = Set.of("tracker_capture_kernel_packets_total",
        "tracker_capture_kernel_packets_dropped_total", "tracker_capture_kernel_freezes_total",
        "tracker_capture_checksums_unverified_total");

    /** Grafana's global variables, at values that suit a 1 s scrape interval. */
    private static final Map<String, String> GRAFANA_GLOBALS =
        Map.of("__rate_interval", "10s", "__interval", "5s", "__range", "2m");

    private static List<Path> captures()
    {
        final Path sample = DeployFiles.root().resolve("samples/sample.pcap");
        assertTrue(Files.isRegularFile(sample), "the bundled capture " + sample);
        return List.of(sample);
    }

    /** A single-node KRaft broker in this JVM, ready: the tracker's Kafka sink delivers to it. */
    private static KafkaClusterTestKit kafkaBroker() throws Exception
    {
        final KafkaClusterTestKit cluster = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
            .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build()).build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return cluster;
    }

    /** The broker, closed as a resource whose close throws nothing checked. */
    private record KafkaBroker(KafkaClusterTestKit cluster) implements AutoCloseable
    {
        @Override
        public void close()
        {
            try
            {
                cluster.close();
            }
            catch (final Exception e)
            {
                throw new IllegalStateException("closing the Kafka broker", e);
            }
        }
    }

    /** The replay's sources, and a Kafka sink beside the file, so that every Kafka expression has data. */
    private static List<String> withKafka(final List<Path> captures, final KafkaClusterTestKit kafka)
    {
        final List<String> sources = new ArrayList<>();
        for (final Path capture : captures)
        {
            sources.addAll(List.of("--pcap", capture.toString()));
        }
        sources.addAll(List.of("--kafka-bootstrap", kafka.bootstrapServers(), "--kafka-topic", "deploy.conn"));
        return sources;
    }

    @Test
    void shouldReturnDataForEveryDashboardRuleAndAlertExpression(@TempDir final Path dir)
        throws Exception
    {
        final Path binary = Tools.onPath("prometheus").orElseGet(() -> Assumptions.abort(
            "skipped: prometheus is not installed (apt-get install prometheus; .ci/run does), so the dashboards' " +
            "and rules' expressions are not evaluated against a running tracker"));
        final Map<String, String> failures = new LinkedHashMap<>();
        final Map<String, String> checks;
        final String trackerLog;
        final int exitStatus;
        final boolean servedAfterInput;
        final Set<String> missingMetrics = new TreeSet<>();
        final Map<String, String> liveOnly = new LinkedHashMap<>();
        try (KafkaBroker kafka = new KafkaBroker(kafkaBroker());
             TrackerProcess tracker = TrackerProcess.startWithSources(dir.resolve("tracker"),
                 withKafka(captures(), kafka.cluster()), START_TIMEOUT);
             PrometheusProcess prometheus =
                 PrometheusProcess.start(binary, dir.resolve("prometheus"), tracker.address(), START_TIMEOUT))
        {
            checks = expressionsToCheck(tracker.address());
            for (final String label : List.copyOf(checks.keySet()))
            {
                if (usesOnlyLiveCaptureMetrics(checks.get(label)))
                {
                    liveOnly.put(label, checks.remove(label));
                }
            }
            final Map<String, String> invalid = new LinkedHashMap<>(alertExpressionsThatFail(prometheus));
            invalid.putAll(expressionsThatFail(prometheus, liveOnly));
            failures.putAll(invalid);
            failures.putAll(awaitData(prometheus, checks));
            failures.putAll(unknownLabelValues(prometheus, checks));
            if (!failures.isEmpty())
            {
                final Set<String> known = new HashSet<>();
                prometheus.metricNames().forEach(n -> known.add(n.asText()));
                for (final String label : failures.keySet())
                {
                    final Matcher names = METRIC_NAME.matcher(checks.getOrDefault(label, label));
                    while (names.find())
                    {
                        if (!known.contains(names.group(1)))
                        {
                            missingMetrics.add(names.group(1));
                        }
                    }
                }
            }
            servedAfterInput = tracker.isAlive() && tracker.stderr().contains("input finished; still serving HTTP");
            exitStatus = tracker.stop(STOP_TIMEOUT);
            trackerLog = tracker.stderr();
        }
        System.out.println("PrometheusIntegrationTest: " + checks.size() + " expressions required to return data " +
            categories(checks.keySet()) + ", " + PrometheusRulesTest.alertRules().size() +
            " whole alert expressions required to be valid; problems: " + failures.size() +
            (missingMetrics.isEmpty() ? "" : "; metric names Prometheus never saw: " + missingMetrics) +
            "; not checkable by a replay (AF_PACKET statistics, only checked valid): " + liveOnly.size() + " " +
            liveOnly.keySet());
        final StringBuilder report = new StringBuilder();
        failures.forEach((label, why) -> report.append("\n  ").append(label).append(": ").append(why)
            .append("\n      ").append(checks.getOrDefault(label, liveOnly.getOrDefault(label, ""))));
        assertTrue(failures.isEmpty(), failures.size() + " of " + checks.size() + " expressions returned no data" +
            " (metric names Prometheus never saw: " + missingMetrics + "):" + report + "\ntracker stderr:\n" +
            trackerLog);
        assertTrue(servedAfterInput, "the tracker keeps serving after the end of its input (no --exit-at-end)");
        assertEquals(143, exitStatus, "tracker run stops on SIGTERM:\n" + trackerLog);
    }

    /**
     * The expressions the replay cannot check: a tracker capturing on {@code lo} with AF_PACKET (Prometheus's own
     * scrapes of it are the traffic) must give every one of them data. Needs CAP_NET_RAW; skipped without it.
     */
    @Test
    void shouldReturnDataForKernelCaptureExpressionsWhileCapturingOnLoopback(@TempDir final Path dir)
        throws IOException, InterruptedException
    {
        final Path binary = Tools.onPath("prometheus").orElseGet(() -> Assumptions.abort(
            "skipped: prometheus is not installed (apt-get install prometheus; .ci/run does)"));
        Assumptions.assumeTrue(AfPacket.isAvailable(), () -> "skipped: no AF_PACKET capture here: " +
            AfPacket.unavailabilityCause().getMessage());
        Assumptions.assumeTrue(hasEffectiveCapability(CAP_NET_RAW),
            "skipped: capturing on lo needs CAP_NET_RAW (run the tests as root; CI does)");
        final Map<String, String> liveOnly = new LinkedHashMap<>();
        final Map<String, String> failures;
        final String trackerLog;
        try (TrackerProcess tracker = TrackerProcess.startWithSources(
                 dir.resolve("tracker"), List.of("--interface", "lo"), START_TIMEOUT);
             PrometheusProcess prometheus =
                 PrometheusProcess.start(binary, dir.resolve("prometheus"), tracker.address(), START_TIMEOUT))
        {
            expressionsToCheck(tracker.address()).forEach((label, expr) ->
            {
                if (usesOnlyLiveCaptureMetrics(expr))
                {
                    liveOnly.put(label, expr);
                }
            });
            failures = awaitData(prometheus, liveOnly);
            failures.putAll(unknownLabelValues(prometheus, liveOnly));
            trackerLog = tracker.stderr();
            tracker.stop(STOP_TIMEOUT);
        }
        System.out.println("PrometheusIntegrationTest: capturing on lo, " + liveOnly.size() +
            " AF_PACKET-only expressions required to return data: " + liveOnly.keySet() + "; problems: " +
            failures.size());
        assertTrue(!liveOnly.isEmpty(), "the dashboards use the AF_PACKET statistics " + LIVE_CAPTURE_ONLY);
        final StringBuilder report = new StringBuilder();
        failures.forEach((label, why) -> report.append("\n  ").append(label).append(": ").append(why)
            .append("\n      ").append(liveOnly.get(label)));
        assertTrue(failures.isEmpty(), failures.size() + " of " + liveOnly.size() +
            " AF_PACKET expressions returned no data while capturing on lo:" + report + "\ntracker stderr:\n" +
            trackerLog);
    }

    /** Whether this process has {@code capability} in its effective set (/proc/self/status, CapEff). */
    private static boolean hasEffectiveCapability(final int capability) throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
        {
            if (line.startsWith("CapEff:"))
            {
                final long effective = Long.parseUnsignedLong(line.substring("CapEff:".length()).trim(), 16);
                return (effective & (1L << capability)) != 0;
            }
        }
        return false;
    }

    /** How many of the labels are of each kind (dashboard targets, variable queries, rules, alert operands). */
    private static Map<String, Integer> categories(final Set<String> labels)
    {
        final Map<String, Integer> counts = new LinkedHashMap<>();
        for (final String label : labels)
        {
            final String kind = label.contains(" variable $") ? "dashboard variables" :
                label.contains(".json panel ") ? "dashboard targets" :
                label.startsWith("recording rule ") ? "recording rules" :
                label.startsWith("recorded series ") ? "recorded series" : "alert operands";
            counts.merge(kind, 1, Integer::sum);
        }
        return counts;
    }

    @Test
    void shouldListOnlyCatalogueMetricsAsLiveCaptureOnly()
    {
        final String catalogue = DeployFiles.read(DeployFiles.root().resolve("docs/metrics.md"));
        for (final String metric : LIVE_CAPTURE_ONLY)
        {
            assertTrue(catalogue.contains("| `" + metric + "` | counter | `interface` | AF_PACKET"),
                metric + " is an AF_PACKET statistic in docs/metrics.md");
        }
    }

    private static boolean usesOnlyLiveCaptureMetrics(final String expr)
    {
        final Matcher names = METRIC_NAME.matcher(expr);
        boolean any = false;
        while (names.find())
        {
            if (!LIVE_CAPTURE_ONLY.contains(names.group(1)))
            {
                return false;
            }
            any = true;
        }
        return any;
    }

    /** Label (where the expression is) to PromQL, in a stable order. */
    private static Map<String, String> expressionsToCheck(final String instance)
    {
        final Map<String, String> checks = new LinkedHashMap<>();
        for (final Dashboards.Dashboard dashboard : Dashboards.all())
        {
            final Map<String, String> values = variableValues(dashboard, instance);
            for (final Dashboards.Query query : Dashboards.variableQueries(dashboard))
            {
                checks.put(query.where(), PromQl.substitute(PromQl.labelValuesAsPromQl(query.expr()).orElseThrow(() ->
                    new IllegalArgumentException(query.where() + ": only label_values(...) queries are supported: " +
                        query.expr())), values));
            }
            for (final Dashboards.Query query : Dashboards.targetQueries(dashboard))
            {
                checks.put(query.where(), PromQl.substitute(query.expr(), values));
            }
        }
        for (final JsonNode rule : PrometheusRulesTest.recordingRules())
        {
            final String record = rule.path("record").asText();
            checks.put("recording rule " + record, rule.path("expr").asText().trim());
            checks.put("recorded series " + record, record);
        }
        for (final JsonNode rule : PrometheusRulesTest.alertRules())
        {
            final List<String> operands = PromQl.alertOperands(rule.path("expr").asText());
            for (int i = 0; i < operands.size(); i++)
            {
                checks.put("alert " + rule.path("alert").asText() + " operand " + (i + 1), operands.get(i));
            }
        }
        return checks;
    }

    /** Values for a dashboard's variables: Grafana's globals, the job, the instance, custom variables' options. */
    private static Map<String, String> variableValues(final Dashboards.Dashboard dashboard, final String instance)
    {
        final Map<String, String> values = new HashMap<>(GRAFANA_GLOBALS);
        for (final JsonNode variable : Dashboards.variables(dashboard).values())
        {
            final String name = variable.path("name").asText();
            switch (variable.path("type").asText())
            {
                case "datasource" -> values.put(name, "unused");
                case "custom" ->
                {
                    final List<String> options = new ArrayList<>();
                    for (final JsonNode option : variable.path("options"))
                    {
                        if (!"$__all".equals(option.path("value").asText()))
                        {
                            options.add(option.path("value").asText());
                        }
                    }
                    values.put(name, "(" + String.join("|", options) + ")");
                }
                case "query" ->
                {
                    if ("job".equals(name))
                    {
                        values.put(name, PrometheusProcess.JOB);
                    }
                    else if ("instance".equals(name))
                    {
                        values.put(name, instance);
                    }
                    else
                    {
                        throw new IllegalArgumentException(dashboard.name() + ": give the query variable $" + name +
                            " a value in this test");
                    }
                }
                default -> throw new IllegalArgumentException(dashboard.name() + ": variable type " +
                    variable.path("type").asText() + " of $" + name + " is not handled by this test");
            }
        }
        return values;
    }

    /** The whole alert expressions Prometheus refuses (the rule loader already parsed them: a double check). */
    private static Map<String, String> alertExpressionsThatFail(final PrometheusProcess prometheus)
        throws IOException, InterruptedException
    {
        final Map<String, String> alerts = new LinkedHashMap<>();
        for (final JsonNode rule : PrometheusRulesTest.alertRules())
        {
            alerts.put("alert " + rule.path("alert").asText() + " expression", rule.path("expr").asText());
        }
        return expressionsThatFail(prometheus, alerts);
    }

    /** The expressions Prometheus refuses, with its error. */
    private static Map<String, String> expressionsThatFail(
        final PrometheusProcess prometheus, final Map<String, String> expressions)
        throws IOException, InterruptedException
    {
        final Map<String, String> invalid = new LinkedHashMap<>();
        for (final Map.Entry<String, String> expression : expressions.entrySet())
        {
            final JsonNode answer = prometheus.query(expression.getValue());
            if (!"success".equals(answer.path("status").asText()))
            {
                invalid.put(expression.getKey(), "invalid: " + answer.path("error").asText());
            }
        }
        return invalid;
    }

    /**
     * Label values the expressions select that no series has: a misspelt value in an alternation such as
     * {@code flag=~"retransmission|fast_retransmision"} still returns data for the other values, so it is looked
     * for separately. (The tracker serves every label value from its fixed lists from the start, at 0.)
     */
    private static Map<String, String> unknownLabelValues(
        final PrometheusProcess prometheus, final Map<String, String> checks) throws IOException, InterruptedException
    {
        final Map<String, Set<String>> served = new HashMap<>();
        final Map<String, String> unknown = new LinkedHashMap<>();
        for (final Map.Entry<String, String> check : checks.entrySet())
        {
            final Matcher matcher = LITERAL_MATCHER.matcher(check.getValue());
            while (matcher.find())
            {
                final String label = matcher.group(1);
                if (!served.containsKey(label))
                {
                    final Set<String> values = new HashSet<>();
                    prometheus.labelValues(label).forEach(v -> values.add(v.asText()));
                    served.put(label, values);
                }
                for (final String value : matcher.group(2).split("\\|"))
                {
                    if (!served.get(label).contains(value))
                    {
                        unknown.put(check.getKey() + " (" + label + "=\"" + value + "\")",
                            "no series has " + label + "=\"" + value + "\"");
                    }
                }
            }
        }
        return unknown;
    }

    /** Queries every expression until each returned data or the time is up; those that never did, and why. */
    private static Map<String, String> awaitData(final PrometheusProcess prometheus, final Map<String, String> checks)
        throws IOException, InterruptedException
    {
        final Map<String, String> pending = new LinkedHashMap<>();
        checks.keySet().forEach(label -> pending.put(label, "no data"));
        final long deadline = System.nanoTime() + DATA_TIMEOUT.toNanos();
        while (!pending.isEmpty() && System.nanoTime() < deadline)
        {
            for (final String label : List.copyOf(pending.keySet()))
            {
                final JsonNode answer = prometheus.query(checks.get(label));
                if (!"success".equals(answer.path("status").asText()))
                {
                    pending.put(label, "error: " + answer.path("error").asText());
                }
                else if (PrometheusProcess.hasData(answer))
                {
                    pending.remove(label);
                }
            }
            if (!pending.isEmpty())
            {
                Thread.sleep(1_000);
            }
        }
        return pending;
    }
}
