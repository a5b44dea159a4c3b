package dev.flowtracker.ingest.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every TCP stream tshark sees in the corpus must be one of our connections with the same packet count in each
 * direction. Streams are matched by endpoints and first-packet time; each connection matches at most once.
 */
class CorpusPacketCountTest
{
    private static final double REQUIRED_MATCH_RATIO = 0.995;
    /** Oracle times are printed with microseconds; ours are exact. */
    private static final double TIME_TOLERANCE_SECONDS = 2e-6;
    private static final double MAX_COMPARABLE_SECONDS = Long.MAX_VALUE / 1e9;

    @Test
    void shouldMatchTsharkPacketCountsPerDirectionForNearlyEveryStream() throws Exception
    {
        final Path corpus = Corpus.requireCorpus();
        long streams = 0;
        long matched = 0;
        final List<String> mismatches = new ArrayList<>();
        for (final Path oracleFile : Corpus.oracleFiles(corpus))
        {
            final JsonNode oracle = Corpus.readJson(oracleFile);
            final Corpus.Analysis analysis = Corpus.analyse(Corpus.captureOf(corpus, oracleFile));
            final List<Corpus.Observed> unused = new ArrayList<>(analysis.connections());
            for (final JsonNode stream : oracle.get("streams"))
            {
                if (stream.get("packets").asLong() == 0)
                {
                    continue; // TCP headers quoted in ICMP errors only: not a connection.
                }
                streams++;
                final String problem = match(stream, unused);
                if (problem == null)
                {
                    matched++;
                }
                else
                {
                    mismatches.add(corpus.resolve("oracle").relativize(oracleFile) + " stream " +
                        stream.get("stream").asInt() + ": " + problem);
                }
            }
        }
        mismatches.forEach(m -> System.out.println("packet-count mismatch: " + m));
        final double ratio = streams == 0 ? 0 : matched / (double)streams;
        System.out.printf(Locale.ROOT,
            "corpus packet counts: %d of %d tshark streams matched (%.2f%%), %d mismatches%n",
            matched, streams, ratio * 100, mismatches.size());
        assertTrue(streams > 0, "the corpus has no TCP streams");
        assertTrue(ratio >= REQUIRED_MATCH_RATIO, String.format(Locale.ROOT,
            "only %.2f%% of streams matched (need %.1f%%); first mismatches: %s", ratio * 100,
            REQUIRED_MATCH_RATIO * 100, mismatches.subList(0, Math.min(10, mismatches.size()))));
    }

    /** Finds the stream's connection and compares counts; returns null when equal, else what differs. */
    private static String match(final JsonNode stream, final List<Corpus.Observed> unused)
    {
        final Corpus.Observed best = Corpus.takeMatch(stream, unused);
        final String tuple = Corpus.tuple(stream);
        final long c2s = stream.get("c2s").get("packets").asLong();
        final long s2c = stream.get("s2c").get("packets").asLong();
        if (best == null)
        {
            return "no connection for " + tuple + " (tshark " + c2s + "/" + s2c + " packets)";
        }
        final double firstTime = stream.get("first_time").asDouble();
        // Times past 2^63 ns (pcapng-example's raw timestamps read as unsigned by tshark) are not comparable.
        if (firstTime < MAX_COMPARABLE_SECONDS && Math.abs(best.firstTime() - firstTime) > TIME_TOLERANCE_SECONDS)
        {
            return String.format(Locale.ROOT, "%s starts at %.6f, tshark's at %.6f", tuple, best.firstTime(),
                firstTime);
        }
        final long ourC2s = best.packetsFrom(stream.get("client_ip").asText(), stream.get("client_port").asInt());
        final long ourS2c = best.packetsFrom(stream.get("server_ip").asText(), stream.get("server_port").asInt());
        if (ourC2s != c2s || ourS2c != s2c)
        {
            return tuple + " packets ours " + ourC2s + "/" + ourS2c + ", tshark " + c2s + "/" + s2c;
        }
        return null;
    }
}
