package dev.flowtracker.ingest.output;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.ConnectionListener;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpEndpoint;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The end-of-run report of {@code analyze --report}: what an operator reads first about a capture. The mix of Zeek
 * conn_states; totals of retransmitted segments (all, fast, spurious), zero windows, connections reset and
 * handshakes that failed; and the {@value #WORST} worst connections by retransmission ratio (among connections of
 * at least {@value #MIN_PACKETS_FOR_RATIO} packets, so that one resent SYN does not top the list) and by largest
 * data-path RTT.
 *
 * <p>Each worker counts the connections it ends through its own {@link #listenerFor} (nothing shared, nothing
 * allocated except when a connection enters a worker's worst list); {@link #render} merges them once the workers have
 * finished, so the report is the same for any number of workers.
 */
public final class RunReport
{
    public static final int WORST = 10;
    public static final long MIN_PACKETS_FOR_RATIO = 10;
    /** conn_states whose connection never completed a handshake the way Zeek counts one. */
    private static final List<String> HANDSHAKE_FAILURES = List.of("S0", "REJ", "RSTOS0", "RSTRH", "SH", "SHR");

    private final WorkerCounts[] workers;

    public RunReport(final int workers)
    {
        this.workers = new WorkerCounts[workers];
        for (int i = 0; i < workers; i++)
        {
            this.workers[i] = new WorkerCounts();
        }
    }

    /** The counting listener of worker {@code worker}; on that worker's thread. */
    public ConnectionListener listenerFor(final int worker)
    {
        return workers[worker];
    }

    /** The report, several lines each ending in a newline; after every worker finished. */
    public String render()
    {
        final Map<String, Long> states = new TreeMap<>();
        long connections = 0;
        long packets = 0;
        final long[] totals = new long[Total.values().length];
        final List<Worst> byRatio = new ArrayList<>();
        final List<Worst> byRtt = new ArrayList<>();
        for (final WorkerCounts counts : workers)
        {
            counts.states.forEach((state, n) -> states.merge(state, n[0], Long::sum));
            connections += counts.connections;
            packets += counts.packets;
            for (int i = 0; i < totals.length; i++)
            {
                totals[i] += counts.totals[i];
            }
            byRatio.addAll(counts.byRatio.entries());
            byRtt.addAll(counts.byRtt.entries());
        }
        final StringBuilder out = new StringBuilder(2048);
        out.append(String.format(Locale.ROOT, "report: %,d connections, %,d packets%n", connections, packets));
        out.append("  conn_state:");
        final List<Map.Entry<String, Long>> mix = new ArrayList<>(states.entrySet());
        mix.sort(Map.Entry.<String, Long>comparingByValue().reversed().thenComparing(Map.Entry.comparingByKey()));
        for (final Map.Entry<String, Long> state : mix)
        {
            out.append(String.format(Locale.ROOT, " %s %,d (%.1f%%)", state.getKey(), state.getValue(),
                100.0 * state.getValue() / Math.max(1, connections)));
        }
        out.append(String.format(Locale.ROOT, "%n  retransmitted segments %,d (%.2f%% of packets; fast %,d, " +
                "spurious %,d); zero windows %,d; connections reset %,d; handshakes failed %,d (%s)%n",
            totals[Total.RETRANSMISSIONS.ordinal()], 100.0 * totals[Total.RETRANSMISSIONS.ordinal()] /
                Math.max(1, packets), totals[Total.FAST_RETRANSMISSIONS.ordinal()],
            totals[Total.SPURIOUS_RETRANSMISSIONS.ordinal()], totals[Total.ZERO_WINDOWS.ordinal()],
            totals[Total.RESET.ordinal()], totals[Total.HANDSHAKE_FAILED.ordinal()],
            String.join(", ", HANDSHAKE_FAILURES)));
        appendWorst(out, "worst by retransmission ratio (connections of " + MIN_PACKETS_FOR_RATIO +
            " packets or more)", byRatio);
        appendWorst(out, "worst by largest data-path RTT", byRtt);
        return out.toString();
    }

    private static void appendWorst(final StringBuilder out, final String title, final List<Worst> entries)
    {
        entries.sort(Worst.ORDER);
        out.append("  ").append(title).append(entries.isEmpty() ? ": none" : ":").append(System.lineSeparator());
        for (int i = 0; i < Math.min(WORST, entries.size()); i++)
        {
            out.append("    ").append(entries.get(i).text()).append(System.lineSeparator());
        }
    }

    private enum Total
    {
        RETRANSMISSIONS, FAST_RETRANSMISSIONS, SPURIOUS_RETRANSMISSIONS, ZERO_WINDOWS, RESET, HANDSHAKE_FAILED
    }

    /** One connection in a worst list: its score, and its line (made when it entered the list). */
    private record Worst(double score, String uid, String text)
    {
        static final Comparator<Worst> ORDER =
            Comparator.comparingDouble(Worst::score).reversed().thenComparing(Worst::uid);
    }

    /** The {@value #WORST} highest scores seen, as a small array kept sorted (most connections never enter). */
    private static final class WorstList
    {
        private final Worst[] entries = new Worst[WORST];
        private int size;

        boolean qualifies(final double score)
        {
            return score > 0 && (size < WORST || score > entries[size - 1].score());
        }

        void add(final Worst worst)
        {
            int at = size < WORST ? size++ : WORST - 1;
            while (at > 0 && Worst.ORDER.compare(worst, entries[at - 1]) < 0)
            {
                entries[at] = entries[at - 1];
                at--;
            }
            entries[at] = worst;
        }

        List<Worst> entries()
        {
            return Arrays.asList(entries).subList(0, size);
        }
    }

    /** One worker's counts; its listener. Written on the worker's thread, read by render after the run. */
    private static final class WorkerCounts implements ConnectionListener
    {
        /** conn_state to a one-element counter (null conn_state as "none"). */
        final Map<String, long[]> states = new TreeMap<>();
        final long[] totals = new long[Total.values().length];
        final WorstList byRatio = new WorstList();
        final WorstList byRtt = new WorstList();
        long connections;
        long packets;

        @Override
        public void onConnectionEnd(final TcpConnection c)
        {
            final TcpEndpoint orig = c.originator();
            final TcpEndpoint resp = c.responder();
            final String state = c.zeek().connState() == null ? "none" : c.zeek().connState();
            states.computeIfAbsent(state, s -> new long[1])[0]++;
            connections++;
            final long connectionPackets = orig.packets() + resp.packets();
            packets += connectionPackets;
            final long retransmissions = c.analysisCount(AnalysisFlag.RETRANSMISSION);
            totals[Total.RETRANSMISSIONS.ordinal()] += retransmissions;
            totals[Total.FAST_RETRANSMISSIONS.ordinal()] += c.analysisCount(AnalysisFlag.FAST_RETRANSMISSION);
            totals[Total.SPURIOUS_RETRANSMISSIONS.ordinal()] += c.analysisCount(AnalysisFlag.SPURIOUS_RETRANSMISSION);
            totals[Total.ZERO_WINDOWS.ordinal()] += c.analysisCount(AnalysisFlag.ZERO_WINDOW);
            totals[Total.RESET.ordinal()] += orig.rstCount() + resp.rstCount() > 0 ? 1 : 0;
            totals[Total.HANDSHAKE_FAILED.ordinal()] += HANDSHAKE_FAILURES.contains(state) ? 1 : 0;
            if (connectionPackets >= MIN_PACKETS_FOR_RATIO)
            {
                final double ratio = (double)retransmissions / connectionPackets;
                if (byRatio.qualifies(ratio))
                {
                    byRatio.add(new Worst(ratio, FlowRecordFormat.uid(c), String.format(Locale.ROOT,
                        "%5.1f%% %s (%,d of %,d packets retransmitted)", 100 * ratio, describe(c, state),
                        retransmissions, connectionPackets)));
                }
            }
            final long rttNanos = Math.max(orig.rttMaxNanos(), resp.rttMaxNanos());
            if (byRtt.qualifies(rttNanos))
            {
                byRtt.add(new Worst(rttNanos, FlowRecordFormat.uid(c), String.format(Locale.ROOT,
                    "%9.3f ms %s (%s's data waited longest)", rttNanos / 1e6, describe(c, state),
                    orig.rttMaxNanos() >= resp.rttMaxNanos() ? "originator" : "responder")));
            }
        }

        /** uid, tuple and conn_state, as the record names them. */
        private static String describe(final TcpConnection c, final String state)
        {
            final AsciiRecord tuple = new AsciiRecord(128);
            AddressFormat.append(tuple, c.ipVersion(), c.originatorAddressHigh(), c.originatorAddressLow());
            tuple.append(':').append(c.originatorPort()).append(" -> ");
            AddressFormat.append(tuple, c.ipVersion(), c.responderAddressHigh(), c.responderAddressLow());
            tuple.append(':').append(c.responderPort());
            return FlowRecordFormat.uid(c) + " " + tuple + " " + state;
        }
    }
}
