package dev.flowtracker.ingest.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.output.AddressFormat;
import dev.flowtracker.ingest.output.AsciiRecord;
import dev.flowtracker.ingest.source.file.CaptureReplay;
import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The shared real-capture corpus (../shared/corpus): captures with a tshark oracle each. Tests that use it skip,
 * with a message, when it is absent.
 */
final class Corpus
{
    static final ObjectMapper JSON = new ObjectMapper();

    private Corpus()
    {
    }

    /** The corpus directory, or a skipped test when it is not there. */
    static Path requireCorpus()
    {
        final String configured = System.getProperty("tracker.corpus", "../shared/corpus");
        final Path dir = Path.of(configured).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isDirectory(dir.resolve("oracle")) && Files.isDirectory(dir.resolve("pcaps")),
            "skipped: the shared corpus is not at " + dir + " (set -Dtracker.corpus=DIR to point at it)");
        return dir;
    }

    /**
     * Captures of our own kept in this repository with their tshark 4.0.17 oracles, laid out like the corpus
     * ({@code oracle/NAME.json} beside {@code pcaps/NAME}): bulk transfers under loss captured with a 96-byte
     * snapshot length ({@code scripts/record-snaplen-captures.sh}). Always present, so never skipped.
     */
    static Path snaplenCaptures()
    {
        final URL resource = Corpus.class.getResource("/conformance/snaplen/oracle");
        if (resource == null)
        {
            throw new IllegalStateException("test resource conformance/snaplen is missing from the class path");
        }
        try
        {
            return Path.of(resource.toURI()).getParent();
        }
        catch (final URISyntaxException e)
        {
            throw new IllegalStateException(e);
        }
    }

    /** Every tshark oracle file, sorted by path. */
    static List<Path> oracleFiles(final Path corpus) throws IOException
    {
        try (Stream<Path> files = Files.walk(corpus.resolve("oracle")))
        {
            return files.filter(f -> f.toString().endsWith(".json")).sorted().toList();
        }
    }

    /** The capture an oracle describes: oracle/X/Y.json describes pcaps/X/Y. */
    static Path captureOf(final Path corpus, final Path oracle)
    {
        final String relative = corpus.resolve("oracle").relativize(oracle).toString();
        return corpus.resolve("pcaps").resolve(relative.substring(0, relative.length() - ".json".length()));
    }

    static JsonNode readJson(final Path file)
    {
        try
        {
            return JSON.readTree(file.toFile());
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
    }

    /** What the tracker reported for a capture, plus the read error that stopped it, if any. */
    record Analysis(List<Observed> connections, String error, long frames)
    {
    }

    /** One tracked connection, reduced to what the oracles compare. */
    record Observed(String origHost, int origPort, String respHost, int respPort, double firstTime,
        long origPackets, long respPackets, TcpConnection connection)
    {
        long packetsFrom(final String host, final int port)
        {
            if (origHost.equals(host) && origPort == port)
            {
                return origPackets;
            }
            return respHost.equals(host) && respPort == port ? respPackets : -1;
        }

        boolean hasEndpoints(final String hostA, final int portA, final String hostB, final int portB)
        {
            return (origHost.equals(hostA) && origPort == portA && respHost.equals(hostB) && respPort == portB) ||
                (origHost.equals(hostB) && origPort == portB && respHost.equals(hostA) && respPort == portA);
        }
    }

    static String tuple(final JsonNode stream)
    {
        return stream.get("client_ip").asText() + ":" + stream.get("client_port").asInt() + " -> " +
            stream.get("server_ip").asText() + ":" + stream.get("server_port").asInt();
    }

    /**
     * The connection for an oracle stream: same endpoints, first packet nearest in time. It is removed from
     * {@code unused}, so each connection matches at most one stream. Null when none has the endpoints.
     */
    static Observed takeMatch(final JsonNode stream, final List<Observed> unused)
    {
        final String clientHost = stream.get("client_ip").asText();
        final int clientPort = stream.get("client_port").asInt();
        final String serverHost = stream.get("server_ip").asText();
        final int serverPort = stream.get("server_port").asInt();
        final double firstTime = stream.get("first_time").asDouble();
        Observed best = null;
        for (final Observed candidate : unused)
        {
            if (candidate.hasEndpoints(clientHost, clientPort, serverHost, serverPort) &&
                (best == null || Math.abs(candidate.firstTime() - firstTime) < Math.abs(best.firstTime() - firstTime)))
            {
                best = candidate;
            }
        }
        if (best != null)
        {
            unused.remove(best);
        }
        return best;
    }

    /** Whether our connection has the stream's packet count in each direction. */
    static boolean samePackets(final JsonNode stream, final Observed observed)
    {
        return observed.packetsFrom(stream.get("client_ip").asText(), stream.get("client_port").asInt()) ==
            stream.get("c2s").get("packets").asLong() &&
            observed.packetsFrom(stream.get("server_ip").asText(), stream.get("server_port").asInt()) ==
                stream.get("s2c").get("packets").asLong();
    }

    /** Our endpoint of a connection that sent from host:port (originator or responder). */
    static TcpEndpoint endpointOf(final Observed observed, final String host, final int port)
    {
        final TcpConnection c = observed.connection();
        return observed.origHost().equals(host) && observed.origPort() == port ? c.originator() : c.responder();
    }

    /** Analyses a capture with tshark's connection lifecycle, so that connections line up with tcp.stream. */
    static Analysis analyse(final Path capture)
    {
        return analyse(capture, Lifecycle.TSHARK, ZeekOptions.DEFAULTS);
    }

    static Analysis analyse(final Path capture, final Lifecycle lifecycle, final ZeekOptions zeekOptions)
    {
        final List<Observed> observed = new ArrayList<>();
        final OfflineAnalysis analysis = new OfflineAnalysis(c -> observed.add(observe(c)), lifecycle, zeekOptions);
        String error = null;
        try
        {
            CaptureReplay.read(capture, analysis);
        }
        catch (final IOException e)
        {
            error = e.getMessage();
        }
        analysis.finish(EndReason.END_OF_INPUT);
        return new Analysis(observed, error, analysis.stats().frames());
    }

    private static Observed observe(final TcpConnection c)
    {
        final AsciiRecord orig = new AsciiRecord(40);
        AddressFormat.append(orig, c.ipVersion(), c.originatorAddressHigh(), c.originatorAddressLow());
        final AsciiRecord resp = new AsciiRecord(40);
        AddressFormat.append(resp, c.ipVersion(), c.responderAddressHigh(), c.responderAddressLow());
        return new Observed(orig.toString(), c.originatorPort(), resp.toString(), c.responderPort(),
            c.firstTimestampNanos() / 1e9, c.originator().packets(), c.responder().packets(), c);
    }
}
