package dev.flowtracker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
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
 * deploy/prometheus: promtool's checks and unit tests pass, every alert is unit-tested firing and not firing, and
 * the alerts carry what Alertmanager and the on-call need. The promtool cases skip when promtool is not installed
 * (Debian's {@code prometheus} package has it; .ci/run installs it).
 */
class PrometheusRulesTest
{
    private static final Duration PROMTOOL_TIMEOUT = Duration.ofSeconds(60);
    private static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");
    private static final Pattern INSTANCE = Pattern.compile("instance=\"([^\"]*)\"");

    private static Path promtool()
    {
        return Tools.onPath("promtool").orElseGet(() ->
            Assumptions.abort("skipped: promtool is not installed (apt-get install prometheus; .ci/run does)"));
    }

    private static void assertPromtoolPasses(final List<String> command) throws IOException, InterruptedException
    {
        final Tools.Result result = Tools.run(PROMTOOL_TIMEOUT, command);
        assertEquals(0, result.exitCode(), String.join(" ", command) + "\n" + result.output());
        assertFalse(result.output().contains("FAILED"), result.output());
    }

    private static List<JsonNode> rules(final String file, final String kind)
    {
        final List<JsonNode> rules = new ArrayList<>();
        for (final JsonNode group : DeployFiles.yaml(DeployFiles.deploy("prometheus/rules/" + file)).path("groups"))
        {
            for (final JsonNode rule : group.path("rules"))
            {
                if (rule.has(kind))
                {
                    rules.add(rule);
                }
            }
        }
        return rules;
    }

    static List<JsonNode> alertRules()
    {
        return rules("alerts.yml", "alert");
    }

    static List<JsonNode> recordingRules()
    {
        return rules("recording.yml", "record");
    }

    private static List<Path> ruleTestFiles()
    {
        return DeployFiles.list(DeployFiles.deploy("prometheus/rules/tests"), ".yml");
    }

    @Test
    void shouldPassPromtoolCheckConfigWithItsRuleFiles() throws IOException, InterruptedException
    {
        assertPromtoolPasses(List.of(promtool().toString(), "check", "config",
            DeployFiles.deploy("prometheus/prometheus.yml").toString()));
    }

    @Test
    void shouldPassPromtoolCheckConfigForTheComposeTryOut(@TempDir final Path dir)
        throws IOException, InterruptedException
    {
        // Compose mounts deploy/prometheus/rules beside its own prometheus.yml: lay them out the same way.
        final Path config = dir.resolve("prometheus.yml");
        Files.copy(DeployFiles.deploy("compose/prometheus.yml"), config);
        Files.createDirectories(dir.resolve("rules"));
        for (final Path rules : DeployFiles.list(DeployFiles.deploy("prometheus/rules"), ".yml"))
        {
            Files.copy(rules, dir.resolve("rules").resolve(rules.getFileName()));
        }
        assertPromtoolPasses(List.of(promtool().toString(), "check", "config", config.toString()));
    }

    @Test
    void shouldPassPromtoolCheckRules() throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(promtool().toString(), "check", "rules"));
        for (final Path rules : DeployFiles.list(DeployFiles.deploy("prometheus/rules"), ".yml"))
        {
            command.add(rules.toString());
        }
        assertPromtoolPasses(command);
    }

    @Test
    void shouldPassThePromtoolUnitTestsOfTheRules() throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(promtool().toString(), "test", "rules"));
        final List<Path> tests = ruleTestFiles();
        assertFalse(tests.isEmpty(), "no promtool tests in deploy/prometheus/rules/tests");
        tests.forEach(t -> command.add(t.toString()));
        assertPromtoolPasses(command);
    }

    /**
     * Each alert has a promtool case where it fires, and one where it does not: an evaluation expecting no alert,
     * or a firing evaluation whose input has an instance the expected alerts leave out.
     */
    @Test
    void shouldUnitTestEveryAlertFiringAndNotFiring()
    {
        final Map<String, Boolean> fires = new LinkedHashMap<>();
        final Map<String, Boolean> staysQuiet = new LinkedHashMap<>();
        for (final Path file : ruleTestFiles())
        {
            for (final JsonNode test : DeployFiles.yaml(file).path("tests"))
            {
                final Set<String> inputInstances = new HashSet<>();
                for (final JsonNode series : test.path("input_series"))
                {
                    final Matcher m = INSTANCE.matcher(series.path("series").asText());
                    if (m.find())
                    {
                        inputInstances.add(m.group(1));
                    }
                }
                for (final JsonNode check : test.path("alert_rule_test"))
                {
                    final String alert = check.path("alertname").asText();
                    final JsonNode expected = check.path("exp_alerts");
                    if (expected.isEmpty())
                    {
                        staysQuiet.put(alert, true);
                        continue;
                    }
                    fires.put(alert, true);
                    final Set<String> firing = new HashSet<>();
                    expected.forEach(a -> firing.add(a.path("exp_labels").path("instance").asText()));
                    if (!firing.containsAll(inputInstances))
                    {
                        staysQuiet.put(alert, true);
                    }
                }
            }
        }
        final Set<String> untested = new TreeSet<>();
        for (final JsonNode rule : alertRules())
        {
            final String alert = rule.path("alert").asText();
            if (!fires.containsKey(alert))
            {
                untested.add(alert + " (never expected to fire)");
            }
            if (!staysQuiet.containsKey(alert))
            {
                untested.add(alert + " (never expected to stay quiet)");
            }
        }
        assertTrue(untested.isEmpty(), "alerts without promtool cases in rules/tests: " + untested);
    }

    @Test
    void shouldGiveEveryAlertADurationASeverityASummaryAndADescription()
    {
        final List<JsonNode> alerts = alertRules();
        assertFalse(alerts.isEmpty(), "no alerts in alerts.yml");
        final Set<String> names = new HashSet<>();
        for (final JsonNode rule : alerts)
        {
            final String alert = rule.path("alert").asText();
            assertTrue(names.add(alert), "alert defined twice: " + alert);
            assertTrue(alert.matches("Tracker[A-Z][A-Za-z]+"), "alert names are TrackerSomething: " + alert);
            assertTrue(rule.path("for").isTextual(), alert + " has no 'for'");
            assertTrue(SEVERITIES.contains(rule.path("labels").path("severity").asText()),
                alert + " needs a severity label, one of " + SEVERITIES);
            assertFalse(rule.path("annotations").path("summary").asText().isBlank(), alert + " has no summary");
            assertFalse(rule.path("annotations").path("description").asText().isBlank(),
                alert + " has no description");
        }
    }

    @Test
    void shouldNameRecordingRulesByTheLevelMetricOperationsConvention()
    {
        final Set<String> names = new HashSet<>();
        for (final JsonNode rule : recordingRules())
        {
            final String record = rule.path("record").asText();
            assertTrue(record.matches("tracker:[a-z0-9_]+:[a-z0-9_]+"), "tracker:<metric>:<operations>: " + record);
            assertTrue(names.add(record), "recorded twice: " + record);
        }
    }

    @Test
    void shouldKeepTheComposeConfigOnTheSameJobAndRuleFiles()
    {
        final JsonNode main = DeployFiles.yaml(DeployFiles.deploy("prometheus/prometheus.yml"));
        final JsonNode compose = DeployFiles.yaml(DeployFiles.deploy("compose/prometheus.yml"));
        assertEquals(main.path("rule_files"), compose.path("rule_files"), "rule_files");
        final List<String> mainJobs = new ArrayList<>();
        main.path("scrape_configs").forEach(c -> mainJobs.add(c.path("job_name").asText()));
        final List<String> composeJobs = new ArrayList<>();
        compose.path("scrape_configs").forEach(c -> composeJobs.add(c.path("job_name").asText()));
        assertEquals(List.of("tracker"), mainJobs, "deploy/prometheus/prometheus.yml scrape jobs");
        assertEquals(mainJobs, composeJobs, "compose/prometheus.yml scrape jobs");
    }

    /** Checked here so that a rule file the test setup does not load cannot hide from the integration test. */
    @Test
    void shouldLoadEveryRuleFileFromTheMainConfig()
    {
        final Set<String> loaded = new TreeSet<>();
        DeployFiles.yaml(DeployFiles.deploy("prometheus/prometheus.yml")).path("rule_files")
            .forEach(f -> loaded.add(f.asText()));
        final Set<String> present = new TreeSet<>();
        DeployFiles.list(DeployFiles.deploy("prometheus/rules"), ".yml")
            .forEach(f -> present.add("rules/" + f.getFileName()));
        if (!loaded.equals(present))
        {
            fail("prometheus.yml loads " + loaded + " but rules/ holds " + present);
        }
    }
}
