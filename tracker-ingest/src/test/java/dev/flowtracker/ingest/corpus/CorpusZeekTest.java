package dev.flowtracker.ingest.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * conn_state and history against the conn.log rows Zeek itself wrote for the corpus's Zeek captures
 * (zeek-oracle/). Each capture is analysed with Zeek's lifecycle and the options its baseline was made with: bare
 * mode (fewer likely-server ports: only those of the protocol scripts the test loaded), {@code -C}, and the redefs
 * that matter. Rows pair with our records by unordered 4-tuple, in removal order; rows without a 4-tuple pair by
 * value. Requires 99 % of connections with the same conn_state and 97 % with the same history.
 */
class CorpusZeekTest
{
    private static final double REQUIRED_CONN_STATE = 0.99;
    private static final double REQUIRED_HISTORY = 0.97;

    /** TCP ports each Zeek protocol script registers (its {@code likely_server_ports} contribution). */
    private static final Map<String, int[]> SCRIPT_PORTS = Map.ofEntries(
        Map.entry("ftp", new int[]{21, 2811}),
        Map.entry("http", new int[]{80, 81, 631, 1080, 3128, 8000, 8080, 8888}),
        Map.entry("ssl", new int[]{443, 465, 563, 585, 614, 636, 989, 990, 992, 993, 995, 5223}),
        Map.entry("mysql", new int[]{1434, 3306}),
        Map.entry("smtp", new int[]{25, 587}),
        Map.entry("dns", new int[]{53}),
        Map.entry("irc", new int[]{6666, 6667, 6668, 6669}),
        Map.entry("krb", new int[]{88}),
        Map.entry("modbus", new int[]{502}),
        Map.entry("postgresql", new int[]{5432}),
        Map.entry("redis", new int[]{6379}),
        Map.entry("ssh", new int[]{22}),
        Map.entry("syslog", new int[]{514}),
        Map.entry("imap", new int[]{143}),
        Map.entry("xmpp", new int[]{5222, 5269}));

    @Test
    void shouldMatchZeekConnStateAndHistory() throws Exception
    {
        final Path corpus = Corpus.requireCorpus();
        final Path oracleDir = corpus.resolve("zeek-oracle").resolve("zeek");
        assertTrue(Files.isDirectory(oracleDir), "no Zeek baselines at " + oracleDir);
        final Map<String, long[]> byGroup = new TreeMap<>();
        final long[] total = new long[4]; // state rows, state equal, history rows, history equal
        final List<String> disagreements = new ArrayList<>();
        for (final Path baselineFile : baselines(oracleDir))
        {
            final JsonNode baseline = Corpus.readJson(baselineFile);
            final List<JsonNode> rows = new ArrayList<>();
            baseline.get("tcp_connections").forEach(rows::add);
            if (rows.isEmpty())
            {
                continue;
            }
            final Path capture = corpus.resolve(baseline.get("pcap").asText());
            final Corpus.Analysis analysis = Corpus.analyse(capture, Lifecycle.ZEEK, optionsOf(baseline));
            final List<Corpus.Observed> unused = new ArrayList<>(analysis.connections());
            final String portFilter = portFilter(baseline);
            if (portFilter != null)
            {
                final int port = Integer.parseInt(portFilter);
                unused.removeIf(o -> o.origPort() != port && o.respPort() != port);
            }
            final String group = groupOf(baseline);
            final long[] counts = byGroup.computeIfAbsent(group, g -> new long[4]);
            final String file = baselineFile.getFileName().toString();
            final List<JsonNode> untupled = new ArrayList<>();
            for (final JsonNode row : rows)
            {
                final Corpus.Observed match = matchByTuple(row, unused);
                if (match == null && !row.has("id.orig_h") && !row.has("endpoints_from_tshark"))
                {
                    untupled.add(row);
                    continue;
                }
                compare(file, row, match, counts, disagreements);
            }
            for (final JsonNode row : untupled)
            {
                compare(file, row, matchByValue(row, unused), counts, disagreements);
            }
        }
        for (final Map.Entry<String, long[]> entry : byGroup.entrySet())
        {
            final long[] c = entry.getValue();
            System.out.printf(Locale.ROOT, "zeek %-34s conn_state %4d/%4d  history %4d/%4d%n", entry.getKey(),
                c[1], c[0], c[3], c[2]);
            for (int i = 0; i < 4; i++)
            {
                total[i] += c[i];
            }
        }
        final double stateRatio = total[1] / (double)Math.max(1, total[0]);
        final double historyRatio = total[3] / (double)Math.max(1, total[2]);
        System.out.printf(Locale.ROOT, "zeek overall: conn_state %d of %d (%.2f%%), history %d of %d (%.2f%%)%n",
            total[1], total[0], stateRatio * 100, total[3], total[2], historyRatio * 100);
        disagreements.forEach(d -> System.out.println("zeek disagreement: " + d));
        assertTrue(total[0] > 1000 && total[2] > 1000, "too few Zeek rows compared");
        assertTrue(stateRatio >= REQUIRED_CONN_STATE,
            String.format(Locale.ROOT, "conn_state %.2f%% < %.0f%%", stateRatio * 100, REQUIRED_CONN_STATE * 100));
        assertTrue(historyRatio >= REQUIRED_HISTORY,
            String.format(Locale.ROOT, "history %.2f%% < %.0f%%", historyRatio * 100, REQUIRED_HISTORY * 100));
    }

    private static List<Path> baselines(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    /** The Zeek options the baseline was written with, as far as they change connection summaries. */
    static ZeekOptions optionsOf(final JsonNode baseline)
    {
        final JsonNode options = baseline.get("zeek_options");
        final ZeekOptions.Builder builder = ZeekOptions.builder()
            .ignoreChecksums(options.get("ignore_checksums (-C)").asBoolean());
        if (options.get("bare_mode (-b)").asBoolean())
        {
            final TreeSet<Integer> ports = new TreeSet<>();
            final List<JsonNode> loads = new ArrayList<>();
            baseline.get("test_script_loads").forEach(loads::add);
            options.get("cmdline_scripts").forEach(loads::add);
            for (final JsonNode load : loads)
            {
                final String script = load.asText();
                final String prefix = "base/protocols/";
                if (script.startsWith(prefix))
                {
                    final int[] scriptPorts = SCRIPT_PORTS.get(script.substring(prefix.length()));
                    if (scriptPorts != null)
                    {
                        for (final int port : scriptPorts)
                        {
                            ports.add(port);
                        }
                    }
                }
            }
            builder.likelyServerPorts(ports.stream().mapToInt(Integer::intValue).toArray());
        }
        final List<String> redefs = new ArrayList<>();
        baseline.get("test_script_redefs").forEach(r -> redefs.add(r.asText().replace(" ", "")));
        options.get("cmdline_redefs").forEach(r -> redefs.add(r.asText().replace(" ", "")));
        for (final String redef : redefs)
        {
            if (redef.contains("report_gaps_for_partial=T"))
            {
                builder.reportGapsForPartial(true);
            }
            if (redef.contains("tcp_excessive_data_without_further_acks=0"))
            {
                builder.excessiveDataWithoutAcks(0);
            }
        }
        return builder.build();
    }

    /** The port of a {@code tcp port N} BPF filter, or null. */
    private static String portFilter(final JsonNode baseline)
    {
        final JsonNode filter = baseline.get("zeek_options").get("bpf_filter (-f)");
        if (filter == null || filter.isNull())
        {
            return null;
        }
        final String text = filter.asText().trim();
        return text.startsWith("tcp port ") ? text.substring("tcp port ".length()).trim() : null;
    }

    private static String groupOf(final JsonNode baseline)
    {
        final JsonNode options = baseline.get("zeek_options");
        return (options.get("bare_mode (-b)").asBoolean() ? "bare (-b)" : "full") +
            (options.get("ignore_checksums (-C)").asBoolean() ? ", checksums ignored (-C)" : ", checksums checked") +
            (baseline.get("conn_affecting_options").isEmpty() ? "" : ", redefs");
    }

    private static Corpus.Observed matchByTuple(final JsonNode row, final List<Corpus.Observed> unused)
    {
        final String hostA;
        final int portA;
        final String hostB;
        final int portB;
        if (row.has("id.orig_h"))
        {
            hostA = row.get("id.orig_h").asText();
            portA = row.has("id.orig_p") ? row.get("id.orig_p").asInt() : -1; // some subsets lack it
            hostB = row.get("id.resp_h").asText();
            portB = row.get("id.resp_p").asInt();
        }
        else if (row.has("endpoints_from_tshark"))
        {
            final JsonNode endpoints = row.get("endpoints_from_tshark");
            final String[] a = endpointParts(endpoints.get(0));
            final String[] b = endpointParts(endpoints.get(1));
            hostA = a[0];
            portA = Integer.parseInt(a[1]);
            hostB = b[0];
            portB = Integer.parseInt(b[1]);
        }
        else
        {
            return null;
        }
        for (final Corpus.Observed candidate : unused)
        {
            if (portA < 0 ? candidate.origHost().equals(hostA) && candidate.respHost().equals(hostB) &&
                candidate.respPort() == portB : candidate.hasEndpoints(hostA, portA, hostB, portB))
            {
                unused.remove(candidate);
                return candidate;
            }
        }
        return null;
    }

    /** An endpoint written as an object {ip, port}, a [host, port] pair or "host:port". */
    private static String[] endpointParts(final JsonNode endpoint)
    {
        if (endpoint.isObject())
        {
            final JsonNode host = endpoint.has("ip") ? endpoint.get("ip") : endpoint.get("host");
            return new String[]{host.asText(), endpoint.get("port").asText()};
        }
        if (endpoint.isArray())
        {
            return new String[]{endpoint.get(0).asText(), endpoint.get(1).asText()};
        }
        final String text = endpoint.asText();
        final int colon = text.lastIndexOf(':');
        return new String[]{text.substring(0, colon), text.substring(colon + 1)};
    }

    private static Corpus.Observed matchByValue(final JsonNode row, final List<Corpus.Observed> unused)
    {
        for (final Corpus.Observed candidate : unused)
        {
            if (sameText(row, "conn_state", candidate.connection().zeek().connState()) &&
                sameText(row, "history", candidate.connection().zeek().history()))
            {
                unused.remove(candidate);
                return candidate;
            }
        }
        return null;
    }

    private static boolean sameText(final JsonNode row, final String field, final String ours)
    {
        if (!row.has(field))
        {
            return true;
        }
        final JsonNode value = row.get(field);
        return Objects.equals(value.isNull() ? null : value.asText(), ours);
    }

    private static void compare(
        final String file, final JsonNode row, final Corpus.Observed match, final long[] counts,
        final List<String> disagreements)
    {
        final String state = match == null ? "(no connection)" : match.connection().zeek().connState();
        final String history = match == null ? "(no connection)" : match.connection().zeek().history();
        final StringBuilder problem = new StringBuilder();
        if (row.has("conn_state"))
        {
            counts[0]++;
            if (match != null && sameText(row, "conn_state", state))
            {
                counts[1]++;
            }
            else
            {
                problem.append(" conn_state zeek ").append(row.get("conn_state").asText())
                    .append(" ours ").append(state);
            }
        }
        if (row.has("history"))
        {
            counts[2]++;
            if (match != null && sameText(row, "history", history))
            {
                counts[3]++;
            }
            else
            {
                problem.append(" history zeek ").append(row.get("history").asText()).append(" ours ").append(history);
            }
        }
        if (!problem.isEmpty())
        {
            final String tuple = row.has("id.orig_h") ? row.get("id.orig_h").asText() + ":" +
                row.path("id.orig_p").asInt(-1) + " -> " + row.get("id.resp_h").asText() + ":" +
                row.get("id.resp_p").asInt() : "(no tuple)";
            disagreements.add(file + " " + tuple + problem);
        }
    }
}
