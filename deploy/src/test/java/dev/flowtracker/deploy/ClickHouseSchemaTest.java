package dev.flowtracker.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code deploy/clickhouse/*.sql} against the records the tracker really writes: {@code tracker analyze} runs on
 * {@code samples/sample.pcap} in a child JVM and its records are compared with the columns the Kafka-engine table
 * reads, the JSON paths the materialized views extract and the columns of the tables they fill. No ClickHouse runs
 * here (none can be installed on the build machines), so this is what keeps the SQL true to the record schema: a
 * field renamed in the record or in the SQL fails it.
 */
class ClickHouseSchemaTest
{
    private static final String KAFKA_TABLE = "tracker_conn_queue";
    private static final String RAW_TABLE = "tracker_conn";
    private static final String RAW_VIEW = "tracker_conn_mv";
    private static final String ROLLUP_TABLE = "tracker_conn_1m";
    private static final String ROLLUP_VIEW = "tracker_conn_1m_mv";
    private static final List<String> SIDES = List.of("orig", "resp");
    /** The per-side counter objects that become one column per counter, per side and in the rollup. */
    private static final List<String> COUNTER_OBJECTS = List.of("analysis", "security");
    private static final Pattern TABLE_ROW = Pattern.compile("^\\| `([^`]+)` \\|");
    private static final long ANALYZE_TIMEOUT_SECONDS = 120;

    @TempDir
    static Path dir;

    private static List<JsonNode> records;
    /** Every top-level field of any record. */
    private static Set<String> topLevel;
    /** Every dotted path (objects and leaves) of any record, top-level fields included. */
    private static Set<String> paths;
    /** Every dotted path of a non-object value under {@code tcp}. */
    private static Set<String> tcpLeaves;

    @BeforeAll
    static void analyzeTheSample() throws IOException, InterruptedException
    {
        final Path out = dir.resolve("records.jsonl");
        final Path err = dir.resolve("stderr.txt");
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(DeployFiles.trackerJvmOptions());
        command.addAll(List.of("-Xmx256m", "-cp", System.getProperty("java.class.path"), TrackerProcess.MAIN_CLASS,
            "analyze", "--no-progress", "-C", DeployFiles.root().resolve("samples/sample.pcap").toString()));
        final Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
            .start();
        if (!process.waitFor(ANALYZE_TIMEOUT_SECONDS, TimeUnit.SECONDS))
        {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new IllegalStateException("tracker analyze did not finish within " + ANALYZE_TIMEOUT_SECONDS + " s");
        }
        assertEquals(0, process.exitValue(), () -> "tracker analyze failed:\n" + DeployFiles.read(err));
        records = new ArrayList<>();
        for (final String line : Files.readAllLines(out))
        {
            records.add(DeployFiles.JSON.readTree(line));
        }
        assertFalse(records.isEmpty(), "tracker analyze wrote no record");
        topLevel = new LinkedHashSet<>();
        paths = new HashSet<>();
        tcpLeaves = new TreeSet<>();
        for (final JsonNode record : records)
        {
            record.fieldNames().forEachRemaining(topLevel::add);
            collect(record, "", true);
        }
    }

    private static void collect(final JsonNode node, final String prefix, final boolean top)
    {
        for (final Map.Entry<String, JsonNode> field : node.properties())
        {
            final String path = top ? field.getKey() : prefix + "." + field.getKey();
            paths.add(path);
            if (field.getValue().isObject())
            {
                collect(field.getValue(), path, false);
            }
            else if (path.startsWith("tcp."))
            {
                tcpLeaves.add(path);
            }
        }
    }

    private static String sql(final String file)
    {
        return DeployFiles.read(DeployFiles.deploy("clickhouse/" + file));
    }

    private static String readme()
    {
        return DeployFiles.read(DeployFiles.deploy("clickhouse/README.md"));
    }

    /** The first cells of the README table whose header row ends with {@code | lastHeader |}. */
    private static Set<String> readmeTable(final String lastHeader)
    {
        final Set<String> names = new LinkedHashSet<>();
        boolean inTable = false;
        for (final String line : readme().split("\n"))
        {
            if (line.startsWith("|") && line.trim().endsWith("| " + lastHeader + " |"))
            {
                inTable = true;
            }
            else if (!line.startsWith("|"))
            {
                inTable = false;
            }
            else if (inTable)
            {
                final Matcher row = TABLE_ROW.matcher(line);
                if (row.find())
                {
                    names.add(row.group(1));
                }
            }
        }
        assertFalse(names.isEmpty(), "README.md has no table headed '... | " + lastHeader + " |'");
        return names;
    }

    private static Set<String> leftOut()
    {
        return readmeTable("why");
    }

    private static Set<String> optional()
    {
        return readmeTable("present");
    }

    /**
     * The optional fields (README's table) that are top-level fields the queue table reads as they are, each a
     * field of docs/flow-record.md: absent from the sample's records, so checked against the schema instead.
     */
    private static Set<String> optionalTopLevel()
    {
        final String schema = DeployFiles.read(DeployFiles.root().resolve("docs/flow-record.md"));
        final Set<String> topLevelOptional = new LinkedHashSet<>();
        for (final String field : optional())
        {
            if (!field.contains("."))
            {
                assertTrue(schema.contains("| `" + field + "` |"), field + " is not a field of docs/flow-record.md");
                topLevelOptional.add(field);
            }
        }
        return topLevelOptional;
    }

    /** Each JSON path the views extract, with the view column it goes to. */
    private static Map<String, String> extractedPaths()
    {
        final Map<String, String> extracted = new LinkedHashMap<>();
        final Map<String, String> columns = new LinkedHashMap<>(ClickHouseSql.viewColumns(sql("02_raw.sql"), RAW_VIEW));
        columns.putAll(ClickHouseSql.viewColumns(sql("03_rollup.sql"), ROLLUP_VIEW));
        columns.forEach((column, expression) ->
            ClickHouseSql.jsonPaths(expression).forEach(path -> extracted.put(path, column)));
        return extracted;
    }

    @Test
    void shouldReadEveryTopLevelFieldOrListItAsLeftOut()
    {
        final List<String> columns = ClickHouseSql.tableColumns(sql("01_kafka.sql"), KAFKA_TABLE);
        final Set<String> missing = new LinkedHashSet<>(topLevel);
        missing.removeAll(columns);
        missing.removeAll(leftOut());
        assertEquals(Set.of(), missing, "record fields neither read by " + KAFKA_TABLE + " nor listed in " +
            "README.md's 'Fields left out'");
        final Set<String> both = new LinkedHashSet<>(leftOut());
        both.retainAll(columns);
        assertEquals(Set.of(), both, "listed as left out but read by " + KAFKA_TABLE);
    }

    @Test
    void shouldReadOnlyFieldsTheRecordHas()
    {
        final Set<String> unknown = new LinkedHashSet<>(ClickHouseSql.tableColumns(sql("01_kafka.sql"), KAFKA_TABLE));
        unknown.removeAll(topLevel);
        unknown.removeAll(optionalTopLevel());
        assertEquals(Set.of(), unknown, KAFKA_TABLE + " reads columns no record has (they would stay at their " +
            "defaults: input_format_skip_unknown_fields hides nothing the other way round)");
        final Set<String> stale = new LinkedHashSet<>(leftOut());
        stale.removeAll(paths);
        assertEquals(Set.of(), stale, "README.md lists as left out fields no record has");
    }

    @Test
    void shouldExtractOnlyPathsTheRecordHasOrDocumentsAsOptional()
    {
        final Set<String> kafkaColumns = Set.copyOf(ClickHouseSql.tableColumns(sql("01_kafka.sql"), KAFKA_TABLE));
        final String schema = DeployFiles.read(DeployFiles.root().resolve("docs/flow-record.md"));
        final Map<String, String> extracted = extractedPaths();
        assertTrue(extracted.size() > 50, "the views extract the tcp object: " + extracted.keySet());
        for (final String path : extracted.keySet())
        {
            final String column = path.substring(0, path.indexOf('.'));
            assertTrue(kafkaColumns.contains(column), path + ": " + column + " is not a column of " + KAFKA_TABLE);
            if (optional().contains(path))
            {
                assertTrue(schema.contains("| `" + path + "` |"), path + " is not a field of docs/flow-record.md");
            }
            else
            {
                assertTrue(paths.contains(path), path + " (into " + extracted.get(path) + ") is in no record");
            }
        }
        final Set<String> unused = new LinkedHashSet<>(optional());
        unused.removeAll(extracted.keySet());
        unused.removeAll(optionalTopLevel());
        assertEquals(Set.of(), unused, "README.md lists optional fields the views do not extract");
    }

    @Test
    void shouldExtractEveryLeafOfTheTcpObject()
    {
        final Set<String> missing = new TreeSet<>(tcpLeaves);
        missing.removeAll(extractedPaths().keySet());
        missing.removeAll(leftOut());
        assertEquals(Set.of(), missing, "fields of the records' tcp object that no view extracts");
    }

    @Test
    void shouldHaveColumnsForEveryAnalysisAndSecurityCounterOfEachSide()
    {
        final Map<String, String> rawView = ClickHouseSql.viewColumns(sql("02_raw.sql"), RAW_VIEW);
        final Set<String> rawTable = Set.copyOf(ClickHouseSql.tableColumns(sql("02_raw.sql"), RAW_TABLE));
        final Map<String, String> rollupView = ClickHouseSql.viewColumns(sql("03_rollup.sql"), ROLLUP_VIEW);
        final Set<String> rollupTable = Set.copyOf(ClickHouseSql.tableColumns(sql("03_rollup.sql"), ROLLUP_TABLE));
        int counters = 0;
        for (final String object : COUNTER_OBJECTS)
        {
            final Set<String> names = new TreeSet<>();
            for (final String side : SIDES)
            {
                final JsonNode counts = records.getFirst().path("tcp").path(side).path(object);
                assertTrue(counts.isObject() && !counts.isEmpty(), "records have tcp." + side + "." + object);
                counts.fieldNames().forEachRemaining(names::add);
            }
            for (final String name : names)
            {
                for (final String side : SIDES)
                {
                    final String column = side + "_" + name;
                    assertTrue(rawTable.contains(column), RAW_TABLE + " has no column " + column);
                    assertEquals(List.of("tcp." + side + "." + object + "." + name),
                        ClickHouseSql.jsonPaths(rawView.getOrDefault(column, "")), RAW_VIEW + "'s " + column);
                }
                assertTrue(rollupTable.contains(name), ROLLUP_TABLE + " has no column " + name);
                final String sum = rollupView.getOrDefault(name, "");
                assertTrue(sum.contains("orig_" + name) && sum.contains("resp_" + name),
                    ROLLUP_VIEW + "'s " + name + " adds both sides: " + sum);
                counters++;
            }
        }
        assertTrue(counters >= 18, "15 analysis counters and 3 security signals, found " + counters);
    }

    @Test
    void shouldFillExactlyTheColumnsOfEachTable()
    {
        assertEquals(ClickHouseSql.tableColumns(sql("02_raw.sql"), RAW_TABLE),
            List.copyOf(ClickHouseSql.viewColumns(sql("02_raw.sql"), RAW_VIEW).keySet()), RAW_VIEW);
        assertEquals(ClickHouseSql.tableColumns(sql("03_rollup.sql"), ROLLUP_TABLE),
            List.copyOf(ClickHouseSql.viewColumns(sql("03_rollup.sql"), ROLLUP_VIEW).keySet()), ROLLUP_VIEW);
    }

    @Test
    void shouldDocumentEveryPlaceholder()
    {
        final String readme = readme();
        for (final String file : List.of("01_kafka.sql", "02_raw.sql", "03_rollup.sql"))
        {
            for (final String name : ClickHouseSql.placeholders(sql(file)))
            {
                assertTrue(readme.contains("| `${" + name + "}` |"), file + ": ${" + name + "} not in README.md");
                assertTrue(Pattern.compile("envsubst '[^']*\\$" + name + "\\b").matcher(readme).find(),
                    "README.md's envsubst leaves out $" + name);
            }
        }
    }
}
