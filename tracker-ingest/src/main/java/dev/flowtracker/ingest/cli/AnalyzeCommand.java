package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.analyze.CaptureStats;
import dev.flowtracker.ingest.analyze.OfflineAnalysis;
import dev.flowtracker.ingest.capture.CaptureFiles;
import dev.flowtracker.ingest.capture.CaptureReader;
import dev.flowtracker.ingest.output.FlowRecordFormat;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * {@code tracker analyze [options] FILE...}: reads the files in order as one stream and writes one JSON flow record
 * per TCP connection; a summary goes to stderr. On a corrupt or truncated file it stops there, still writes every
 * connection seen so far, and exits 1.
 */
final class AnalyzeCommand
{
    static final String HELP = """
        usage: tracker analyze [options] FILE...

        Reads pcap or pcapng files (gzip-compressed ones too, detected by content) in the order given, as one
        stream, and writes one JSON object per TCP connection per line (Zeek conn.log field names plus a "tcp"
        object; see docs/flow-record.md). A summary goes to stderr.

        options:
          -o, --output FILE   write flow records to FILE instead of standard output
              --lifecycle L   where a connection ends and the next on the same ports begins: "zeek" (default;
                              Zeek's reuse test and timers, records match conn.log) or "tshark" (tcp.stream:
                              only a SYN with a new sequence number splits, nothing times out)
          -C, --ignore-checksums
                              do not verify IPv4 and TCP checksums (Zeek's -C; by default a bad TCP checksum
                              is a C in the history and the segment is left out of Zeek's view)
          -q, --quiet         no summary on stderr
              --progress      show a progress bar on stderr even when it is not a terminal
              --no-progress   never show a progress bar (default: shown when stderr is a terminal)
          -h, --help          show this help

        exit codes: 0 ok; 1 input error (a file is unreadable, truncated or corrupt: the connections seen before
        the fault are still written); 2 usage error
        """;

    private final PrintStream out;
    private final PrintStream err;

    AnalyzeCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    int run(final String[] args)
    {
        final Options options;
        try
        {
            options = Options.parse(args);
        }
        catch (final UsageException e)
        {
            err.println("tracker analyze: " + e.getMessage() + " (try 'tracker analyze --help')");
            return ExitCodes.USAGE;
        }
        if (options.help)
        {
            out.print(HELP);
            return ExitCodes.OK;
        }
        final Writer records;
        try
        {
            records = openOutput(out, options.output);
        }
        catch (final IOException e)
        {
            err.println("tracker analyze: cannot write output file " + options.output + ": " + describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        return analyze(options, records);
    }

    private int analyze(final Options options, final Writer records)
    {
        final FlowRecordFormat format = new FlowRecordFormat();
        final ZeekOptions zeekOptions = ZeekOptions.builder().ignoreChecksums(options.ignoreChecksums).build();
        final OfflineAnalysis analysis = new OfflineAnalysis(connection ->
        {
            try
            {
                records.append(format.format(connection)).append('\n');
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
        }, options.lifecycle, zeekOptions);
        final boolean showProgress = options.progress == null ? Progress.stderrIsTerminal() : options.progress;
        final Progress progress = new Progress(err, showProgress && !options.quiet);
        final long start = System.nanoTime();
        int exit = ExitCodes.OK;
        String failure = null;
        for (int i = 0; i < options.files.size() && failure == null; i++)
        {
            final Path file = options.files.get(i);
            try (CaptureReader reader = CaptureFiles.open(file))
            {
                final int fileIndex = i;
                progress.startFile(file, fileIndex, options.files.size());
                analysis.read(reader, () -> progress.update(reader, analysis.stats()));
            }
            catch (final NoSuchFileException e)
            {
                failure = file + ": no such file";
            }
            catch (final UncheckedIOException e)
            {
                // The record sink failed mid-file (disk full, closed pipe): stop reading, report, exit 1.
                failure = "error writing flow records: " + describe(e);
            }
            catch (final IOException e)
            {
                failure = describe(e);
            }
        }
        progress.clear();
        try
        {
            analysis.finish(EndReason.END_OF_INPUT);
            records.flush();
            if (options.output != null)
            {
                records.close();
            }
        }
        catch (final IOException | UncheckedIOException e)
        {
            err.println("tracker analyze: error writing flow records: " + describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        if (failure != null)
        {
            err.println("tracker analyze: error: " + failure);
            exit = ExitCodes.INPUT_ERROR;
        }
        if (!options.quiet)
        {
            printSummary(analysis.stats(), System.nanoTime() - start, options.files.size());
        }
        return exit;
    }

    /** A buffered UTF-8 writer on {@code output}, or on {@code out} when it is null. */
    static Writer openOutput(final PrintStream out, final Path output) throws IOException
    {
        final OutputStream stream = output == null ? out : Files.newOutputStream(output);
        return new BufferedWriter(new OutputStreamWriter(stream, StandardCharsets.UTF_8), 1 << 16);
    }

    private void printSummary(final CaptureStats stats, final long elapsedNanos, final int files)
    {
        final double seconds = elapsedNanos / 1e9;
        err.printf(Locale.ROOT, "tracker analyze: %d file(s), %,d packets (%,d TCP), %,d bytes, %,d connections " +
                "in %.3f s (%,.0f packets/s)%n",
            files, stats.frames(), stats.tcpSegments(), stats.wireBytes(), stats.connections(), seconds,
            seconds > 0 ? stats.frames() / seconds : 0.0);
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

    static String describe(final Exception e)
    {
        final Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (cause instanceof NoSuchFileException n)
        {
            return n.getFile() + ": no such file";
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }

    /** Parsed command line. */
    static final class Options
    {
        final List<Path> files = new ArrayList<>();
        Path output;
        Lifecycle lifecycle = Lifecycle.ZEEK;
        boolean ignoreChecksums;
        boolean quiet;
        Boolean progress;
        boolean help;

        static Options parse(final String[] args) throws UsageException
        {
            final Options options = new Options();
            boolean endOfOptions = false;
            for (int i = 0; i < args.length; i++)
            {
                final String arg = args[i];
                if (endOfOptions || !arg.startsWith("-") || arg.equals("-"))
                {
                    options.files.add(Path.of(arg));
                    continue;
                }
                switch (arg)
                {
                    case "--" -> endOfOptions = true;
                    case "-h", "--help" -> options.help = true;
                    case "-q", "--quiet" -> options.quiet = true;
                    case "--progress" -> options.progress = Boolean.TRUE;
                    case "--no-progress" -> options.progress = Boolean.FALSE;
                    case "-C", "--ignore-checksums" -> options.ignoreChecksums = true;
                    case "--lifecycle" ->
                    {
                        if (i + 1 >= args.length)
                        {
                            throw new UsageException("--lifecycle needs a value: zeek or tshark");
                        }
                        options.lifecycle = lifecycle(args[++i]);
                    }
                    case "-o", "--output" ->
                    {
                        if (i + 1 >= args.length)
                        {
                            throw new UsageException(arg + " needs a file name");
                        }
                        options.output = Path.of(args[++i]);
                    }
                    default ->
                    {
                        if (arg.startsWith("--output="))
                        {
                            options.output = Path.of(arg.substring("--output=".length()));
                        }
                        else if (arg.startsWith("--lifecycle="))
                        {
                            options.lifecycle = lifecycle(arg.substring("--lifecycle=".length()));
                        }
                        else
                        {
                            throw new UsageException("unknown option '" + arg + "'");
                        }
                    }
                }
            }
            if (!options.help && options.files.isEmpty())
            {
                throw new UsageException("no capture file given");
            }
            return options;
        }

        static Lifecycle lifecycle(final String label) throws UsageException
        {
            final Lifecycle lifecycle = Lifecycle.byLabel(label);
            if (lifecycle == null)
            {
                throw new UsageException("unknown lifecycle '" + label + "': use zeek or tshark");
            }
            return lifecycle;
        }
    }
}
