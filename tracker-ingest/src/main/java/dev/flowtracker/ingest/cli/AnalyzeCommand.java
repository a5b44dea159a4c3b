package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.FlowLimits;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.analyze.CaptureStats;
import dev.flowtracker.ingest.capture.CaptureFiles;
import dev.flowtracker.ingest.capture.CaptureReader;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Pipeline;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
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
    private static final int RING_SIZE = 1 << 16;
    private static final int BATCH = 4096;

    static final String HELP = """
        usage: tracker analyze [options] FILE...

        Reads pcap or pcapng files (gzip-compressed ones too, detected by content) in the order given, as one
        stream, through the streaming pipeline (as run, but exiting at the end, without HTTP or timeouts), and
        writes one JSON object per TCP connection per line (Zeek conn.log field names plus a "tcp"
        object; see docs/flow-record.md). A summary goes to stderr.

        options:
          -o, --output FILE   write flow records to FILE instead of standard output
              --lifecycle L   where a connection ends and the next on the same ports begins: "zeek" (default;
                              Zeek's reuse test and timers, records match conn.log) or "tshark" (tcp.stream:
                              only a SYN with a new sequence number splits, nothing times out)
          -C, --ignore-checksums
                              do not verify IPv4 and TCP checksums (Zeek's -C; by default a bad TCP checksum
                              is a C in the history and the segment is left out of Zeek's view)
              --workers N     shard workers tracking in parallel (default: cores - 1, at least 1); the records
                              are the same for any N, only their order may differ
              --working-set N connection objects each worker runs on (default 16384, about 2 KB of heap each);
                              other connections wait in off-heap records; the records are the same for any N
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
        // Checked before anything is read or written: a missing input found after gigabytes were read, or an output
        // that is an input (truncated to nothing before it was read), would cost the user dearly.
        for (final Path file : options.files)
        {
            if (!Files.exists(file) || Files.isDirectory(file) || !Files.isReadable(file))
            {
                err.println("tracker analyze: error: " + file + ": " + (!Files.exists(file) ? "no such file" :
                    Files.isDirectory(file) ? "is a directory" : "permission denied") + " (nothing was read)");
                return ExitCodes.INPUT_ERROR;
            }
            if (options.output != null && sameFile(options.output, file))
            {
                err.println("tracker analyze: the output " + options.output + " is the input capture " + file +
                    "; refusing to overwrite it");
                return ExitCodes.USAGE;
            }
        }
        final RecordWriter records;
        try
        {
            records = options.output == null ? RecordWriter.toStream(out) : RecordWriter.toFile(options.output, 0, 0);
        }
        catch (final IOException e)
        {
            err.println("tracker analyze: cannot write output file " + options.output + ": " + describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        return analyze(options, records);
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
    private int analyze(final Options options, final RecordWriter records)
    {
        final ZeekOptions zeekOptions = ZeekOptions.builder().ignoreChecksums(options.ignoreChecksums).build();
        final Pipeline pipeline = Pipeline.offline(options.workers, RING_SIZE, options.lifecycle, zeekOptions,
            FlowLimits.UNBOUNDED.withWorkingSet(options.workingSet), worker ->
            {
                final FlowRecordFormat format = new FlowRecordFormat();
                return connection -> records.write(format.format(connection));
            });
        final boolean showProgress = options.progress == null ? Progress.stderrIsTerminal() : options.progress;
        final Progress progress = new Progress(err, showProgress && !options.quiet);
        final long start = System.nanoTime();
        int exit = ExitCodes.OK;
        String failure = null;
        boolean warnedOfRelease = false;
        for (int i = 0; i < options.files.size() && failure == null && records.failure() == null; i++)
        {
            final Path file = options.files.get(i);
            try (CaptureReader reader = CaptureFiles.open(file))
            {
                progress.startFile(file, i, options.files.size());
                while (reader.read(pipeline, BATCH) > 0 && records.failure() == null)
                {
                    if (progress.enabled())
                    {
                        progress.update(reader, pipeline.stats());
                    }
                }
                if (reader.releaseFailure() != null && !warnedOfRelease)
                {
                    warnedOfRelease = true;
                    err.println("tracker analyze: warning: " + file + ": pages already read stay in memory (" +
                        reader.releaseFailure() + ")");
                }
            }
            catch (final NoSuchFileException e)
            {
                failure = file + ": no such file";
            }
            catch (final IOException e)
            {
                failure = describe(e);
            }
        }
        progress.clear();
        pipeline.finish(EndReason.END_OF_INPUT);
        records.close();
        if (records.failure() != null)
        {
            // The record sink failed (disk full, closed pipe): reading stopped there.
            err.println("tracker analyze: error writing flow records (" + records.lost() + " lost): " +
                records.failure());
            return ExitCodes.INPUT_ERROR;
        }
        if (failure != null)
        {
            err.println("tracker analyze: error: " + failure);
            exit = ExitCodes.INPUT_ERROR;
        }
        if (!options.quiet)
        {
            printSummary(pipeline.stats(), records.written(), System.nanoTime() - start, options.files.size(),
                pipeline.workers());
        }
        return exit;
    }

    private void printSummary(
        final CaptureStats stats, final long connections, final long elapsedNanos, final int files, final int workers)
    {
        final double seconds = elapsedNanos / 1e9;
        err.printf(Locale.ROOT, "tracker analyze: %d file(s), %,d packets (%,d TCP), %,d bytes, %,d connections " +
                "in %.3f s with %d worker(s) (%,.0f packets/s)%n",
            files, stats.frames(), stats.tcpSegments(), stats.wireBytes(), connections, seconds, workers,
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
        if (cause instanceof FileSystemException f && f.getReason() == null && f.getFile() != null)
        {
            // The JDK's message is then the path alone: say what went wrong with it too.
            final String what = switch (f)
            {
                case AccessDeniedException a -> "permission denied";
                case FileAlreadyExistsException a -> "already exists";
                case NotDirectoryException a -> "not a directory";
                case DirectoryNotEmptyException a -> "directory not empty";
                default -> f.getClass().getSimpleName();
            };
            return f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": " + what;
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
        int workers = Pipeline.defaultWorkers();
        int workingSet = FlowLimits.DEFAULT_WORKING_SET;

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
                    case "--workers" ->
                    {
                        if (i + 1 >= args.length)
                        {
                            throw new UsageException("--workers needs a number");
                        }
                        try
                        {
                            options.workers = Integer.parseInt(args[++i]);
                        }
                        catch (final NumberFormatException e)
                        {
                            throw new UsageException("--workers needs a number, got '" + args[i] + "'");
                        }
                        if (options.workers < 1 || options.workers > 256)
                        {
                            throw new UsageException("--workers must be 1 to 256, was " + options.workers);
                        }
                    }
                    case "--working-set" ->
                    {
                        if (i + 1 >= args.length)
                        {
                            throw new UsageException("--working-set needs a number");
                        }
                        options.workingSet = workingSet(args[++i]);
                    }
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
                        else if (arg.startsWith("--working-set="))
                        {
                            options.workingSet = workingSet(arg.substring("--working-set=".length()));
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

        static int workingSet(final String text) throws UsageException
        {
            try
            {
                final int value = Integer.parseInt(text);
                if (value < 1)
                {
                    throw new UsageException("--working-set must be at least 1, was " + value);
                }
                return value;
            }
            catch (final NumberFormatException e)
            {
                throw new UsageException("--working-set needs a number, got '" + text + "'");
            }
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
