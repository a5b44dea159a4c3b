package dev.flowtracker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

/**
 * deploy/grafana: the dashboards are well-formed and self-contained (every query goes through the
 * {@code datasource} variable, every variable, repeat and link they use exists), and the provisioning loads them.
 */
class GrafanaDashboardsTest
{
    /** The data source variable every panel and target must go through. */
    private static final Set<String> DATASOURCE_REFERENCES = Set.of("${datasource}", "$datasource");
    /** Grafana's own data source, which only the built-in annotation uses. */
    private static final String GRAFANA_BUILT_IN = "-- Grafana --";
    private static final int MIN_SCHEMA_VERSION = 36;

    @Test
    void shouldHaveTheTwoDashboards()
    {
        final Set<String> titles = new TreeSet<>();
        Dashboards.all().forEach(d -> titles.add(d.json().path("title").asText()));
        assertEquals(Set.of("Tracker overview", "TCP quality"), titles);
    }

    @Test
    void shouldUseACurrentSchemaAndUniqueUids()
    {
        final Set<String> uids = new HashSet<>();
        for (final Dashboards.Dashboard dashboard : Dashboards.all())
        {
            final JsonNode json = dashboard.json();
            assertTrue(json.path("schemaVersion").asInt() >= MIN_SCHEMA_VERSION,
                dashboard.name() + ": schemaVersion " + json.path("schemaVersion") + " < " + MIN_SCHEMA_VERSION);
            final String uid = json.path("uid").asText();
            assertTrue(uid.matches("[a-z0-9-]{1,40}"), dashboard.name() + ": uid " + uid);
            assertTrue(uids.add(uid), "uid used twice: " + uid);
            assertTrue(json.path("id").isNull() || json.path("id").isMissingNode(),
                dashboard.name() + ": a provisioned dashboard has no id (Grafana assigns it)");
        }
    }

    @Test
    void shouldDeclareADatasourceVariableOfTypePrometheus()
    {
        for (final Dashboards.Dashboard dashboard : Dashboards.all())
        {
            final JsonNode variable = Dashboards.variables(dashboard).get("datasource");
            assertTrue(variable != null, dashboard.name() + " has no 'datasource' variable");
            assertEquals("datasource", variable.path("type").asText(), dashboard.name() + ": $datasource type");
            assertEquals("prometheus", variable.path("query").asText(), dashboard.name() + ": $datasource query");
        }
    }

    /** Every data source reference anywhere in the JSON: panels, targets, variables, annotations. */
    @Test
    void shouldReferToTheDatasourceVariableEverywhereAndNeverToAFixedUid()
    {
        for (final Dashboards.Dashboard dashboard : Dashboards.all())
        {
            final List<String> bad = new ArrayList<>();
            collectDatasourceReferences(dashboard.json(), "", bad);
            assertTrue(bad.isEmpty(), dashboard.name() + ": data sources not through $datasource: " + bad);
            for (final JsonNode panel : Dashboards.panels(dashboard))
            {
                if (Dashboards.isRow(panel))
                {
                    continue;
                }
                final String where = dashboard.name() + " panel " + panel.path("id") + " " + panel.path("title");
                assertTrue(DATASOURCE_REFERENCES.contains(panel.path("datasource").path("uid").asText()),
                    where + ": panel datasource " + panel.path("datasource"));
                assertFalse(panel.path("targets").isEmpty(), where + ": no targets");
                for (final JsonNode target : panel.path("targets"))
                {
                    assertTrue(DATASOURCE_REFERENCES.contains(target.path("datasource").path("uid").asText()),
                        where + ": target " + target.path("refId") + " datasource " + target.path("datasource"));
                }
            }
        }
    }

    private static void collectDatasourceReferences(final JsonNode node, final String path, final List<String> bad)
    {
        if (node.isObject())
        {
            final JsonNode datasource = node.path("datasource");
            if (datasource.isTextual() && !DATASOURCE_REFERENCES.contains(datasource.asText()))
            {
                bad.add(path + ".datasource=" + datasource.asText());
            }
            if (datasource.isObject())
            {
                final String uid = datasource.path("uid").asText();
                final boolean builtIn = GRAFANA_BUILT_IN.equals(uid) && node.path("builtIn").asInt() == 1;
                if (!builtIn && !DATASOURCE_REFERENCES.contains(uid))
                {
                    bad.add(path + ".datasource.uid=" + uid);
                }
            }
            node.properties().forEach(e -> collectDatasourceReferences(e.getValue(), path + "." + e.getKey(), bad));
        }
        else if (node.isArray())
        {
            for (int i = 0; i < node.size(); i++)
            {
                collectDatasourceReferences(node.get(i), path + "[" + i + "]", bad);
            }
        }
    }

    @Test
    void shouldGiveEveryPanelAUniqueIdAndAPlaceOnTheGrid()
    {
        for (final Dashboards.Dashboard dashboard : Dashboards.all())
        {
            final Set<Integer> ids = new HashSet<>();
            for (final JsonNode panel : Dashboards.panels(dashboard))
            {
                final String where = dashboard.name() + " panel " + panel.path("title");
                assertTrue(panel.path("id").isInt(), where + ": no id");
                assertTrue(ids.add(panel.path("id").asInt()), where + ": id " + panel.path("id") + " used twice");
                final JsonNode grid = panel.path("gridPos");
                for (final String field : List.of("h", "w", "x", "y"))
                {
                    assertTrue(grid.path(field).isInt(), where + ": gridPos." + field);
                }
                assertTrue(grid.path("w").asInt() > 0 && grid.path("h").asInt() > 0, where + ": empty gridPos");
                assertTrue(grid.path("x").asInt() + grid.path("w").asInt() <= 24, where + ": wider than the grid");
                assertFalse(panel.path("title").asText().isBlank(), dashboard.name() + " panel " + panel.path("id") +
                    ": no title");
                assertFalse(panel.has("libraryPanel"), where + ": library panels live outside the file");
            }
        }
    }

    @Test
    void shouldGiveEveryTargetAnExpressionAndAUniqueRefId()
    {
        for (final Dashboards.Dashboard dashboard : Dashboards.all())
        {
            for (final JsonNode panel : Dashboards.panels(dashboard))
            {
                final Set<String> refIds = new HashSet<>();
                for (final JsonNode target : panel.path("targets"))
                {
                    final String where = dashboard.name() + " panel " + panel.path("id") + " " + panel.path("title");
                    assertFalse(target.path("expr").asText().isBlank(), where + ": target without expr");
                    assertTrue(refIds.add(target.path("refId").asText()), where + ": refId " + target.path("refId"));
                }
            }
        }
    }

    /** Variables in queries, variable queries, titles and legends; repeats; links between dashboards. */
    @Test
    void shouldHaveNoDanglingReferences()
    {
        final List<Dashboards.Dashboard> dashboards = Dashboards.all();
        final Set<String> uids = new HashSet<>();
        final Set<String> tags = new HashSet<>();
        dashboards.forEach(d ->
        {
            uids.add(d.json().path("uid").asText());
            d.json().path("tags").forEach(t -> tags.add(t.asText()));
        });
        for (final Dashboards.Dashboard dashboard : dashboards)
        {
            final Map<String, JsonNode> variables = Dashboards.variables(dashboard);
            final List<String> dangling = new ArrayList<>();
            final List<String> defined = new ArrayList<>();
            for (final Map.Entry<String, JsonNode> variable : variables.entrySet())
            {
                // A variable's query may use the variables defined before it only.
                for (final String used : PromQl.variablesIn(Dashboards.variableQuery(variable.getValue())))
                {
                    if (!defined.contains(used))
                    {
                        dangling.add("variable $" + variable.getKey() + " uses $" + used);
                    }
                }
                defined.add(variable.getKey());
            }
            for (final JsonNode panel : Dashboards.panels(dashboard))
            {
                final String where = "panel " + panel.path("id") + " '" + panel.path("title").asText() + "'";
                final List<String> texts = new ArrayList<>(List.of(panel.path("title").asText()));
                panel.path("targets").forEach(t ->
                {
                    texts.add(t.path("expr").asText());
                    texts.add(t.path("legendFormat").asText());
                });
                for (final String text : texts)
                {
                    for (final String used : PromQl.variablesIn(text))
                    {
                        if (!variables.containsKey(used) && !PromQl.GRAFANA_GLOBALS.contains(used))
                        {
                            dangling.add(where + " uses $" + used);
                        }
                    }
                }
                if (panel.has("repeat"))
                {
                    final JsonNode repeated = variables.get(panel.path("repeat").asText());
                    if (repeated == null)
                    {
                        dangling.add(where + " repeats over $" + panel.path("repeat").asText());
                    }
                    else if (!repeated.path("multi").asBoolean() && !repeated.path("includeAll").asBoolean())
                    {
                        dangling.add(where + " repeats over $" + panel.path("repeat").asText() +
                            ", which has one value only (not multi, no All)");
                    }
                }
                panel.path("links").forEach(link -> checkLink(link, where, uids, tags, dangling));
            }
            dashboard.json().path("links").forEach(link -> checkLink(link, "dashboard link", uids, tags, dangling));
            assertTrue(dangling.isEmpty(), dashboard.name() + ": " + dangling);
        }
    }

    private static void checkLink(
        final JsonNode link, final String where, final Set<String> uids, final Set<String> tags,
        final List<String> dangling)
    {
        if ("dashboards".equals(link.path("type").asText()))
        {
            final List<String> linked = new ArrayList<>();
            link.path("tags").forEach(t -> linked.add(t.asText()));
            if (linked.isEmpty() || !tags.containsAll(linked))
            {
                dangling.add(where + " links to dashboards tagged " + linked + "; the dashboards have " + tags);
            }
        }
        final String url = link.path("url").asText();
        if (url.startsWith("/d/"))
        {
            final String uid = url.substring(3).split("[/?#]")[0];
            if (!uids.contains(uid))
            {
                dangling.add(where + " links to /d/" + uid + ", no such dashboard here");
            }
        }
    }

    @Test
    void shouldProvisionTheDatasourceWithAFixedUidAndTheDashboardsFromTheirDirectory()
    {
        final JsonNode datasources =
            DeployFiles.yaml(DeployFiles.deploy("grafana/provisioning/datasources/prometheus.yml"));
        final JsonNode datasource = datasources.path("datasources").get(0);
        assertEquals("prometheus", datasource.path("type").asText());
        assertFalse(datasource.path("uid").asText().isBlank(), "the provisioned data source needs a fixed uid");
        assertTrue(datasource.path("isDefault").asBoolean(), "the default, so that $datasource starts on it");

        final JsonNode providers = DeployFiles.yaml(DeployFiles.deploy("grafana/provisioning/dashboards/tracker.yml"));
        final String path = providers.path("providers").get(0).path("options").path("path").asText();
        final String compose = DeployFiles.read(DeployFiles.deploy("compose/compose.yaml"));
        assertTrue(compose.contains("../grafana/dashboards:" + path + ":ro"),
            "compose.yaml mounts deploy/grafana/dashboards where the provider reads (" + path + ")");
    }
}
