package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.decode.CaptureStats;
import dev.flowtracker.ingest.output.FlowRecords;
import dev.flowtracker.ingest.output.RunReport;
import dev.flowtracker.ingest.output.RecordLayout;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.runtime.StopSignals;
import dev.flowtracker.ingest.runtime.TrackerRuntime;
import dev.flowtracker.ingest.source.file.CaptureFiles;
import dev.flowtracker.ingest.source.file.CaptureReader;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/**
 * {@code tracker analyze [options] FILE...}: reads the files in order as one stream and writes one JSON flow record
 * per TCP connection; a summary goes to stderr. On a corrupt or truncated file it stops there, still writes every
 * connection seen so far, and exits 1. Runs on the calling thread (the reader and the one producer of the ring).
 */
@Command(
    name = AnalyzeCommand.NAME,
    versionProvider = TrackerVersion.class,
    synopsisHeading = "usage: ",
    customSynopsis = "tracker analyze [options] FILE...",
    descriptionHeading = "%n",
    description = {
        "read pcap/pcapng files (optionally gzip-compressed) and write one JSON flow record per TCP connection",
        "",
        "Reads pcap or pcapng files (gzip-compressed ones too, detected by content) in the order given, as one " +
            "stream, through the streaming pipeline (as run, but exiting at the end, without HTTP or timeouts), and " +
            "writes one JSON object per TCP connection per line (Zeek conn.log field names plus a \"tcp\" object; " +
            "see docs/flow-record.md), or with --format the same values as TSV, Zeek's conn.log format or a table. " +
            "A summary goes to stderr. Standard input (-) and pipes are streamed through a bounded buffer, not kept " +
            "or spooled. A closed standard output (| head) ends the run quietly, status 0."},
    parameterListHeading = "%n",
    optionListHeading = "%noptions:%n",
    footer = {
        "",
        "exit codes: 0 ok; 1 input error (a file is unreadable, truncated or corrupt: the connections seen before " +
            "the fault are still written); 2 usage error"})
final class AnalyzeCommand extends TrackingCommand
{
    static final String NAME = "analyze";
    private static final int RING_SIZE = 1 << 16;

    @Mixin
    Options options;

    AnalyzeCommand(final PrintStream out, final PrintStream err)
    {
        super(out, err);
    }

    /** The help's layout: the option list in sections. */
    static void layOut(final CommandLine commandLine)
    {
        HelpSections.install(commandLine, Map.of(HelpSections.KAFKA, KAFKA_HEADING, HelpSections.LAST, "general:"));
    }

    @Override
    public Integer call()
    {
        options.warnObsolete(err, "analyze");
        if (options.files.isEmpty())
        {
            throw new UsageException("no capture file given");
        }
        if (options.files.stream().filter(CaptureFiles.STDIN::equals).count() > 1)
        {
            throw new UsageException("'-' (standard input) given more than once: it can be read once");
        }
        // Checked before anything is read or written: a missing input found after gigabytes were read, or an output
        // that is an input (truncated to nothing before it was read), would cost the user dearly. Every bad input is
        // named, one line each.
        int unreadable = 0;
        for (final Path file : options.files)
        {
            final String problem = CaptureFiles.STDIN.equals(file) ? null : !Files.exists(file) ? "no such file" :
                Files.isDirectory(file) ? "is a directory" : !Files.isReadable(file) ? "permission denied" : null;
            if (problem != null)
            {
                err.println("tracker analyze: error: " + file + ": " + problem + " (nothing was read)");
                unreadable++;
            }
            else
            {
                final Path overwritten = toFile(options.output) && sameFile(options.output, file) ? options.output :
                    options.reportFile != null && sameFile(options.reportFile, file) ? options.reportFile : null;
                if (overwritten != null)
                {
                    err.println("tracker analyze: the output " + overwritten + " is the input capture " + file +
                        "; refusing to overwrite it");
                    return ExitCodes.USAGE;
                }
            }
        }
        if (unreadable > 0)
        {
            return ExitCodes.INPUT_ERROR;
        }
        final String reportProblem = options.reportFile == null ? null : unwritable(options.reportFile);
        if (reportProblem != null)
        {
            // Known before reading: finding out after gigabytes were analysed would lose the report.
            err.println("tracker analyze: cannot write the report to " + options.reportFile + ": " + reportProblem +
                " (nothing was read)");
            return ExitCodes.INPUT_ERROR;
        }
        return withRuntime(NAME, options, runtime -> analyze(options, runtime));
    }

    /** Why {@code file} cannot be written (created or replaced), or null when it can. */
    private static String unwritable(final Path file)
    {
        final Path parent = file.toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent))
        {
            return "no such directory";
        }
        if (Files.isDirectory(file))
        {
            return "is a directory";
        }
        return Files.exists(file) ? Files.isWritable(file) ? null : "permission denied" :
            Files.isWritable(parent) ? null : "permission denied";
    }

    /** Whether -o names a file ({@code -o -} is standard output). */
    private static boolean toFile(final Path output)
    {
        return output != null && !StandardOutput.DASH.equals(output);
    }

    private static boolean sameFile(final Path output, final Path input)
    {
        try
        {
            return Files.exists(output) && Files.isSameFile(output, input);
        }
        catch (final IOException e)
        {
            return false; // the output cannot be opened either: that error is reported when it is
        }
    }

    /**
     * Reads the files on this thread into the streaming pipeline (as {@code run} does, losslessly, with unbounded
     * flow tables: nothing times out but what Zeek's timers end) and writes the records off the workers.
     */
    private int analyze(final Options options, final TrackerRuntime runtime)
    {
        final FlowRecords records = runtime.records();
        final ZeekOptions zeekOptions = ZeekOptions.builder().ignoreChecksums(options.ignoreChecksums).build();
        final RunReport report = options.report() == null ? null : new RunReport(options.workers);
        final Pipeline pipeline = runtime.pipeline(sinks -> Pipeline.offline(options.workers, RING_SIZE,
            options.lifecycle, zeekOptions, FlowLimits.UNBOUNDED, sinks.fields(),
            worker -> sinks.listenerFor(worker, report == null ? null : report.listenerFor(worker))));
        final boolean showProgress = options.progress == null ? Progress.stderrIsTerminal() : options.progress;
        final boolean progressShown = showProgress && !common.quiet;
        final Progress progress = new Progress(err, progressShown, options.files,
            progressShown ? TerminalWidth.ofStandardError() : RecordLayout.DEFAULT_TABLE_WIDTH);
        final long start = System.nanoTime();
        int exit = ExitCodes.OK;
        String failure = null;
        final FileReading reading = new FileReading(records, progress, pipeline);
        // Ctrl-C or SIGTERM: stop reading, write the open connections (end_reason shutdown) and the summary.
        final StopSignals signals = runtime.stopOn(() -> reading.stop(progress.enabled()), false);
        try
        {
            CaptureReplay.read(options.files, pipeline, CaptureReplay.BATCH, reading);
        }
        catch (final NoSuchFileException e)
        {
            failure = reading.file + ": no such file";
        }
        catch (final IOException e)
        {
            failure = Errors.describe(e);
        }
        progress.clear();
        final int signal = signals.signal();
        runtime.finish(signal == 0 ? EndReason.END_OF_INPUT : EndReason.SHUTDOWN);
        if (signal != 0)
        {
            exit = signals.exitStatus(exit);
        }
        // Reading is over, nothing is left for a signal to stop: while the records are delivered it ends the process.
        runtime.releaseSignals();
        runtime.closeRecords();
        if (records.readerLeft())
        {
            return ExitCodes.OK; // the reader went away (| head): nobody is owed the rest, as grep and tshark end
        }
        if (records.failure() != null || records.lost() > 0)
        {
            // A record sink failed (disk full, closed pipe: reading stopped there) or could not deliver everything.
            err.println("tracker analyze: error writing flow records (" + records.lost() + " lost): " +
                records.failure());
            return ExitCodes.INPUT_ERROR;
        }
        if (failure != null)
        {
            err.println("tracker analyze: error: " + failure);
            exit = ExitCodes.INPUT_ERROR;
        }
        if (!common.quiet)
        {
            final long interims = pipeline.totals().interimRecords();
            printSummary(pipeline.stats(), records.written() - interims, interims, System.nanoTime() - start,
                options.files.size(), pipeline.workers());
        }
        if (report != null && !writeReport(options.report(), report))
        {
            exit = ExitCodes.INPUT_ERROR;
        }
        return exit;
    }

    /** The report to stderr ({@code -}) or to its file; false, after one line on stderr, when it cannot be written. */
    private boolean writeReport(final Path to, final RunReport report)
    {
        final String text = report.render();
        if (to.toString().equals("-"))
        {
            err.print(text);
            return true;
        }
        try
        {
            Files.writeString(to, text, StandardCharsets.UTF_8);
            return true;
        }
        catch (final IOException e)
        {
            err.println("tracker analyze: cannot write the report to " + to + ": " + Errors.describe(e));
            return false;
        }
    }

    /** The reading loop's stops and reports: a failed record sink stops it; progress; pages kept in memory. */
    private final class FileReading implements CaptureReplay.Observer
    {
        private final FlowRecords records;
        private final Progress progress;
        private final Pipeline pipeline;
        private Path file;
        private boolean warnedOfRelease;
        private volatile boolean stopped;

        FileReading(final FlowRecords records, final Progress progress, final Pipeline pipeline)
        {
            this.records = records;
            this.progress = progress;
            this.pipeline = pipeline;
        }

        @Override
        public boolean proceed()
        {
            return !stopped && records.failure() == null && !records.readerLeft();
        }

        /** A stop signal came: read no further, and say so at once (on the signal's thread). */
        void stop(final boolean clearProgressLine)
        {
            stopped = true;
            err.println((clearProgressLine ? "\r\033[K" : "") + "tracker analyze: interrupted: reading stops; the " +
                "connections still open are written with end_reason shutdown");
        }

        @Override
        public void onFile(final Path next, final int index, final int count)
        {
            file = next;
            progress.startFile(next, index, count);
        }

        @Override
        public void onBatch(final CaptureReader reader)
        {
            if (progress.enabled())
            {
                progress.update(reader, pipeline.stats());
            }
        }

        @Override
        public void onFileEnd(final Path read, final CaptureReader reader)
        {
            if (reader.releaseFailure() != null && !warnedOfRelease)
            {
                warnedOfRelease = true;
                err.println("tracker analyze: warning: " + read + ": pages already read stay in memory (" +
                    reader.releaseFailure() + ")");
            }
        }
    }

    private void printSummary(
        final CaptureStats stats, final long connections, final long interims, final long elapsedNanos,
        final int files, final int workers)
    {
        final double seconds = elapsedNanos / 1e9;
        err.printf(Locale.ROOT, "tracker analyze: %d file(s), %,d packets (%,d TCP), %,d bytes, %,d connections%s " +
                "in %.3f s with %d worker(s) (%,.0f packets/s)%n",
            files, stats.frames(), stats.tcpSegments(), stats.wireBytes(), connections,
            interims > 0 ? String.format(Locale.ROOT, " (and %,d interim records)", interims) : "", seconds,
            workers, seconds > 0 ? stats.frames() / seconds : 0.0);
        final StringBuilder events = new StringBuilder();
        for (final DecodeEvent event : DecodeEvent.values())
        {
            final long count = stats.decodeEvents(event);
            if (event != DecodeEvent.TCP_SEGMENT && count > 0)
            {
                events.append(' ').append(event.label()).append('=').append(count);
            }
        }
        if (!events.isEmpty())
        {
            err.println("decode events:" + events);
        }
    }

    /** The options only analyze takes, with those it shares with run. Filled by picocli before the command runs. */
    static final class Options extends TrackingOptions
    {
        /** The inputs, positional and -r, in the order given. */
        final List<Path> files = new ArrayList<>();
        private int positionalSeen;

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", order = HelpSections.GENERAL + 10,
            description = "write flow records to FILE instead of standard output (- for standard output); refused " +
                "when FILE is an input")
        Path output;

        @Override
        Path recordOutput()
        {
            return output;
        }

        @Override
        RecordWriter openRecordFile(final Path file) throws IOException
        {
            return RecordWriter.toFile(file, 0, 0);
        }

        /** picocli passes every positional argument so far each time: the new ones are added in turn. */
        @Parameters(paramLabel = "FILE", arity = "0..*", description = "capture files, read in order as one " +
            "stream; - reads standard input (cat x.pcap | tracker analyze -; tcpdump -w - | tracker analyze -), " +
            "as do pipes and other files that are not regular: streamed through a bounded buffer, not kept")
        void positional(final List<Path> all)
        {
            if (all.size() < positionalSeen)
            {
                files.clear(); // a new parse starts with the positional parameters' initial, empty list
                positionalSeen = 0;
            }
            files.addAll(all.subList(positionalSeen, all.size()));
            positionalSeen = all.size();
        }

        @Option(names = "-r", paramLabel = "FILE", order = HelpSections.GENERAL + 5, description = "read FILE " +
            "(as tshark -r and zeek -r; repeatable, in order with the positional FILEs)")
        void read(final Path file)
        {
            files.add(file);
        }

        @Option(names = "--report", order = HelpSections.OUTPUT + 20, description = "after the run, a report on " +
            "stderr: conn_state mix, totals of retransmissions, zero windows, resets and failed handshakes, and the " +
            RunReport.WORST + " worst connections by retransmission ratio and by RTT")
        boolean reportToStderr;

        @Option(names = "--report-file", paramLabel = "FILE", order = HelpSections.OUTPUT + 21, description = "the " +
            "report of --report written to FILE instead (replaced; refused when FILE is an input)")
        Path reportFile;

        /** Where the report goes: a file, {@code -} for stderr, or null for none. */
        Path report()
        {
            return reportFile != null ? reportFile : reportToStderr ? Path.of("-") : null;
        }

        @Option(names = "--progress", negatable = true, order = HelpSections.GENERAL + 60, description = "show a " +
            "progress bar on stderr even when it is not a terminal; --no-progress: never (default: shown when " +
            "stderr is a terminal)")
        Boolean progress;

        /** The options of an analyze command line, without defaults from the environment or a file. */
        static Options parse(final String[] args)
        {
            final PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
            final AnalyzeCommand command = new AnalyzeCommand(nowhere, nowhere);
            try
            {
                new CommandLine(command).parseArgs(args);
            }
            catch (final ParameterException e)
            {
                throw e.getCause() instanceof UsageException usage ? usage : new UsageException(e.getMessage());
            }
            return command.options;
        }
    }
}
