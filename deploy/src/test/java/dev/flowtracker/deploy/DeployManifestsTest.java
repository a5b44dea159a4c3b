package dev.flowtracker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The systemd unit, the Dockerfile, the Kubernetes manifests and the compose file: what they promise (least
 * privilege, hardening, probes, JVM options in step with the root pom) and that everything they name exists.
 * None of these can run here (no systemd as PID 1, no Docker engine, no cluster); {@code systemd-analyze verify}
 * runs when it is installed.
 */
class DeployManifestsTest
{
    private static final Pattern UNIT_LINE = Pattern.compile("^([A-Za-z]+)=(.*)$");
    private static final Pattern COMPOSE_VOLUME = Pattern.compile("(?:\\$\\{[A-Z_]+:-([^}]*)}|([^:]+)):.*");

    /** The unit's [Service] settings; a key given twice keeps its values in order, joined by a space. */
    private static Map<String, String> unitSettings(final String unit)
    {
        final Map<String, String> settings = new LinkedHashMap<>();
        final String joined = unit.replace("\\\n", " ");
        for (final String line : joined.split("\n"))
        {
            final Matcher m = UNIT_LINE.matcher(line.trim());
            if (m.matches())
            {
                settings.merge(m.group(1), m.group(2).trim(), (a, b) -> a + " " + b);
            }
        }
        return settings;
    }

    private static Path unitFile()
    {
        return DeployFiles.deploy("systemd/tracker.service");
    }

    @Test
    void shouldRunTheUnitUnprivilegedWithNetRawOnly()
    {
        final Map<String, String> unit = unitSettings(DeployFiles.read(unitFile()));
        assertTrue("yes".equals(unit.get("DynamicUser")) || unit.containsKey("User"), "an unprivileged user");
        assertEquals("CAP_NET_RAW", unit.get("AmbientCapabilities"));
        assertEquals("CAP_NET_RAW", unit.get("CapabilityBoundingSet"));
        assertEquals("yes", unit.get("NoNewPrivileges"));
    }

    @Test
    void shouldHardenTheUnitButLeaveTheJitAlone()
    {
        final String text = DeployFiles.read(unitFile());
        final Map<String, String> unit = unitSettings(text);
        assertEquals("strict", unit.get("ProtectSystem"));
        assertEquals("yes", unit.get("ProtectHome"));
        assertEquals("yes", unit.get("PrivateTmp"));
        assertEquals("tracker", unit.get("StateDirectory"));
        assertEquals("native", unit.get("SystemCallArchitectures"));
        assertEquals(Set.of("AF_PACKET", "AF_INET", "AF_INET6", "AF_UNIX", "AF_NETLINK"),
            Set.of(unit.get("RestrictAddressFamilies").split("\\s+")));
        assertFalse(unit.containsKey("MemoryDenyWriteExecute"), "the JVM's JIT needs writable and executable memory");
        assertTrue(text.contains("MemoryDenyWriteExecute= must NOT be set"), "say why it is not set");
        assertEquals("on-failure", unit.get("Restart"));
        assertEquals("SIGTERM", unit.get("KillSignal"));
        assertTrue(unit.get("SuccessExitStatus").contains("143"), "exit status 143 after SIGTERM is a clean stop");
        final Matcher stop = Pattern.compile("(\\d+)s").matcher(unit.get("TimeoutStopSec"));
        assertTrue(stop.matches() && Integer.parseInt(stop.group(1)) >= 60,
            "TimeoutStopSec leaves time for the final checkpoint: " + unit.get("TimeoutStopSec"));
        assertTrue(unit.get("ExecStart").contains("--state-dir") || DeployFiles.read(
            DeployFiles.deploy("systemd/tracker.env")).contains("--state-dir /var/lib/tracker"),
            "checkpoints go to the StateDirectory");
    }

    @Test
    void shouldStartTheTrackerWithTheJvmOptionsOfTheRootPom()
    {
        final List<String> needed = DeployFiles.trackerJvmOptions();
        final List<String> unitWords = Arrays.asList(unitSettings(DeployFiles.read(unitFile())).get("ExecStart")
            .split("\\s+"));
        assertTrue(unitWords.containsAll(needed), "tracker.service ExecStart lacks some of " + needed);
        assertTrue(unitWords.contains("dev.flowtracker.ingest.cli.TrackerCli"), "tracker.service main class");

        final String dockerfile = DeployFiles.read(DeployFiles.deploy("container/Dockerfile"));
        final Matcher entrypoint = Pattern.compile("(?s)ENTRYPOINT \\[(.*?)]\\s*\\n").matcher(dockerfile);
        assertTrue(entrypoint.find(), "the Dockerfile has an exec-form ENTRYPOINT");
        final List<String> words = new ArrayList<>();
        final Matcher quoted = Pattern.compile("\"([^\"]*)\"").matcher(entrypoint.group(1));
        while (quoted.find())
        {
            words.add(quoted.group(1));
        }
        assertTrue(words.containsAll(needed), "Dockerfile ENTRYPOINT lacks some of " + needed + ": " + words);
        assertTrue(words.contains("dev.flowtracker.ingest.cli.TrackerCli"), "Dockerfile ENTRYPOINT main class");
    }

    @Test
    void shouldPassSystemdAnalyzeVerify(@TempDir final Path dir) throws IOException, InterruptedException
    {
        final Path analyze = Tools.onPath("systemd-analyze").orElseGet(() ->
            Assumptions.abort("skipped: systemd-analyze is not installed"));
        // Point the unit at files that exist here: the environment file in the repository and this JVM's java.
        final String java = ProcessHandle.current().info().command().orElseThrow();
        final String unit = DeployFiles.read(unitFile())
            .replace("EnvironmentFile=/etc/default/tracker",
                "EnvironmentFile=" + DeployFiles.deploy("systemd/tracker.env"))
            .replace("ExecStart=/usr/bin/java ", "ExecStart=" + java + " ");
        final Path copy = dir.resolve("tracker.service");
        Files.writeString(copy, unit);
        final Tools.Result result = Tools.run(Duration.ofSeconds(60),
            List.of(analyze.toString(), "verify", "--man=no", copy.toString()));
        final List<String> complaints = result.output().lines().filter(l -> l.contains("tracker.service")).toList();
        assertTrue(complaints.isEmpty(), "systemd-analyze verify:\n" + result.output());
    }

    @Test
    void shouldBuildInTwoStagesAndRunAsANonRootUser()
    {
        final String dockerfile = DeployFiles.read(DeployFiles.deploy("container/Dockerfile"));
        final List<String> from = dockerfile.lines().filter(l -> l.startsWith("FROM ")).toList();
        assertEquals(2, from.size(), "a build stage and a runtime stage: " + from);
        assertTrue(from.get(0).contains("temurin-25") && from.get(0).endsWith(" AS build"), from.get(0));
        final List<String> users = dockerfile.lines().filter(l -> l.startsWith("USER ")).toList();
        assertEquals(List.of("USER 10001:10001"), users, "the runtime runs as uid 10001 (not root)");
        assertTrue(dockerfile.contains("setcap \"${FILE_CAPS}=ep\" /opt/java/bin/java"),
            "java carries NET_RAW as a file capability (a non-root process gets none otherwise)");
        assertTrue(dockerfile.contains("--add-modules") && dockerfile.contains("jdk.compiler"),
            "the runtime has jdk.compiler: Chronicle Map compiles classes at run time");
        assertTrue(Files.isRegularFile(DeployFiles.deploy("container/Dockerfile.dockerignore")),
            "the build context is filtered");
    }

    /** Every COPY source of the build stage is in the repository and let through by the .dockerignore. */
    @Test
    void shouldCopyOnlyWhatExistsAndIsNotIgnored()
    {
        final String dockerfile = DeployFiles.read(DeployFiles.deploy("container/Dockerfile"));
        final Set<String> allowed = new HashSet<>();
        DeployFiles.read(DeployFiles.deploy("container/Dockerfile.dockerignore")).lines()
            .filter(l -> l.startsWith("!")).forEach(l -> allowed.add(l.substring(1)));
        final Matcher copy = Pattern.compile("(?m)^COPY (?!--from)(\\S+) ").matcher(dockerfile);
        int copies = 0;
        while (copy.find())
        {
            final String source = copy.group(1);
            copies++;
            assertTrue(Files.exists(DeployFiles.root().resolve(source)), "COPY " + source + ": no such file");
            assertTrue(allowed.contains(source) || allowed.contains(source + "/"),
                "COPY " + source + " is not let through by Dockerfile.dockerignore " + allowed);
        }
        assertTrue(copies >= 5, "the poms and sources are copied");
    }

    private static JsonNode kubernetes(final String file)
    {
        return DeployFiles.yaml(DeployFiles.deploy("kubernetes/" + file));
    }

    @Test
    void shouldRunTheDaemonSetOnTheHostNetworkWithNetRawOnly()
    {
        final JsonNode daemonSet = kubernetes("daemonset.yaml");
        assertEquals("DaemonSet", daemonSet.path("kind").asText());
        final JsonNode pod = daemonSet.path("spec").path("template").path("spec");
        assertTrue(pod.path("hostNetwork").asBoolean(), "hostNetwork");
        assertEquals("ClusterFirstWithHostNet", pod.path("dnsPolicy").asText());
        assertTrue(pod.path("securityContext").path("runAsNonRoot").asBoolean(), "runAsNonRoot");
        final JsonNode container = pod.path("containers").get(0);
        final JsonNode security = container.path("securityContext");
        assertEquals("[\"ALL\"]", security.path("capabilities").path("drop").toString());
        assertEquals("[\"NET_RAW\"]", security.path("capabilities").path("add").toString());
        assertTrue(security.path("readOnlyRootFilesystem").asBoolean(), "readOnlyRootFilesystem");
        assertFalse(security.path("privileged").asBoolean(), "not privileged");
        assertFalse(container.path("resources").path("requests").isEmpty(), "resource requests");
        assertFalse(container.path("resources").path("limits").path("memory").isMissingNode(), "a memory limit");
    }

    @Test
    void shouldProbeHealthAndReadinessAndMountStateAndTmp()
    {
        final JsonNode pod = kubernetes("daemonset.yaml").path("spec").path("template").path("spec");
        final JsonNode container = pod.path("containers").get(0);
        assertEquals("/health", container.path("livenessProbe").path("httpGet").path("path").asText());
        assertEquals("/ready", container.path("readinessProbe").path("httpGet").path("path").asText());
        final Set<String> mounts = new HashSet<>();
        container.path("volumeMounts").forEach(m -> mounts.add(m.path("mountPath").asText()));
        assertTrue(mounts.containsAll(Set.of("/var/lib/tracker", "/tmp")), "state and a writable /tmp: " + mounts);
        final Set<String> volumes = new HashSet<>();
        pod.path("volumes").forEach(v -> volumes.add(v.path("name").asText()));
        container.path("volumeMounts").forEach(m -> assertTrue(volumes.contains(m.path("name").asText()),
            "volume " + m.path("name") + " is defined"));
        final List<String> args = new ArrayList<>();
        container.path("args").forEach(a -> args.add(a.asText()));
        assertEquals("/var/lib/tracker", args.get(args.indexOf("--state-dir") + 1), "checkpoints on the volume");
        assertTrue(args.contains("--http-listen"), "the HTTP server is bound where the probes reach it");
    }

    /** Every $(VAR) in the DaemonSet's args comes from the ConfigMap or the pod's env. */
    @Test
    void shouldTakeEveryArgumentVariableFromTheConfigMapOrTheEnv()
    {
        final JsonNode container = kubernetes("daemonset.yaml").path("spec").path("template").path("spec")
            .path("containers").get(0);
        final Set<String> defined = new HashSet<>();
        kubernetes("configmap.yaml").path("data").fieldNames().forEachRemaining(defined::add);
        container.path("env").forEach(e -> defined.add(e.path("name").asText()));
        assertEquals("tracker", container.path("envFrom").get(0).path("configMapRef").path("name").asText());
        final Matcher variable = Pattern.compile("\\$\\(([A-Z_]+)\\)").matcher(container.path("args").toString());
        while (variable.find())
        {
            assertTrue(defined.contains(variable.group(1)), "$(" + variable.group(1) + ") is not defined");
        }
    }

    @Test
    void shouldAnnotateForScrapingAndSelectThePodsFromTheServiceAndServiceMonitor()
    {
        final JsonNode template = kubernetes("daemonset.yaml").path("spec").path("template");
        final JsonNode service = kubernetes("service.yaml");
        for (final JsonNode annotations : List.of(template.path("metadata").path("annotations"),
            service.path("metadata").path("annotations")))
        {
            assertEquals("true", annotations.path("prometheus.io/scrape").asText());
            assertEquals("9127", annotations.path("prometheus.io/port").asText());
            assertEquals("/metrics", annotations.path("prometheus.io/path").asText());
        }
        final JsonNode podLabels = template.path("metadata").path("labels");
        service.path("spec").path("selector").properties().forEach(e ->
            assertEquals(e.getValue(), podLabels.path(e.getKey()), "Service selects the pods by " + e.getKey()));
        assertEquals("tracker", service.path("metadata").path("name").asText(), "the job label is the Service's name");
        final JsonNode monitor = kubernetes("servicemonitor.yaml");
        monitor.path("spec").path("selector").path("matchLabels").properties().forEach(e ->
            assertEquals(e.getValue(), service.path("metadata").path("labels").path(e.getKey()),
                "ServiceMonitor selects the Service by " + e.getKey()));
        assertEquals(service.path("spec").path("ports").get(0).path("name"),
            monitor.path("spec").path("endpoints").get(0).path("port"), "ServiceMonitor scrapes the metrics port");
    }

    @Test
    void shouldListOnlyExistingFilesInTheKustomization()
    {
        for (final JsonNode resource : kubernetes("kustomization.yaml").path("resources"))
        {
            assertTrue(Files.isRegularFile(DeployFiles.deploy("kubernetes/" + resource.asText())),
                "kustomization resource " + resource.asText());
        }
    }

    /** Every file or directory the compose file mounts from the repository exists. */
    @Test
    void shouldMountOnlyExistingFilesInTheComposeTryOut()
    {
        final JsonNode compose = DeployFiles.yaml(DeployFiles.deploy("compose/compose.yaml"));
        final Path base = DeployFiles.deploy("compose");
        int mounts = 0;
        for (final JsonNode service : compose.path("services"))
        {
            for (final JsonNode volume : service.path("volumes"))
            {
                // SOURCE:TARGET[:MODE], where SOURCE may be ${VAR:-DEFAULT}: the default is what the repo provides.
                final Matcher parts = COMPOSE_VOLUME.matcher(volume.asText());
                assertTrue(parts.matches(), "volume " + volume.asText());
                final String source = parts.group(1) != null ? parts.group(1) : parts.group(2);
                if (source.startsWith("."))
                {
                    mounts++;
                    assertTrue(Files.exists(base.resolve(source)), "compose mounts " + source + ": not there");
                }
            }
        }
        assertTrue(mounts >= 5, "capture, Prometheus config and rules, Grafana provisioning and dashboards");
        assertTrue(Files.isRegularFile(base.resolve(compose.path("services").path("tracker").path("build")
            .path("context").asText()).resolve(compose.path("services").path("tracker").path("build")
            .path("dockerfile").asText())), "the tracker is built from deploy/container/Dockerfile");
    }
}
