package dev.flowtracker.ingest.metrics;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.file.CaptureFileSource;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The catalogue ({@link TrackerMetric}) is the one list of metrics: docs/metrics.md documents exactly its entries
 * and deprecated names, with their types and labels; the names follow Prometheus conventions; a running daemon's
 * scrape serves exactly the catalogue (and each deprecated name with its new name's values); and no metric name
 * is spelt anywhere else in main code.
 */
class TrackerMetricCatalogueTest
{
    private static final Path DOC = Path.of("../docs/metrics.md");
    private static final Path MAIN_SOURCES = Path.of("src/main/java");
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    /** A catalogue row: `name` | type | `label`, `label` | meaning |. */
    private static final Pattern METRIC_ROW =
        Pattern.compile("^\\| `(tracker_[a-z0-9_]+)` \\| ([a-z]+) \\|([^|]*)\\|.*\\|$");
    /** A deprecated-name row: `old` | `new` | type | `label`, `label` |. */
    private static final Pattern DEPRECATED_ROW =
        Pattern.compile("^\\| `(tracker_[a-z0-9_]+)` \\| `(tracker_[a-z0-9_]+)` \\| ([a-z]+) \\|([^|]*)\\|$");
    private static final Pattern TYPE_LINE = Pattern.compile("^# TYPE (tracker_[a-z0-9_]+) ([a-z]+)$");
    private static final Pattern SAMPLE_LINE = Pattern.compile("^(tracker_[a-z0-9_]+)(\\{.*})? (\\S+)$");
    /**
     * Served only while capturing on an interface with AF_PACKET, which a test cannot assume, or with a Kafka sink
     * (AnalyzeKafkaTest and RunKafkaTest scrape those); the aggregate ones only by tracker aggregate
     * (AggregateKafkaTest scrapes those).
     */
    private static final Set<TrackerMetric> NOT_ALWAYS_SERVED = EnumSet.of(TrackerMetric.CAPTURE_KERNEL_PACKETS,
        TrackerMetric.CAPTURE_KERNEL_PACKETS_DROPPED, TrackerMetric.CAPTURE_KERNEL_FREEZES,
        TrackerMetric.CAPTURE_CHECKSUMS_UNVERIFIED,
        TrackerMetric.KAFKA_BUFFERED_RECORDS, TrackerMetric.KAFKA_BUFFERED_BYTES,
        TrackerMetric.KAFKA_BUFFER_LIMIT_BYTES, TrackerMetric.KAFKA_REACHABLE, TrackerMetric.KAFKA_SEND_FAILURES,
        TrackerMetric.KAFKA_RECORD_BYTES, TrackerMetric.KAFKA_DELIVERY_LATENCY,
        TrackerMetric.AGGREGATE_RECORDS_READ, TrackerMetric.AGGREGATE_INTERIM_RECORDS_SKIPPED,
        TrackerMetric.AGGREGATE_RECORDS_MALFORMED,
        TrackerMetric.AGGREGATE_ROLLUPS_WRITTEN, TrackerMetric.AGGREGATE_DEDUP_RECORDS_WRITTEN,
        TrackerMetric.AGGREGATE_DUPLICATES_MERGED);

    private record Documented(String type, List<String> labels)
    {
    }

    @Test
    void shouldDocumentEveryCatalogueMetricWithItsTypeAndLabels() throws IOException
    {
        final Map<String, Documented> documented = documentedMetrics();
        final List<String> problems = new ArrayList<>();
        for (final TrackerMetric metric : TrackerMetric.values())
        {
            final Documented doc = documented.get(metric.metricName());
            if (doc == null)
            {
                problems.add(metric.metricName() + " (" + metric + ") is not in docs/metrics.md");
            }
            else if (!doc.equals(new Documented(metric.type().label(), metric.labelNames())))
            {
                problems.add(metric.metricName() + ": docs/metrics.md says " + doc.type() + " " + doc.labels() +
                    ", the catalogue " + metric.type().label() + " " + metric.labelNames());
            }
        }
        assertTrue(problems.isEmpty(), String.join("\n", problems));
    }

    @Test
    void shouldDocumentOnlyMetricsTheCatalogueHas() throws IOException
    {
        final Set<String> catalogued = new HashSet<>();
        for (final TrackerMetric metric : TrackerMetric.values())
        {
            catalogued.add(metric.metricName());
        }
        final Set<String> extra = new TreeSet<>(documentedMetrics().keySet());
        extra.removeAll(catalogued);
        assertTrue(extra.isEmpty(), "docs/metrics.md documents metrics TrackerMetric does not have: " + extra);
    }

    @Test
    void shouldDocumentEveryDeprecatedNameWithItsNewName() throws IOException
    {
        final Map<String, String> expected = new TreeMap<>();
        for (final TrackerMetric metric : TrackerMetric.values())
        {
            if (metric.deprecatedName() != null)
            {
                expected.put(metric.deprecatedName(), metric.metricName() + " " + metric.type().label() + " " +
                    metric.labelNames());
            }
        }
        final Map<String, String> documented = new TreeMap<>();
        for (final String line : Files.readAllLines(DOC))
        {
            final Matcher row = DEPRECATED_ROW.matcher(line);
            if (row.matches())
            {
                documented.put(row.group(1), row.group(2) + " " + row.group(3) + " " + labels(row.group(4)));
            }
        }
        assertEquals(expected, documented, "docs/metrics.md's deprecated names (old -> new type labels)");
    }

    @Test
    void shouldFollowPrometheusNamingConventions()
    {
        final Set<String> names = new HashSet<>();
        for (final TrackerMetric metric : TrackerMetric.values())
        {
            final String name = metric.metricName();
            assertTrue(name.matches("tracker_[a-z0-9]+(_[a-z0-9]+)*"), name + ": tracker_ and snake case");
            assertEquals(metric.type() == TrackerMetric.Type.COUNTER, name.endsWith("_total"),
                name + ": _total on counters, and only there");
            final String base = name.endsWith("_total") ? name.substring(0, name.length() - "_total".length()) : name;
            if (metric.unit().equals("seconds") || metric.unit().equals("bytes"))
            {
                assertTrue(base.endsWith("_" + metric.unit()), name + ": base unit " + metric.unit() + " in the name");
            }
            assertFalse(base.matches(".*_(milliseconds|millis|ms|kilobytes|kb|mb|minutes)$"), name + ": base units");
            assertFalse(base.endsWith("_created") || base.endsWith("_bucket") || base.endsWith("_count") ||
                base.endsWith("_sum"), name + ": a suffix Prometheus reserves");
            assertFalse(metric.help().isBlank(), name + ": help");
            assertFalse(metric.unit().isBlank(), name + ": unit");
            assertTrue(metric.labelNames().stream().allMatch(l -> l.matches("[a-z][a-z_]*")), name + ": labels");
            assertTrue(names.add(name), name + ": declared once");
        }
        for (final TrackerMetric metric : TrackerMetric.values())
        {
            final String old = metric.deprecatedName();
            if (old != null)
            {
                assertTrue(names.add(old), old + ": a deprecated name is no other metric's name");
                assertEquals(metric.type() == TrackerMetric.Type.COUNTER, old.endsWith("_total"), old);
            }
        }
    }

    @Test
    void shouldServeExactlyTheCatalogueAndEachDeprecatedNameWithItsNewNamesValues()
    {
        final Pipeline pipeline = new Pipeline(2, 1024, true, 1, Lifecycle.ZEEK, ZeekOptions.builder().build(),
            FlowLimits.builder().maxFlows(1000).build(), null, worker -> connection ->
            {
            });
        final FlowEndCounters[] ends = {new FlowEndCounters(), new FlowEndCounters()};
        final String exposition;
        final String openMetrics;
        try (RecordWriter records = RecordWriter.toStream(new ByteArrayOutputStream());
             TrackerMetrics metrics = new TrackerMetrics(new TrackerMetrics.Parts(pipeline,
                 List.<PacketSource>of(new CaptureFileSource(List.of(SAMPLE), 0)), ends, records, 1000,
                 pipeline::finished)))
        {
            exposition = metrics.scrape("text/plain").body();
            openMetrics = metrics.scrape("application/openmetrics-text; version=1.0.0").body();
        }
        finally
        {
            pipeline.finish();
        }

        final Map<String, String> served = new TreeMap<>();
        final Map<String, Double> samples = new LinkedHashMap<>();
        for (final String line : exposition.lines().toList())
        {
            final Matcher type = TYPE_LINE.matcher(line);
            final Matcher sample = SAMPLE_LINE.matcher(line);
            if (type.matches())
            {
                served.put(type.group(1), type.group(2));
            }
            else if (sample.matches())
            {
                samples.put(sample.group(1) + (sample.group(2) == null ? "" : sample.group(2)),
                    Double.parseDouble(sample.group(3)));
            }
        }
        final Map<String, String> expected = new TreeMap<>();
        for (final TrackerMetric metric : TrackerMetric.values())
        {
            if (!NOT_ALWAYS_SERVED.contains(metric))
            {
                expected.put(metric.metricName(), metric.type().label());
                if (metric.deprecatedName() != null)
                {
                    expected.put(metric.deprecatedName(), metric.type().label());
                }
            }
        }
        assertEquals(expected, served, "the tracker_ families a scrape serves (name -> type)");
        assertEquals(expected.keySet(), sampleFamilies(exposition, expected.keySet()), "names of served samples");
        assertEquals(expected.keySet(), sampleFamilies(openMetrics, expected.keySet()),
            "names of served samples, OpenMetrics");

        int aliased = 0;
        for (final TrackerMetric metric : TrackerMetric.values())
        {
            if (metric.deprecatedName() == null || NOT_ALWAYS_SERVED.contains(metric))
            {
                continue;
            }
            for (final Map.Entry<String, Double> sample : samples.entrySet())
            {
                if (sample.getKey().startsWith(metric.metricName()))
                {
                    final String old = metric.deprecatedName() + sample.getKey().substring(
                        metric.metricName().length());
                    assertEquals(sample.getValue(), samples.get(old), old + " serves " + sample.getKey() + "'s value");
                    aliased++;
                }
            }
        }
        assertTrue(aliased > 0, "deprecated names with series in a replay");
    }

    @Test
    void shouldSpellMetricNamesOnlyInTheCatalogue() throws IOException
    {
        final List<String> found = new ArrayList<>();
        try (Stream<Path> files = Files.walk(MAIN_SOURCES))
        {
            for (final Path file : files.filter(f -> f.toString().endsWith(".java")).toList())
            {
                if (file.getFileName().toString().equals("TrackerMetric.java"))
                {
                    continue;
                }
                final List<String> lines = Files.readAllLines(file);
                for (int i = 0; i < lines.size(); i++)
                {
                    // A string literal that starts like a meter name, in Prometheus or Micrometer spelling; the
                    // Kafka record topic's default name, tracker.conn, is the one such literal that is not a meter.
                    if (lines.get(i).matches(".*\"tracker[._][a-z].*") &&
                        !lines.get(i).contains("\"tracker.conn\""))
                    {
                        found.add(file + ":" + (i + 1) + ": " + lines.get(i).strip());
                    }
                }
            }
        }
        assertTrue(found.isEmpty(), "metric names belong in TrackerMetric:\n" + String.join("\n", found));
    }

    /** Every `tracker_...` row of docs/metrics.md's tables: name to type and labels. */
    private static Map<String, Documented> documentedMetrics() throws IOException
    {
        final Map<String, Documented> documented = new LinkedHashMap<>();
        for (final String line : Files.readAllLines(DOC))
        {
            final Matcher row = METRIC_ROW.matcher(line);
            if (row.matches() && !DEPRECATED_ROW.matcher(line).matches())
            {
                final Documented previous =
                    documented.put(row.group(1), new Documented(row.group(2), labels(row.group(3))));
                assertTrue(previous == null, row.group(1) + " is documented twice");
            }
        }
        return documented;
    }

    /** "`a`, `b`" to [a, b]; blank to []. */
    private static List<String> labels(final String cell)
    {
        final List<String> labels = new ArrayList<>();
        final Matcher label = Pattern.compile("`([a-z_]+)`").matcher(cell);
        while (label.find())
        {
            labels.add(label.group(1));
        }
        return labels;
    }

    /** The metric names of an exposition's tracker_ samples, a histogram's (or counter's) suffixed series as one. */
    private static Set<String> sampleFamilies(final String exposition, final Set<String> known)
    {
        final Set<String> families = new TreeSet<>();
        for (final String line : exposition.lines().toList())
        {
            final Matcher sample = SAMPLE_LINE.matcher(line);
            if (sample.matches())
            {
                final String name = sample.group(1);
                final String base = name.replaceFirst("_(bucket|count|sum|created)$", "");
                families.add(known.contains(name) || !known.contains(base) ? name : base);
            }
        }
        return families;
    }
}
