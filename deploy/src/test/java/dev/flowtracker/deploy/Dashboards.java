package dev.flowtracker.deploy;

import com.fasterxml.jackson.databind.JsonNode;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The Grafana dashboards of deploy/grafana/dashboards and the PromQL in them. Stateless; any thread. */
final class Dashboards
{
    /** One dashboard file, parsed. */
    record Dashboard(Path file, JsonNode json)
    {
        String name()
        {
            return file.getFileName().toString();
        }
    }

    /** A PromQL expression and where it is, for messages. */
    record Query(String where, String expr)
    {
    }

    private Dashboards()
    {
    }

    static List<Dashboard> all()
    {
        final List<Dashboard> dashboards = new ArrayList<>();
        for (final Path file : DeployFiles.list(DeployFiles.deploy("grafana/dashboards"), ".json"))
        {
            dashboards.add(new Dashboard(file, DeployFiles.json(file)));
        }
        return dashboards;
    }

    /** Every panel, rows included, and the panels inside collapsed rows. */
    static List<JsonNode> panels(final Dashboard dashboard)
    {
        final List<JsonNode> panels = new ArrayList<>();
        for (final JsonNode panel : dashboard.json().path("panels"))
        {
            panels.add(panel);
            for (final JsonNode inner : panel.path("panels"))
            {
                panels.add(inner);
            }
        }
        return panels;
    }

    static boolean isRow(final JsonNode panel)
    {
        return "row".equals(panel.path("type").asText());
    }

    /** The dashboard's template variables by name, in order. */
    static Map<String, JsonNode> variables(final Dashboard dashboard)
    {
        final Map<String, JsonNode> variables = new LinkedHashMap<>();
        for (final JsonNode variable : dashboard.json().path("templating").path("list"))
        {
            variables.put(variable.path("name").asText(), variable);
        }
        return variables;
    }

    /** The query of a {@code query} variable (Grafana stores it as a string or as an object with a query). */
    static String variableQuery(final JsonNode variable)
    {
        final JsonNode query = variable.path("query");
        return query.isObject() ? query.path("query").asText() : query.asText();
    }

    /** The expression of every target of every panel. */
    static List<Query> targetQueries(final Dashboard dashboard)
    {
        final List<Query> queries = new ArrayList<>();
        for (final JsonNode panel : panels(dashboard))
        {
            for (final JsonNode target : panel.path("targets"))
            {
                queries.add(new Query(dashboard.name() + " panel " + panel.path("id").asInt() + " '" +
                    panel.path("title").asText() + "' target " + target.path("refId").asText(),
                    target.path("expr").asText()));
            }
        }
        return queries;
    }

    /** The query of every {@code query} variable. */
    static List<Query> variableQueries(final Dashboard dashboard)
    {
        final List<Query> queries = new ArrayList<>();
        for (final JsonNode variable : variables(dashboard).values())
        {
            if ("query".equals(variable.path("type").asText()))
            {
                queries.add(new Query(dashboard.name() + " variable $" + variable.path("name").asText(),
                    variableQuery(variable)));
            }
        }
        return queries;
    }
}
