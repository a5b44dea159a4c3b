package dev.flowtracker.ingest.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.TcpEndpoint;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 15 tshark analysis counters, per stream and direction, against the tshark 4.0.17 oracle. A cell is one
 * (stream, direction, flag) where either side counted something; it agrees when the counts are equal. Only
 * streams whose identity matched (same packets each way: {@link CorpusPacketCountTest}) are compared; the others
 * are reported apart.
 * Requires 99.5 % of all cells, and 98 % for every flag with at least 50 cells.
 */
class CorpusAnalysisFlagsTest
{
    private static final double REQUIRED_OVERALL = 0.995;
    private static final double REQUIRED_PER_FLAG = 0.98;
    private static final int MIN_CELLS_FOR_FLAG_BAR = 50;

    @Test
    void shouldCountTheTsharkAnalysisFlagsLikeTshark() throws Exception
    {
        final Path corpus = Corpus.requireCorpus();
        final int flags = AnalysisFlag.count();
        final long[] cells = new long[flags];
        final long[] equal = new long[flags];
        final List<String> disagreements = new ArrayList<>();
        int excludedStreams = 0;
        for (final Path oracleFile : Corpus.oracleFiles(corpus))
        {
            final JsonNode oracle = Corpus.readJson(oracleFile);
            final Corpus.Analysis analysis = Corpus.analyse(Corpus.captureOf(corpus, oracleFile));
            final List<Corpus.Observed> unused = new ArrayList<>(analysis.connections());
            final String file = corpus.resolve("oracle").relativize(oracleFile).toString();
            for (final JsonNode stream : oracle.get("streams"))
            {
                if (stream.get("packets").asLong() == 0)
                {
                    continue;
                }
                final Corpus.Observed observed = Corpus.takeMatch(stream, unused);
                if (observed == null || !Corpus.samePackets(stream, observed))
                {
                    excludedStreams++;
                    continue;
                }
                compareDirection(file, stream, observed, "c2s", stream.get("client_ip").asText(),
                    stream.get("client_port").asInt(), cells, equal, disagreements);
                compareDirection(file, stream, observed, "s2c", stream.get("server_ip").asText(),
                    stream.get("server_port").asInt(), cells, equal, disagreements);
            }
        }
        long totalCells = 0;
        long totalEqual = 0;
        final List<String> failures = new ArrayList<>();
        for (int i = 0; i < flags; i++)
        {
            totalCells += cells[i];
            totalEqual += equal[i];
            final double ratio = cells[i] == 0 ? 1 : equal[i] / (double)cells[i];
            System.out.printf(Locale.ROOT, "analysis flag %-24s cells %6d equal %6d (%.2f%%)%n",
                AnalysisFlag.of(i).label(), cells[i], equal[i], ratio * 100);
            if (cells[i] >= MIN_CELLS_FOR_FLAG_BAR && ratio < REQUIRED_PER_FLAG)
            {
                failures.add(AnalysisFlag.of(i).label() + String.format(Locale.ROOT, " %.2f%%", ratio * 100));
            }
        }
        final double overall = totalCells == 0 ? 0 : totalEqual / (double)totalCells;
        System.out.printf(Locale.ROOT, "analysis flags overall: %d of %d cells equal (%.2f%%); %d streams not "
                + "compared (identity differs)%n", totalEqual, totalCells, overall * 100, excludedStreams);
        disagreements.forEach(d -> System.out.println("analysis disagreement: " + d));
        assertTrue(totalCells > 0, "no analysis cells compared");
        assertTrue(overall >= REQUIRED_OVERALL,
            String.format(Locale.ROOT, "overall %.2f%% < %.1f%%", overall * 100, REQUIRED_OVERALL * 100));
        assertTrue(failures.isEmpty(), "flags below " + REQUIRED_PER_FLAG * 100 + "%: " + failures);
    }

    private static void compareDirection(
        final String file, final JsonNode stream, final Corpus.Observed observed, final String direction,
        final String host, final int port, final long[] cells, final long[] equal, final List<String> disagreements)
    {
        final JsonNode expected = stream.get(direction).get("analysis");
        final TcpEndpoint ours = observed == null ? null : Corpus.endpointOf(observed, host, port);
        for (final AnalysisFlag flag : AnalysisFlag.values())
        {
            final long theirs = expected.get(flag.label()).asLong();
            final long mine = ours == null ? 0 : ours.analysisCount(flag);
            if (theirs == 0 && mine == 0)
            {
                continue;
            }
            cells[flag.ordinal()]++;
            if (theirs == mine)
            {
                equal[flag.ordinal()]++;
            }
            else
            {
                disagreements.add(file + " stream " + stream.get("stream").asInt() + " " + direction + " " +
                    flag.label() + ": ours " + mine + ", tshark " + theirs);
            }
        }
    }
}
