package dev.flowtracker.ingest.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.output.RecordColumns;
import dev.flowtracker.ingest.output.RecordColumns.Column;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tracker analyze --format tsv|zeek|table} and {@code --fields}, end to end through {@link TrackerCli#run}:
 * each format is parsed back (Zeek's as zeek-cut reads it) and compared field by field with the JSON records of the
 * same capture, on the bundled sample and on a corpus capture when the corpus is there.
 */
class AnalyzeFormatTest
{
    static final Path SAMPLE = Path.of("../samples/sample.pcap");
    /** A corpus capture of 500 connections. */
    private static final Path CORPUS_CAPTURE = Path.of(System.getProperty("tracker.corpus", "../shared/corpus"),
        "pcaps", "zeek", "bench__echo-connections.pcap");
    private static final ObjectMapper JSON =
        new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    /** The record's fields written only when they apply: absent, they are unset (false) in a column. */
    private static final List<String> OPTIONAL = List.of("tcp.history_truncated", "tcp.vni");
    /** Zeek's conn.log columns and types, where our record has the column. */
    private static final Map<String, String> CONN_LOG_TYPES = connLogTypes();

    private static Map<String, String> connLogTypes()
    {
        final Map<String, String> types = new LinkedHashMap<>();
        final String[] pairs = {"ts", "time", "uid", "string", "id.orig_h", "addr", "id.orig_p", "port", "id.resp_h",
            "addr", "id.resp_p", "port", "proto", "enum", "duration", "interval", "orig_bytes", "count", "resp_bytes",
            "count", "conn_state", "string", "missed_bytes", "count", "history", "string", "orig_pkts", "count",
            "orig_ip_bytes", "count", "resp_pkts", "count", "resp_ip_bytes", "count"};
        for (int i = 0; i < pairs.length; i += 2)
        {
            types.put(pairs[i], pairs[i + 1]);
        }
        return types;
    }

    /** One in-process run: exit code, standard output, standard error. */
    record Run(int exit, byte[] out, String err)
    {
        List<String> lines()
        {
            final String text = new String(out, StandardCharsets.US_ASCII);
            assertTrue(text.isEmpty() || text.endsWith("\n"), "output ends with a newline");
            return text.isEmpty() ? List.of() : List.of(text.split("\n"));
        }
    }

    static Run run(final String... args)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            exit = TrackerCli.run(args, o, e);
        }
        return new Run(exit, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
    }

    /** analyze on one worker (records in a fixed order), quiet, with a fixed tap name. */
    private static Run analyze(final Path capture, final String... more)
    {
        final List<String> args = new ArrayList<>(List.of("analyze", "--no-progress", "-q", "--workers", "1",
            "--tap-name", "tap1"));
        args.addAll(Arrays.asList(more));
        args.add(capture.toString());
        final Run run = run(args.toArray(String[]::new));
        assertEquals(0, run.exit(), run.err());
        return run;
    }

    /** The JSON records, each flattened to its fields by path (tcp.orig.rtt.min), in order. */
    private static List<Map<String, JsonNode>> jsonRecords(final Path capture)
    {
        final List<Map<String, JsonNode>> records = new ArrayList<>();
        for (final String line : analyze(capture).lines())
        {
            final Map<String, JsonNode> flat = new LinkedHashMap<>();
            try
            {
                flatten("", JSON.readTree(line), flat);
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
            records.add(flat);
        }
        assertFalse(records.isEmpty(), "records of " + capture);
        return records;
    }

    private static void flatten(final String prefix, final JsonNode node, final Map<String, JsonNode> flat)
    {
        node.properties().forEach(field ->
        {
            if (field.getValue().isObject())
            {
                flatten(prefix + field.getKey() + ".", field.getValue(), flat);
            }
            else
            {
                flat.put(prefix + field.getKey(), field.getValue());
            }
        });
    }

    private static Path capture(final String which)
    {
        if (which.equals("sample"))
        {
            return SAMPLE;
        }
        Assumptions.assumeTrue(Files.isRegularFile(CORPUS_CAPTURE), "skipped: the corpus capture " +
            CORPUS_CAPTURE.toAbsolutePath().normalize() + " is not there (set -Dtracker.corpus=DIR)");
        return CORPUS_CAPTURE;
    }

    /** The record's columns (not the derived ones), in order. */
    private static List<String> recordColumns()
    {
        return RecordColumns.all().stream().filter(column -> !column.derived()).map(Column::name).toList();
    }

    @Test
    void shouldNameEveryJsonFieldAsAColumnInTheRecordsOrder()
    {
        for (final Map<String, JsonNode> record : jsonRecords(SAMPLE))
        {
            final List<String> expected = recordColumns().stream()
                .filter(name -> record.containsKey(name) || !OPTIONAL.contains(name)).toList();
            assertEquals(expected, List.copyOf(record.keySet()), "the columns are the JSON record's fields");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sample", "corpus"})
    void shouldWriteTsvWithTheJsonRecordsValues(final String which)
    {
        final Path capture = capture(which);
        final List<Map<String, JsonNode>> json = jsonRecords(capture);
        final List<String> lines = analyze(capture, "--format", "tsv").lines();
        final List<String> header = List.of(lines.getFirst().split("\t", -1));
        assertEquals(recordColumns(), header, "the header names every column of the record");
        assertEquals(json.size(), lines.size() - 1, "one row per record");
        for (int i = 0; i < json.size(); i++)
        {
            assertRow("tsv", header, List.of(lines.get(i + 1).split("\t", -1)), json.get(i));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sample", "corpus"})
    void shouldWriteZeekLogsThatZeekCutReads(final String which)
    {
        final Path capture = capture(which);
        final List<Map<String, JsonNode>> json = jsonRecords(capture);
        final List<String> lines = analyze(capture, "--format", "zeek").lines();
        assertEquals("#separator \\x09", lines.get(0));
        assertEquals("#set_separator\t,", lines.get(1));
        assertEquals("#empty_field\t(empty)", lines.get(2));
        assertEquals("#unset_field\t-", lines.get(3));
        assertEquals("#path\tconn", lines.get(4));
        assertTrue(lines.get(5).matches("#open\t\\d{4}-\\d\\d-\\d\\d-\\d\\d-\\d\\d-\\d\\d"), lines.get(5));
        assertTrue(lines.getLast().matches("#close\t\\d{4}-\\d\\d-\\d\\d-\\d\\d-\\d\\d-\\d\\d"), lines.getLast());
        final List<String> fields = headerLine(lines, "#fields");
        final List<String> types = headerLine(lines, "#types");
        assertEquals(recordColumns(), fields);
        assertEquals(fields.size(), types.size(), "a type per field");
        CONN_LOG_TYPES.forEach((name, type) -> assertEquals(type, types.get(fields.indexOf(name)), name));
        // As zeek-cut: the columns by name, here every one in a shuffled order, then a conn.log selection.
        final List<String> every = new ArrayList<>(fields);
        Collections.reverse(every);
        final List<List<String>> rows = zeekCut(lines, every);
        assertEquals(json.size(), rows.size(), "one row per record");
        for (int i = 0; i < json.size(); i++)
        {
            assertRow("zeek", every, rows.get(i), json.get(i));
        }
        final List<String> connLog = List.of("uid", "id.orig_h", "id.resp_p", "conn_state", "history");
        final List<List<String>> cut = zeekCut(lines, connLog);
        for (int i = 0; i < json.size(); i++)
        {
            assertRow("zeek", connLog, cut.get(i), json.get(i));
        }
    }

    private static List<String> headerLine(final List<String> lines, final String key)
    {
        for (final String line : lines)
        {
            if (line.startsWith(key + "\t"))
            {
                return List.of(line.substring(key.length() + 1).split("\t", -1));
            }
        }
        throw new AssertionError("no " + key + " line");
    }

    /**
     * What {@code zeek-cut NAME...} prints, split into columns: it takes the separator from {@code #separator} and
     * the column names from {@code #fields}, skips the other {@code #} lines and prints the named columns of each row.
     */
    static List<List<String>> zeekCut(final List<String> lines, final List<String> names)
    {
        String separator = "\t";
        List<String> fields = null;
        final List<List<String>> rows = new ArrayList<>();
        for (final String line : lines)
        {
            if (line.startsWith("#separator "))
            {
                final String escaped = line.substring("#separator ".length());
                separator = String.valueOf((char)Integer.parseInt(escaped.substring(2), 16));
            }
            else if (line.startsWith("#fields"))
            {
                fields = List.of(line.split(separator, -1)).subList(1, line.split(separator, -1).length);
            }
            else if (!line.startsWith("#"))
            {
                assertNotNull(fields, "a row before #fields");
                final String[] values = line.split(separator, -1);
                assertEquals(fields.size(), values.length, "a value per field: " + line);
                final List<String> row = new ArrayList<>();
                for (final String name : names)
                {
                    final int index = fields.indexOf(name);
                    assertTrue(index >= 0, "zeek-cut finds " + name);
                    row.add(values[index]);
                }
                rows.add(row);
            }
        }
        return rows;
    }

    @ParameterizedTest
    @ValueSource(strings = {"sample", "corpus"})
    void shouldWriteAnAlignedTableOfTheJsonRecordsValues(final String which)
    {
        final Path capture = capture(which);
        final List<Map<String, JsonNode>> json = jsonRecords(capture);
        for (final List<String> fields : List.of(List.<String>of(), List.of("uid", "orig", "resp", "retrans", "rtt",
            "tcp.orig.rtt.max", "tcp.orig.sack_permitted", "history", "tcp.vni")))
        {
            final List<String> args = new ArrayList<>(List.of("--format", "table"));
            if (!fields.isEmpty())
            {
                args.addAll(List.of("--fields", String.join(",", fields)));
            }
            final List<String> lines = analyze(capture, args.toArray(String[]::new)).lines();
            final List<String> header = List.of(lines.getFirst().strip().split(" +"));
            if (!fields.isEmpty())
            {
                assertEquals(fields, header, "--fields picks and orders the columns");
            }
            else
            {
                assertEquals(List.of("ts", "uid", "orig", "resp", "duration"), header.subList(0, 5), "default columns");
            }
            assertEquals(json.size(), lines.size() - 1, "one row per record");
            for (int i = 0; i < json.size(); i++)
            {
                assertRow("table", header, List.of(lines.get(i + 1).strip().split(" +")), json.get(i));
            }
        }
    }

    @Test
    void shouldAlignTableColumns()
    {
        final List<String> lines = analyze(SAMPLE, "--format", "table", "--fields", "uid,orig_bytes,conn_state")
            .lines();
        final int bytesEnd = lines.getFirst().indexOf("orig_bytes") + "orig_bytes".length();
        final int stateStart = lines.getFirst().indexOf("conn_state");
        for (final String line : lines.subList(1, lines.size()))
        {
            assertTrue(Character.isDigit(line.charAt(bytesEnd - 1)) && line.charAt(bytesEnd) == ' ',
                "numbers end under their heading: " + line);
            assertTrue(Character.isLetter(line.charAt(stateStart)) && line.charAt(stateStart - 1) == ' ',
                "text starts under its heading: " + line);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"sample", "corpus"})
    void shouldWriteTheChosenFieldsAsJsonObjects(final String which) throws IOException
    {
        final Path capture = capture(which);
        final List<Map<String, JsonNode>> json = jsonRecords(capture);
        final List<String> fields = List.of("tcp.resp.analysis.duplicate_ack", "uid", "ts", "tcp.orig.isn", "tap",
            "tcp.vni", "tcp.orig.timestamps", "orig", "community_id");
        final List<String> lines = analyze(capture, "--fields", String.join(",", fields)).lines();
        assertEquals(json.size(), lines.size());
        for (int i = 0; i < json.size(); i++)
        {
            final JsonNode object = JSON.readTree(lines.get(i));
            final List<String> keys = new ArrayList<>();
            object.fieldNames().forEachRemaining(keys::add);
            assertEquals(fields, keys, "the chosen fields, in order");
            final List<String> values = new ArrayList<>();
            for (final String field : fields)
            {
                final JsonNode value = object.get(field);
                values.add(value.isNull() ? "-" : value.isNumber() ? value.decimalValue().toPlainString() :
                    value.asText());
            }
            assertRow("json", fields, values, json.get(i));
        }
    }

    @Test
    void shouldWriteTheSameJsonWithFormatJson()
    {
        assertArrayEquals(analyze(SAMPLE).out(), analyze(SAMPLE, "--format", "json").out(),
            "--format json is the default record, byte for byte");
    }

    @Test
    void shouldRefuseAnUnknownFieldOrFormatInOneLine()
    {
        for (final String[] args : List.of(new String[] {"--fields", "ts,no_such_field"},
            new String[] {"--format", "xml"}, new String[] {"--fields", "ts,ts"}))
        {
            final List<String> all = new ArrayList<>(List.of("analyze", "--no-progress"));
            all.addAll(List.of(args));
            all.add(SAMPLE.toString());
            final Run run = run(all.toArray(String[]::new));
            assertEquals(ExitCodes.USAGE, run.exit(), run.err());
            assertEquals(0, run.out().length, "nothing written");
            assertEquals(1, run.err().strip().lines().count(), run.err());
            assertTrue(run.err().startsWith("tracker analyze: --f"), run.err());
        }
    }

    /** Each value of a row equals the JSON record's, in the format's words. */
    private static void assertRow(final String format, final List<String> names, final List<String> values,
        final Map<String, JsonNode> json)
    {
        assertEquals(names.size(), values.size(), "a value per column: " + values);
        for (int i = 0; i < names.size(); i++)
        {
            assertValue(format, names.get(i), expected(names.get(i), json), values.get(i));
        }
    }

    /** The JSON value of a column (derived ones computed from the JSON); null when unset. */
    private static Object expected(final String name, final Map<String, JsonNode> json)
    {
        return switch (name)
        {
            case "orig", "resp" ->
            {
                final String address = json.get("id." + name + "_h").asText();
                yield (address.contains(":") ? "[" + address + "]" : address) + ":" + json.get("id." + name + "_p");
            }
            case "retrans" -> json.get("tcp.orig.analysis.retransmission").decimalValue()
                .add(json.get("tcp.resp.analysis.retransmission").decimalValue());
            case "rtt" -> value(json.get("tcp.initial_rtt"));
            case "tcp.history_truncated" -> json.containsKey(name) && json.get(name).asBoolean();
            default ->
            {
                assertTrue(json.containsKey(name) || OPTIONAL.contains(name), "a field of the record: " + name);
                yield value(json.get(name));
            }
        };
    }

    private static Object value(final JsonNode node)
    {
        if (node == null || node.isNull())
        {
            return null;
        }
        if (node.isNumber())
        {
            return node.decimalValue();
        }
        return node.isBoolean() ? (Object)node.asBoolean() : node.asText();
    }

    private static void assertValue(final String format, final String name, final Object expected, final String text)
    {
        final String where = format + " " + name;
        if (expected == null)
        {
            assertEquals(format.equals("tsv") ? "" : "-", text, where + " unset");
        }
        else if (expected instanceof BigDecimal number)
        {
            assertEquals(0, number.compareTo(new BigDecimal(text)), where + ": " + number + " vs " + text);
        }
        else if (expected instanceof Boolean flag)
        {
            assertEquals(format.equals("zeek") ? (flag ? "T" : "F") : flag.toString(), text, where);
        }
        else
        {
            assertEquals(expected, text, where);
        }
    }
}
