package dev.flowtracker.ingest.corpus;

import com.fasterxml.jackson.databind.JsonNode;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.TcpEndpoint;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The 15 tshark analysis counters, per stream and direction, against the tshark 4.0.17 oracle. A cell is one
 * (stream, direction, flag) where either side counted something; it agrees when the counts are equal. Only
 * streams whose identity matched (same packets each way: {@link CorpusPacketCountTest}) are compared; the others
 * are reported apart.
 * On the shared corpus, requires 99.5 % of all cells, and 98 % for every flag with at least 50 cells. On the
 * snaplen captures kept in this repository ({@link Corpus#snaplenCaptures()}), requires every stream and every cell.
 */
class CorpusAnalysisFlagsTest
{
    private static final double REQUIRED_OVERALL = 0.995;
    private static final double REQUIRED_PER_FLAG = 0.98;
    private static final int MIN_CELLS_FOR_FLAG_BAR = 50;

    @Test
    void shouldCountTheTsharkAnalysisFlagsLikeTshark() throws Exception
    {
        final Tally tally = compare(Corpus.requireCorpus());
        final double overall = tally.print("analysis flags");
        final List<String> failures = new ArrayList<>();
        for (int i = 0; i < AnalysisFlag.count(); i++)
        {
            final double ratio = tally.cells[i] == 0 ? 1 : tally.equal[i] / (double)tally.cells[i];
            if (tally.cells[i] >= MIN_CELLS_FOR_FLAG_BAR && ratio < REQUIRED_PER_FLAG)
            {
                failures.add(AnalysisFlag.of(i).label() + String.format(Locale.ROOT, " %.2f%%", ratio * 100));
            }
        }
        assertTrue(tally.totalCells() > 0, "no analysis cells compared");
        assertTrue(overall >= REQUIRED_OVERALL,
            String.format(Locale.ROOT, "overall %.2f%% < %.1f%%", overall * 100, REQUIRED_OVERALL * 100));
        assertTrue(failures.isEmpty(), "flags below " + REQUIRED_PER_FLAG * 100 + "%: " + failures);
    }

    /**
     * Bulk transfers under about 1 % loss, captured with {@code tcpdump -s 96} (and 80, 64, 50): the data segments
     * are cut after their headers, and the ACKs' SACK blocks are cut too over IPv6, over Linux cooked v2 (three
     * blocks) and with the shorter snapshot lengths, which at 64 and 50 cut every TCP header (tshark analyses such
     * segments but reports none of their flags). Every stream must match and every cell must agree.
     */
    @Test
    void shouldCountTheTsharkAnalysisFlagsLikeTsharkOnSnaplenTruncatedCaptures() throws Exception
    {
        final Tally tally = compare(Corpus.snaplenCaptures());
        tally.print("snaplen analysis flags");
        assertEquals(0, tally.excludedStreams, "streams whose packet counts differ from tshark's");
        assertTrue(tally.cells[AnalysisFlag.DUPLICATE_ACK.ordinal()] > 0, "no duplicate_ack cells compared");
        assertTrue(tally.cells[AnalysisFlag.WINDOW_UPDATE.ordinal()] > 0, "no window_update cells compared");
        assertEquals(List.of(), tally.disagreements, "cells that differ from tshark's");
    }

    /** Compares every capture under {@code root} (oracle/ beside pcaps/) with its oracle. */
    private static Tally compare(final Path root) throws Exception
    {
        final Tally tally = new Tally();
        for (final Path oracleFile : Corpus.oracleFiles(root))
        {
            final JsonNode oracle = Corpus.readJson(oracleFile);
            final Corpus.Analysis analysis = Corpus.analyse(Corpus.captureOf(root, oracleFile));
            final List<Corpus.Observed> unused = new ArrayList<>(analysis.connections());
            final String file = root.resolve("oracle").relativize(oracleFile).toString();
            for (final JsonNode stream : oracle.get("streams"))
            {
                if (stream.get("packets").asLong() == 0)
                {
                    continue;
                }
                final Corpus.Observed observed = Corpus.takeMatch(stream, unused);
                if (observed == null || !Corpus.samePackets(stream, observed))
                {
                    tally.excludedStreams++;
                    continue;
                }
                compareDirection(file, stream, observed, "c2s", stream.get("client_ip").asText(),
                    stream.get("client_port").asInt(), tally);
                compareDirection(file, stream, observed, "s2c", stream.get("server_ip").asText(),
                    stream.get("server_port").asInt(), tally);
            }
        }
        return tally;
    }

    /** Cells compared and cells equal per flag, the cells that differ, and the streams left out. */
    private static final class Tally
    {
        final long[] cells = new long[AnalysisFlag.count()];
        final long[] equal = new long[AnalysisFlag.count()];
        final List<String> disagreements = new ArrayList<>();
        int excludedStreams;

        long totalCells()
        {
            return LongStream.of(cells).sum();
        }

        /** Prints the per-flag table and the disagreements; returns the overall ratio of equal cells. */
        double print(final String title)
        {
            for (int i = 0; i < cells.length; i++)
            {
                final double ratio = cells[i] == 0 ? 1 : equal[i] / (double)cells[i];
                System.out.printf(Locale.ROOT, "%s: %-24s cells %6d equal %6d (%.2f%%)%n",
                    title, AnalysisFlag.of(i).label(), cells[i], equal[i], ratio * 100);
            }
            final long totalEqual = LongStream.of(equal).sum();
            final double overall = totalCells() == 0 ? 0 : totalEqual / (double)totalCells();
            System.out.printf(Locale.ROOT, "%s overall: %d of %d cells equal (%.2f%%); %d streams not "
                + "compared (identity differs)%n", title, totalEqual, totalCells(), overall * 100, excludedStreams);
            disagreements.forEach(d -> System.out.println(title + " disagreement: " + d));
            return overall;
        }
    }

    private static void compareDirection(
        final String file, final JsonNode stream, final Corpus.Observed observed, final String direction,
        final String host, final int port, final Tally tally)
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
            tally.cells[flag.ordinal()]++;
            if (theirs == mine)
            {
                tally.equal[flag.ordinal()]++;
            }
            else
            {
                tally.disagreements.add(file + " stream " + stream.get("stream").asInt() + " " + direction + " " +
                    flag.label() + ": ours " + mine + ", tshark " + theirs);
            }
        }
    }
}
