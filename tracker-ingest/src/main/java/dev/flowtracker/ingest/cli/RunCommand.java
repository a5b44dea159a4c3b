package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.capture.CaptureFiles;
import dev.flowtracker.ingest.capture.CaptureReader;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.pipeline.Pipeline;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * {@code tracker run --pcap FILE... [options]}: the streaming pipeline (decode on this thread, track on shard
 * workers behind a Disruptor ring) replaying capture files losslessly. Live sources (AF_PACKET, VXLAN) come next;
 * records are the same as {@code analyze}'s, in the order connections end.
 */
final class RunCommand
{
    static final String HELP = """
        usage: tracker run --pcap FILE [--pcap FILE ...] [options]

        Replays capture files through the streaming pipeline: frames are decoded into a ring, and shard
        workers (each owning the connections whose symmetric 4-tuple hash falls in its shard) track them.
        Writes one JSON flow record per connection as it ends (same schema as analyze).

        options:
              --pcap FILE     a pcap/pcapng file to replay (repeatable; files are read in order as one stream)
              --workers N     shard workers (default: cores - 1, at least 1)
              --ring-size N   ring slots, a power of two (default 65536)
          -o, --output FILE   write flow records to FILE instead of standard output
              --lifecycle L   zeek (default) or tshark, as for analyze
          -C, --ignore-checksums
                              as for analyze
          -q, --quiet         no summary on stderr
          -h, --help          show this help

        exit codes: 0 ok; 1 input or output error (records seen before it are still written); 2 usage error
        """;

    private final PrintStream out;
    private final PrintStream err;

    RunCommand(final PrintStream out, final PrintStream err)
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
            err.println("tracker run: " + e.getMessage() + " (try 'tracker run --help')");
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
            records = AnalyzeCommand.openOutput(out, options.output);
        }
        catch (final IOException e)
        {
            err.println("tracker run: cannot write output file " + options.output + ": " +
                AnalyzeCommand.describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        final AtomicLong written = new AtomicLong();
        final AtomicLong lost = new AtomicLong();
        final AtomicReference<String> sinkFailure = new AtomicReference<>();
        final ZeekOptions zeekOptions = ZeekOptions.builder().ignoreChecksums(options.ignoreChecksums).build();
        final Pipeline pipeline = new Pipeline(options.workers, options.ringSize, true, options.lifecycle,
            zeekOptions, worker ->
            {
                final FlowRecordFormat format = new FlowRecordFormat();
                return connection ->
                {
                    final CharSequence line = format.format(connection);
                    synchronized (records)
                    {
                        try
                        {
                            records.append(line).append('\n');
                            written.incrementAndGet();
                        }
                        catch (final IOException e)
                        {
                            // Keep tracking; the record is counted as lost and the failure reported at exit.
                            lost.incrementAndGet();
                            sinkFailure.compareAndSet(null, AnalyzeCommand.describe(e));
                        }
                    }
                };
            });
        final long start = System.nanoTime();
        String failure = null;
        for (int i = 0; i < options.files.size() && failure == null; i++)
        {
            final Path file = options.files.get(i);
            try (CaptureReader reader = CaptureFiles.open(file))
            {
                while (reader.read(pipeline, 4096) > 0)
                {
                    // replay the whole file
                }
            }
            catch (final NoSuchFileException e)
            {
                failure = file + ": no such file";
            }
            catch (final IOException e)
            {
                failure = AnalyzeCommand.describe(e);
            }
        }
        pipeline.finish();
        int exit = ExitCodes.OK;
        synchronized (records)
        {
            try
            {
                records.flush();
                if (options.output != null)
                {
                    records.close();
                }
            }
            catch (final IOException e)
            {
                sinkFailure.compareAndSet(null, AnalyzeCommand.describe(e));
            }
        }
        if (failure != null)
        {
            err.println("tracker run: error: " + failure);
            exit = ExitCodes.INPUT_ERROR;
        }
        if (sinkFailure.get() != null)
        {
            err.println("tracker run: error writing flow records (" + lost.get() + " lost): " + sinkFailure.get());
            exit = ExitCodes.INPUT_ERROR;
        }
        if (!options.quiet)
        {
            final double seconds = (System.nanoTime() - start) / 1e9;
            err.printf(Locale.ROOT, "tracker run: %,d packets (%,d TCP), %,d connections, %d workers %s, ring %d, " +
                    "ring_full drops %d, in %.3f s (%,.0f packets/s)%n",
                pipeline.stats().frames(), pipeline.stats().tcpSegments(), written.get(), pipeline.workers(),
                Arrays.toString(pipeline.segmentsPerWorker()), pipeline.ringSize(), pipeline.ringFullDrops(), seconds,
                seconds > 0 ? pipeline.stats().frames() / seconds : 0.0);
        }
        return exit;
    }

    /** Parsed command line. */
    static final class Options
    {
        final List<Path> files = new ArrayList<>();
        Path output;
        int workers = Pipeline.defaultWorkers();
        int ringSize = 1 << 16;
        Lifecycle lifecycle = Lifecycle.ZEEK;
        boolean ignoreChecksums;
        boolean quiet;
        boolean help;

        static Options parse(final String[] args) throws UsageException
        {
            final Options options = new Options();
            for (int i = 0; i < args.length; i++)
            {
                final String arg = args[i];
                switch (arg)
                {
                    case "-h", "--help" -> options.help = true;
                    case "-q", "--quiet" -> options.quiet = true;
                    case "-C", "--ignore-checksums" -> options.ignoreChecksums = true;
                    case "--pcap" -> options.files.add(Path.of(value(args, ++i, arg)));
                    case "-o", "--output" -> options.output = Path.of(value(args, ++i, arg));
                    case "--workers" -> options.workers = positive(value(args, ++i, arg), arg);
                    case "--ring-size" ->
                    {
                        options.ringSize = positive(value(args, ++i, arg), arg);
                        if (Integer.bitCount(options.ringSize) != 1 || options.ringSize < 2)
                        {
                            throw new UsageException("--ring-size must be a power of two, was " + options.ringSize);
                        }
                    }
                    case "--lifecycle" -> options.lifecycle = AnalyzeCommand.Options.lifecycle(value(args, ++i, arg));
                    default -> throw new UsageException("unknown option '" + arg + "'");
                }
            }
            if (!options.help && options.files.isEmpty())
            {
                throw new UsageException("nothing to read: give --pcap FILE (live sources are not available yet)");
            }
            return options;
        }

        private static String value(final String[] args, final int index, final String option)
            throws UsageException
        {
            if (index >= args.length)
            {
                throw new UsageException(option + " needs a value");
            }
            return args[index];
        }

        private static int positive(final String text, final String option) throws UsageException
        {
            try
            {
                final int value = Integer.parseInt(text);
                if (value < 1)
                {
                    throw new UsageException(option + " must be at least 1, was " + value);
                }
                return value;
            }
            catch (final NumberFormatException e)
            {
                throw new UsageException(option + " needs a number, got '" + text + "'");
            }
        }
    }
}
