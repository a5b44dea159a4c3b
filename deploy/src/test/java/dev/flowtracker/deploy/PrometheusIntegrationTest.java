package dev.flowtracker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

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
 */
class PrometheusIntegrationTest
{
    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration DATA_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(60);
    private static final Pattern METRIC_NAME =
        Pattern.compile("\\b((?:tracker|jvm|process|system)_[a-z0-9_]+|tracker:[a-z0-9_:]+|up)\\b(?!\\s*\\()");

    /** Grafana's global variables, at values that suit a 1 s scrape interval. */
    private static final Map<String, String> GRAFANA_GLOBALS =
        Map.of("__rate_interval", "10s", "__interval", "5s", "__range", "2m");

    private static List<Path> captures()
    {
        final Path sample = DeployFiles.root().resolve("samples/sample.pcap");
        assertTrue(Files.isRegularFile(sample), "the bundled capture " + sample);
        return List.of(sample);
    }

    @Test
    void shouldReturnDataForEveryDashboardRuleAndAlertExpression(@TempDir final Path dir)
        throws IOException, InterruptedException
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
        try (TrackerProcess tracker = TrackerProcess.start(dir.resolve("tracker"), captures(), START_TIMEOUT);
             PrometheusProcess prometheus =
                 PrometheusProcess.start(binary, dir.resolve("prometheus"), tracker.address(), START_TIMEOUT))
        {
            checks = expressionsToCheck(tracker.address());
            final List<String> invalid = alertExpressionsThatFail(prometheus);
            invalid.forEach(e -> failures.put(e, "invalid"));
            failures.putAll(awaitData(prometheus, checks));
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
            servedAfterInput = tracker.isAlive() && inputFinished(prometheus);
            exitStatus = tracker.stop(STOP_TIMEOUT);
            trackerLog = tracker.stderr();
        }
        System.out.println("PrometheusIntegrationTest: " + (checks.size() - failures.size()) + " of " +
            checks.size() + " expressions returned data; without data: " + failures.size() +
            (missingMetrics.isEmpty() ? "" : "; metric names Prometheus never saw: " + missingMetrics));
        final StringBuilder report = new StringBuilder();
        failures.forEach((label, why) -> report.append("\n  ").append(label).append(": ").append(why)
            .append("\n      ").append(checks.getOrDefault(label, "")));
        assertTrue(failures.isEmpty(), failures.size() + " of " + checks.size() + " expressions returned no data" +
            " (metric names Prometheus never saw: " + missingMetrics + "):" + report + "\ntracker stderr:\n" +
            trackerLog);
        assertTrue(servedAfterInput, "the tracker keeps serving after the end of its input (no --exit-at-end)");
        assertEquals(143, exitStatus, "tracker run stops on SIGTERM:\n" + trackerLog);
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
    private static List<String> alertExpressionsThatFail(final PrometheusProcess prometheus)
        throws IOException, InterruptedException
    {
        final List<String> invalid = new ArrayList<>();
        for (final JsonNode rule : PrometheusRulesTest.alertRules())
        {
            final JsonNode answer = prometheus.query(rule.path("expr").asText());
            if (!"success".equals(answer.path("status").asText()))
            {
                invalid.add("alert " + rule.path("alert").asText() + " expression: " + answer.path("error").asText());
            }
        }
        return invalid;
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

    private static boolean inputFinished(final PrometheusProcess prometheus) throws IOException, InterruptedException
    {
        final JsonNode answer = prometheus.query("max(tracker_input_finished{job=\"" + PrometheusProcess.JOB + "\"})");
        return PrometheusProcess.hasData(answer) &&
            "1".equals(answer.path("data").path("result").get(0).path("value").get(1).asText());
    }
}
