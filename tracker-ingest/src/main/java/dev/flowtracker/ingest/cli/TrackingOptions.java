package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.ingest.output.CommunityId;
import dev.flowtracker.ingest.output.LocalNets;
import dev.flowtracker.ingest.output.OutputFormat;
import dev.flowtracker.ingest.output.RecordFields;
import dev.flowtracker.ingest.output.RecordLayout;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

import picocli.CommandLine.Option;

/**
 * The options of the commands that track connections, {@code analyze} and {@code run}: declared once so that both
 * take the same names, values and ranges. Each command's options class extends this one. Filled by picocli on the
 * command's thread before the command runs.
 */
abstract class TrackingOptions
{
    /** Most shard workers: each is a thread with its own flow table; more would exhaust threads or memory. */
    static final int MAX_WORKERS = 1024;

    int workers = Pipeline.defaultWorkers();
    /** Whether the obsolete --working-set was given (it parses, so old configurations keep working). */
    boolean workingSetGiven;
    Lifecycle lifecycle = Lifecycle.ZEEK;
    int communityIdSeed;
    String tapName = TapNames.ofThisHost();
    long updateIntervalNanos;
    LocalNets localNets = LocalNets.NONE;
    OutputFormat format = OutputFormat.JSON;
    /** The columns --fields names, or null for the format's own. */
    List<String> fields;

    @Option(names = {"-C", "--ignore-checksums"}, order = HelpSections.GENERAL + 50, description = "do not verify " +
        "IPv4 and TCP checksums (Zeek's -C; by default a bad TCP checksum is a C in the history and the segment is " +
        "left out of Zeek's view). Without it, live capture still skips the frames this host sent with their " +
        "checksums left to the network card (the kernel flags them), so capturing on a host that talks, not only " +
        "on a tap, needs no -C")
    boolean ignoreChecksums;

    @Option(names = "--workers", paramLabel = "N", order = HelpSections.GENERAL + 20, description = "shard workers " +
        "tracking in parallel (default: cores - 1, at least 1, at most " + MAX_WORKERS + "); the records are the " +
        "same for any N, only their order may differ")
    void workers(final String text)
    {
        workers = OptionValues.positiveInt(text, "--workers", MAX_WORKERS, "one thread and one flow table each");
    }

    @Option(names = "--working-set", paramLabel = "N", hidden = true, description = "obsolete, no effect: flow " +
        "state is read in place, there is no working set of connection objects any more")
    void workingSet(final String text)
    {
        OptionValues.positiveInt(text, "--working-set");
        workingSetGiven = true;
    }

    /** One line on {@code err} for each obsolete option given: it still parses, and does nothing. */
    void warnObsolete(final PrintStream err, final String command)
    {
        if (workingSetGiven)
        {
            err.println("tracker " + command + ": --working-set is obsolete and has no effect (flow state is read " +
                "in place); remove it");
        }
    }

    @Option(names = "--lifecycle", paramLabel = "L", order = HelpSections.GENERAL + 40, completionCandidates =
        LifecycleLabels.class, description = "where a connection ends and the next on the same ports begins: " +
        "\"zeek\" (default; Zeek's reuse test and timers, records match conn.log) or \"tshark\" (tcp.stream: only a " +
        "SYN with a new sequence number splits, nothing times out)")
    void lifecycle(final String label)
    {
        lifecycle = OptionValues.lifecycle(label);
    }

    @Option(names = "--community-id-seed", paramLabel = "N", order = HelpSections.OUTPUT + 80, description =
        "seed of the records' community_id (Community ID v1; default 0, as Zeek's and Suricata's defaults): use the " +
        "seed your other tools use, 0 to " + CommunityId.MAX_SEED)
    void communityIdSeed(final String text)
    {
        communityIdSeed = OptionValues.intInRange(text, "--community-id-seed", 0, CommunityId.MAX_SEED);
    }

    @Option(names = "--tap-name", paramLabel = "NAME", order = HelpSections.OUTPUT + 90, description = "the records' " +
        "tap field, naming where the traffic was seen (default: this host's name); letters, digits, '.', '_', '-'")
    void tapName(final String text)
    {
        if (!RecordFields.validTapName(text))
        {
            throw new UsageException("--tap-name takes 1 to " + RecordFields.MAX_TAP_NAME + " letters, digits, " +
                "'.', '_' or '-', got '" + text + "'");
        }
        tapName = text;
    }

    @Option(names = "--local-nets", paramLabel = "CIDR,...", order = HelpSections.OUTPUT + 96, description = "the " +
        "networks that are local (Zeek's Site::local_nets), e.g. 10.0.0.0/8,192.168.0.0/16,fd00::/8: the records' " +
        "local_orig and local_resp say whether each side's address is in one (null without this option)")
    void localNets(final String text)
    {
        localNets = OptionValues.parsed(text, "--local-nets", LocalNets::parse);
    }

    @Option(names = "--update-interval", paramLabel = "D", order = HelpSections.OUTPUT + 95, description =
        "also write an interim record of every connection still open, every D of packet time from its first " +
        "packet (at least 1s; e.g. 5m): the same fields with the counts so far, end_reason null and " +
        "\"interim\":true; the final record is unchanged. Off by default")
    void updateInterval(final String text)
    {
        final long nanos = OptionValues.nanos(text, "--update-interval");
        if (nanos < RecordFields.MIN_UPDATE_INTERVAL_NANOS)
        {
            throw new UsageException("--update-interval must be at least 1s, got '" + text + "'");
        }
        updateIntervalNanos = nanos;
    }

    @Option(names = "--format", paramLabel = "F", order = HelpSections.OUTPUT + 1, completionCandidates =
        FormatLabels.class, description = "how records are written to the output (Kafka always gets JSON): json " +
        "(default; one object a line), tsv (a header line of field names, then tab-separated values), zeek (Zeek's " +
        "conn.log format with its #fields/#types header: zeek-cut reads it) or table (aligned columns for people, " +
        "fitted to $COLUMNS or the terminal's width, else " + RecordLayout.DEFAULT_TABLE_WIDTH + ")")
    void format(final String label)
    {
        format = OutputFormat.of(label);
        if (format == null)
        {
            throw new UsageException("--format takes json, tsv, zeek or table, got '" + label + "'");
        }
    }

    @Option(names = "--fields", paramLabel = "F,F...", order = HelpSections.OUTPUT + 2, description = "the " +
        "fields to write, in this order: the record's names, nested ones by path (ts,uid,id.orig_h,conn_state," +
        "tcp.orig.analysis.retransmission), plus orig, resp (addr:port), retrans (both sides) and rtt; with json, an " +
        "object of those keys")
    void fields(final String text)
    {
        final List<String> names = List.of(text.split(",", -1));
        try
        {
            RecordLayout.of(OutputFormat.TSV, names, RecordLayout.DEFAULT_TABLE_WIDTH);
        }
        catch (final IllegalArgumentException e)
        {
            throw new UsageException("--fields: " + e.getMessage());
        }
        fields = names;
    }

    /** How records are written; a table is fitted to the width of standard output. */
    RecordLayout recordLayout()
    {
        return RecordLayout.of(format, fields, format == OutputFormat.TABLE ? TerminalWidth.ofStandardOutput() : 0);
    }

    /** What the records carry beyond the connection, and when open connections get interim ones. */
    RecordFields recordFields()
    {
        return new RecordFields(communityIdSeed, tapName, updateIntervalNanos, localNets);
    }

    /** Where {@code -o} sends the records: null when not given, {@link StandardOutput#DASH}, or a file. */
    abstract Path recordOutput();

    /** Opens {@code -o}'s file the way this command writes it (analyze replaces it, run continues it). */
    abstract RecordWriter openRecordFile(Path file) throws IOException;

    /** Bytes of records held while the output cannot be written. */
    long recordBufferBytes()
    {
        return RecordWriter.DEFAULT_BUFFER_BYTES;
    }

    /** The labels --format takes, for the shell completion. */
    static final class FormatLabels implements Iterable<String>
    {
        @Override
        public Iterator<String> iterator()
        {
            return Arrays.stream(OutputFormat.values()).map(OutputFormat::label).iterator();
        }
    }

    /** The labels --lifecycle takes, for the shell completion. */
    static final class LifecycleLabels implements Iterable<String>
    {
        @Override
        public Iterator<String> iterator()
        {
            return List.of("zeek", "tshark").iterator();
        }
    }
}
