package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.FlowLimits;
import dev.flowtracker.core.tcp.FlowPhase;
import dev.flowtracker.core.tcp.FlowRemoval;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.capture.CaptureFiles;
import dev.flowtracker.ingest.capture.CaptureReader;
import dev.flowtracker.ingest.capture.PacketHandler;
import dev.flowtracker.ingest.capture.ReplayPacer;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Checkpointing;
import dev.flowtracker.ingest.pipeline.Pipeline;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

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
              --replay-speed X
                              replay at the captured pace times X (1 = real time, 10 = ten times faster)
              --topspeed      replay as fast as possible (the default)
          -o, --output FILE   write flow records to FILE instead of standard output
              --rotate-size N     with -o: start a new file when it reaches N bytes (suffix k, M or G); the
                              full one is renamed FILE.<UTC time>
              --rotate-interval D with -o: start a new file when it has been open for D
              --lifecycle L   zeek (default) or tshark, as for analyze
          -C, --ignore-checksums
                              as for analyze

        flow table (shared equally by the workers; memory fixed at start):
              --max-flows N   connections tracked at once (default 1000000); when full, the least recently
                              active connection is evicted (record end_reason "evicted")
              --opening-timeout D       idle limit before the handshake completes (default 30s)
              --established-timeout D   idle limit once open, half-closed or picked up mid-stream (default 1h)
              --closed-timeout D        linger after FIN both ways or RST (default 10s)
              --emergency-timeouts D,D,D
                              opening, established and closed limits while the table is 95 % full, until it
                              is below 85 % again (default 5s,2m,1s)
            Durations: 500ms, 30s, 5m, 1h, 1d. Idle time is packet time when replaying.

        checkpoints (Chronicle Map files, one per worker shard; crash-safe commits):
              --state-dir DIR restore the connections checkpointed in DIR at start, checkpoint them there
                              periodically and at shutdown (then they are not written as records: a restart
                              continues them)
              --checkpoint-interval D   wall-clock time between checkpoints (default 60s)
              --checkpoint-at-end       at the end of input, checkpoint open connections instead of writing
                              them (a capture split over several runs, one file each)
          -q, --quiet         no summary on stderr
          -h, --help          show this help

        SIGTERM or SIGINT stops the replay gracefully: every connection still open is written with
        end_reason "shutdown" (or, with --state-dir, checkpointed) before the process exits.

        exit codes: 0 ok; 1 input or output error (records seen before it are still written); 2 usage error;
        143/130 after SIGTERM/SIGINT (records flushed)
        """;

    /** How long a shutdown signal waits for the records of open connections to be written. */
    private static final long SHUTDOWN_GRACE_SECONDS = 30;

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
        final RecordWriter records;
        try
        {
            records = options.output == null ? RecordWriter.toStream(out) :
                RecordWriter.toFile(options.output, options.rotateBytes, options.rotateNanos);
        }
        catch (final IOException e)
        {
            err.println("tracker run: cannot write output file " + options.output + ": " +
                AnalyzeCommand.describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        final ZeekOptions zeekOptions = ZeekOptions.builder().ignoreChecksums(options.ignoreChecksums).build();
        final FlowLimits limits = options.limits();
        final CheckpointStore store;
        try
        {
            store = options.stateDir == null ? null : new CheckpointStore(options.stateDir);
        }
        catch (final IOException e)
        {
            err.println("tracker run: cannot use state directory: " + AnalyzeCommand.describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        final Checkpointing checkpointing = store == null ? null :
            new Checkpointing(store, options.checkpointIntervalNanos, options.checkpointAtEnd, records::flush);
        final Pipeline pipeline;
        try
        {
            pipeline = newPipeline(options, zeekOptions, limits, checkpointing, records);
        }
        catch (final UncheckedIOException e)
        {
            err.println("tracker run: cannot restore checkpoints: " + AnalyzeCommand.describe(e.getCause()));
            closeQuietly(store);
            records.close();
            return ExitCodes.INPUT_ERROR;
        }
        if (store != null && !options.quiet)
        {
            err.printf(Locale.ROOT, "tracker run: restored %,d connections from %s%n", pipeline.restoredFlows(),
                options.stateDir);
        }
        // A shutdown signal asks the replay to stop; the hook then waits until every open connection is written.
        final AtomicBoolean stopRequested = new AtomicBoolean();
        final CountDownLatch flushed = new CountDownLatch(1);
        final Thread shutdownHook = new Thread(() ->
        {
            stopRequested.set(true);
            try
            {
                flushed.await(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }, "tracker-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
        try
        {
            return replay(options, pipeline, records, limits, stopRequested);
        }
        finally
        {
            closeQuietly(store);
            flushed.countDown();
            try
            {
                Runtime.getRuntime().removeShutdownHook(shutdownHook);
            }
            catch (final IllegalStateException e)
            {
                // the JVM is already shutting down: the hook has run or is running
            }
        }
    }

    private static void closeQuietly(final CheckpointStore store)
    {
        if (store != null)
        {
            try
            {
                store.close();
            }
            catch (final IOException e)
            {
                // the lock goes with the process anyway
            }
        }
    }

    private static Pipeline newPipeline(
        final Options options, final ZeekOptions zeekOptions, final FlowLimits limits,
        final Checkpointing checkpointing, final RecordWriter records)
    {
        return new Pipeline(options.workers, options.ringSize, true, options.lifecycle,
            zeekOptions, limits, checkpointing, worker ->
            {
                final FlowRecordFormat format = new FlowRecordFormat();
                // Formatting stays on the worker (the connection is recycled after this call); the disk does not.
                return connection -> records.write(format.format(connection));
            });
    }

    private int replay(
        final Options options, final Pipeline pipeline, final RecordWriter records, final FlowLimits limits,
        final AtomicBoolean stopRequested)
    {
        final PacketHandler source = options.replaySpeed > 0 ?
            new ReplayPacer(pipeline, options.replaySpeed, stopRequested::get) : pipeline;
        // Paced replays read in small batches so that a stop request is seen between them promptly.
        final int batch = options.replaySpeed > 0 ? 64 : 4096;
        final long start = System.nanoTime();
        String failure = null;
        for (int i = 0; i < options.files.size() && failure == null && !stopRequested.get(); i++)
        {
            final Path file = options.files.get(i);
            try (CaptureReader reader = CaptureFiles.open(file))
            {
                while (!stopRequested.get() && reader.read(source, batch) > 0)
                {
                    // replay the whole file, or until stopped
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
        final boolean stopped = stopRequested.get();
        pipeline.finish(stopped ? EndReason.SHUTDOWN : EndReason.END_OF_INPUT);
        int exit = ExitCodes.OK;
        records.close(); // every record written and flushed; a file closed
        if (failure != null)
        {
            err.println("tracker run: error: " + failure);
            exit = ExitCodes.INPUT_ERROR;
        }
        if (records.failure() != null)
        {
            err.println("tracker run: error writing flow records (" + records.lost() + " lost): " + records.failure());
            exit = ExitCodes.INPUT_ERROR;
        }
        if (stopped)
        {
            err.println("tracker run: stopped by a shutdown signal; open connections " +
                (options.stateDir != null ? "checkpointed in " + options.stateDir : "written with end_reason shutdown"));
        }
        if (pipeline.checkpointsFailed() > 0)
        {
            err.println("tracker run: error: " + pipeline.checkpointsFailed() + " checkpoint(s) failed, latest: " +
                pipeline.checkpointFailure());
            exit = ExitCodes.INPUT_ERROR;
        }
        if (!options.quiet)
        {
            final double seconds = (System.nanoTime() - start) / 1e9;
            err.printf(Locale.ROOT, "tracker run: %,d packets (%,d TCP), %,d connections, %d workers %s, ring %d, " +
                    "ring_full drops %d, in %.3f s (%,.0f packets/s)%n",
                pipeline.stats().frames(), pipeline.stats().tcpSegments(), records.written(), pipeline.workers(),
                Arrays.toString(pipeline.segmentsPerWorker()), pipeline.ringSize(), pipeline.ringFullDrops(), seconds,
                seconds > 0 ? pipeline.stats().frames() / seconds : 0.0);
            err.printf(Locale.ROOT, "tracker run: flow table %,d flows; removed idle %s, emergency %s, capacity %s; " +
                    "emergency mode entered %d times%n",
                limits.maxFlows(), removals(pipeline, FlowRemoval.IDLE_TIMEOUT),
                removals(pipeline, FlowRemoval.EMERGENCY_TIMEOUT), removals(pipeline, FlowRemoval.CAPACITY),
                pipeline.emergencyEntries());
            if (options.stateDir != null)
            {
                err.printf(Locale.ROOT, "tracker run: checkpoints written %d, skipped %d, failed %d%n",
                    pipeline.checkpointsWritten(), pipeline.checkpointsSkipped(), pipeline.checkpointsFailed());
            }
        }
        return exit;
    }

    /** "N (opening a, established b, closed c)" for one removal reason. */
    private static String removals(final Pipeline pipeline, final FlowRemoval removal)
    {
        final StringBuilder text = new StringBuilder().append(pipeline.flowsRemoved(removal)).append(" (");
        for (final FlowPhase phase : FlowPhase.values())
        {
            text.append(phase == FlowPhase.OPENING ? "" : ", ").append(phase.label()).append(' ')
                .append(pipeline.flowsRemoved(removal, phase));
        }
        return text.append(')').toString();
    }

    /** Parsed command line. */
    static final class Options
    {
        final List<Path> files = new ArrayList<>();
        Path output;
        int workers = Pipeline.defaultWorkers();
        int ringSize = 1 << 16;
        /** Replay pace as a multiple of real time; 0 = as fast as possible. */
        double replaySpeed;
        Lifecycle lifecycle = Lifecycle.ZEEK;
        boolean ignoreChecksums;
        boolean quiet;
        boolean help;
        final FlowLimits.Builder limits = FlowLimits.builder();
        Path stateDir;
        long rotateBytes;
        long rotateNanos;
        long checkpointIntervalNanos = TimeUnit.SECONDS.toNanos(60);
        boolean checkpointAtEnd;

        FlowLimits limits()
        {
            return limits.build();
        }

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
                    case "--topspeed" -> options.replaySpeed = 0;
                    case "--state-dir" -> options.stateDir = Path.of(value(args, ++i, arg));
                    case "--checkpoint-interval" ->
                        options.checkpointIntervalNanos = Durations.parseNanos(value(args, ++i, arg), arg);
                    case "--checkpoint-at-end" -> options.checkpointAtEnd = true;
                    case "--rotate-size" -> options.rotateBytes = bytes(value(args, ++i, arg), arg);
                    case "--rotate-interval" -> options.rotateNanos = Durations.parseNanos(value(args, ++i, arg), arg);
                    case "--replay-speed" ->
                    {
                        final String text = value(args, ++i, arg);
                        try
                        {
                            options.replaySpeed = Double.parseDouble(text);
                        }
                        catch (final NumberFormatException e)
                        {
                            throw new UsageException(arg + " needs a number, got '" + text + "'");
                        }
                        if (!(options.replaySpeed > 0) || Double.isInfinite(options.replaySpeed))
                        {
                            throw new UsageException(arg + " must be a positive number, got '" + text + "'");
                        }
                    }
                    case "--max-flows" -> options.limits.maxFlows(positive(value(args, ++i, arg), arg));
                    case "--opening-timeout" -> options.limits.timeout(FlowPhase.OPENING,
                        Durations.parseNanos(value(args, ++i, arg), arg));
                    case "--established-timeout" -> options.limits.timeout(FlowPhase.ESTABLISHED,
                        Durations.parseNanos(value(args, ++i, arg), arg));
                    case "--closed-timeout" -> options.limits.timeout(FlowPhase.CLOSED,
                        Durations.parseNanos(value(args, ++i, arg), arg));
                    case "--emergency-timeouts" ->
                    {
                        final String[] parts = value(args, ++i, arg).split(",", -1);
                        if (parts.length != 3)
                        {
                            throw new UsageException(arg + " needs three durations, opening,established,closed");
                        }
                        for (final FlowPhase phase : FlowPhase.values())
                        {
                            options.limits.emergencyTimeout(phase, Durations.parseNanos(parts[phase.ordinal()], arg));
                        }
                    }
                    default -> throw new UsageException("unknown option '" + arg + "'");
                }
            }
            if (options.output == null && (options.rotateBytes > 0 || options.rotateNanos > 0))
            {
                throw new UsageException("--rotate-size and --rotate-interval need -o FILE");
            }
            if (options.stateDir == null && options.checkpointAtEnd)
            {
                throw new UsageException("--checkpoint-at-end needs --state-dir");
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

        /** A byte count with an optional k/M/G suffix (powers of 1024). */
        private static long bytes(final String text, final String option) throws UsageException
        {
            final String trimmed = text.trim();
            long multiplier = 1;
            String digits = trimmed;
            if (!trimmed.isEmpty())
            {
                switch (Character.toLowerCase(trimmed.charAt(trimmed.length() - 1)))
                {
                    case 'k' -> multiplier = 1L << 10;
                    case 'm' -> multiplier = 1L << 20;
                    case 'g' -> multiplier = 1L << 30;
                    default -> multiplier = 1;
                }
                if (multiplier > 1)
                {
                    digits = trimmed.substring(0, trimmed.length() - 1);
                }
            }
            try
            {
                final long value = Long.parseLong(digits);
                if (value < 1 || value > Long.MAX_VALUE / multiplier)
                {
                    throw new UsageException(option + " must be at least 1 byte, got '" + text + "'");
                }
                return value * multiplier;
            }
            catch (final NumberFormatException e)
            {
                throw new UsageException(option + " needs a size such as 1000000, 64M or 1G, got '" + text + "'");
            }
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
