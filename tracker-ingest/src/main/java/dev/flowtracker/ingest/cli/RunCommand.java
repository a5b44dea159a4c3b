package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.tcp.ConnectionTracker;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.FlowLimits;
import dev.flowtracker.core.tcp.FlowPhase;
import dev.flowtracker.core.tcp.FlowRemoval;
import dev.flowtracker.core.tcp.FlowStateCodec;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.ZeekOptions;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.output.FlowRecordFormat;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.pipeline.Checkpointing;
import dev.flowtracker.ingest.pipeline.Pipeline;
import dev.flowtracker.ingest.pipeline.ReplayResume;
import dev.flowtracker.ingest.http.HttpApi;
import dev.flowtracker.ingest.http.HttpServer;
import dev.flowtracker.ingest.http.WebConfig;
import dev.flowtracker.ingest.metrics.FlowEndCounters;
import dev.flowtracker.ingest.metrics.TrackerMetrics;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.SourceException;
import dev.flowtracker.ingest.source.afpacket.AfPacketOptions;
import dev.flowtracker.ingest.source.afpacket.AfPacketSource;
import dev.flowtracker.ingest.source.mirror.MirrorOptions;
import dev.flowtracker.ingest.source.mirror.MirrorProtocol;
import dev.flowtracker.ingest.source.mirror.MirrorSource;
import dev.flowtracker.ingest.source.pcap.CaptureFileSource;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Instant;
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
               tracker run --interface IF [--interface IF ...] [--fanout N] [options]
               tracker run --vxlan-listen ADDR:PORT | --geneve-listen ADDR:PORT [options]

        The daemon: replays capture files through the streaming pipeline (frames are decoded into a ring, and
        shard workers, each owning the connections whose symmetric 4-tuple hash falls in its shard, track them),
        writes one JSON flow record per connection as it ends (same schema as analyze), and serves metrics and
        the flow API over HTTP. After the input ends it keeps serving until stopped, unless --exit-at-end.

        options:
              --pcap FILE     a pcap/pcapng file to replay (repeatable; files are read in order as one stream)
          -i, --interface IF  capture live on IF with an AF_PACKET TPACKET_V3 ring (repeatable; needs CAP_NET_RAW).
                              Live: a full ring drops frames (counted), idle timeouts run on wall time
              --fanout N      N sockets per interface in one PACKET_FANOUT hash group, one event loop each
              --promiscuous   put the interfaces in promiscuous mode while capturing (CAP_NET_ADMIN)
              --no-filter     no kernel filter (by default a classic BPF program passes only TCP over IPv4/IPv6,
                              with or without VLAN tags)
              --ring-blocks N, --block-size N, --block-timeout D
                              the kernel ring: blocks (default 64) of N bytes (default 1M), handed over when full
                              or after D (default 10ms)
              --vxlan-listen ADDR:PORT, --geneve-listen ADDR:PORT
                              receive mirrored traffic (e.g. cloud traffic mirroring) as VXLAN (UDP 4789) or
                              Geneve (UDP 6081); the VNI is part of each connection's identity (record "vni").
                              Live: a full ring drops frames (counted), idle timeouts run on wall time.
                              One listener per port: a port another socket already serves is refused
              --mirror-threads N  receiving sockets per listen address (SO_REUSEPORT, one event loop each;
                              default 1)
              --workers N     shard workers (default: cores - 1, at least 1, at most 1024)
              --ring-size N   ring slots, a power of two up to 16777216 (default 65536; about 320 bytes of heap each)
              --replay-speed X
                              replay at the captured pace times X (1 = real time, 10 = ten times faster; at least
                              0.001)
              --topspeed      replay as fast as possible (the default; not with --replay-speed)
          -o, --output FILE   write flow records to FILE instead of standard output. An existing FILE is
                              continued, never truncated (a torn last line a killed run left is cut first)
              --rotate-size N     with -o: start a new file when it reaches N bytes (suffix k, M or G); the
                              full one is renamed FILE.<UTC time>
              --rotate-interval D with -o: start a new file when it has been open for D
              --rotate-at-exit    with -o: rename FILE to FILE.<UTC time> when the process exits
              --record-buffer N   records kept in memory while the output cannot be written (a full disk), retried
                              every second (default 64M bytes; suffix k, M or G); beyond it the newest are
                              dropped and counted (tracker_records_lost_total{reason="buffer_full"})
              --lifecycle L   zeek (default) or tshark, as for analyze
          -C, --ignore-checksums
                              as for analyze. Without it, live capture still skips the frames this host sent
                              with their checksums left to the network card (the kernel flags them), so
                              capturing on a host that talks, not only on a tap, needs no -C

        flow table (shared equally by the workers; memory fixed at start):
              --max-flows N   connections tracked at once (default 1000000); when full, the least recently
                              active connection is evicted (record end_reason "evicted"). Their state is
                              off-heap, about 1.45 KB each (committed as the table fills)
              --working-set N connection objects each worker runs on (default 16384, about 2 KB of heap each);
                              a connection outside it is decoded from its off-heap record when it next sees a
                              segment
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
                              continues them). A --pcap replay then skips the frames the checkpoints hold
                              (counted), so it may restart on the same capture
              --checkpoint-interval D   wall-clock time between checkpoints (default 60s; needs --state-dir)
              --checkpoint-at-end       at the end of input, checkpoint open connections instead of writing
                              them (a capture split over several runs, one file each)
        HTTP (GET /metrics for Prometheus, /health, /ready, /flows?limit=N&sort=retransmission|bytes|duration|rtt,
        /flows/{uid}):
              --http-listen HOST:PORT   where to serve (default 127.0.0.1:9127; port 0 picks a free one, printed
                              on stderr)
              --no-http       no HTTP server (the command then exits when the input ends; not with --http-listen
                              or --web-config)
              --web-config FILE   TLS and basic auth, in the Prometheus exporters' web-config format
                              (tls_server_config: cert_file, key_file; basic_auth_users: user: bcrypt hash)
              --exit-at-end   exit when the input ends instead of serving until stopped
          -q, --quiet         no summary on stderr
          -h, --help          show this help

        SIGTERM or SIGINT stops the sources gracefully: every connection still open is written with
        end_reason "shutdown" (or, with --state-dir, checkpointed) and the output flushed before the process
        exits; a second signal exits at once.

        exit codes: 0 ok; 1 input or output error (or the HTTP address cannot be bound) (records seen before it are still written); 2 usage error;
        143/130 after SIGTERM/SIGINT (records flushed)
        """;

    /** Most shard workers: each is a thread with its own flow table; more would exhaust threads or memory. */
    static final int MAX_WORKERS = 1024;
    /** Most ring slots: 16 M events, about 5 GiB of heap. */
    static final int MAX_RING_SIZE = 1 << 24;
    /** Heap one ring slot takes (a {@code PacketEvent} and its decoded packet, measured with a heap histogram). */
    static final int RING_SLOT_BYTES = 320;
    /** Heap one working-set connection object takes at most, with its engine state (see --working-set). */
    static final int WORKING_CONNECTION_BYTES = 2048;
    /** Heap the daemon needs besides the ring, the working sets and the record buffer: metrics, HTTP and such. */
    static final long BASE_HEAP_BYTES = 64L << 20;
    /** Slowest replay: a second of capture in 1,000 s. Slower would look like a stall. */
    static final double MIN_REPLAY_SPEED = 0.001;
    /** The HTTP server's default port (metrics, API), on the loopback address. */
    static final int DEFAULT_HTTP_PORT = 9127;
    /** How often a live pipeline's clock moves the workers' time on when no packet arrives. */
    private static final long CLOCK_PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
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
            records = options.output == null ? RecordWriter.toStream(out, options.recordBufferBytes) :
                RecordWriter.continuing(options.output, options.rotateBytes, options.rotateNanos,
                    options.rotateAtExit, options.recordBufferBytes);
        }
        catch (final IOException e)
        {
            err.println("tracker run: cannot write output file " + options.output + ": " +
                AnalyzeCommand.describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        if (records.tornBytesCut() > 0)
        {
            err.printf(Locale.ROOT, "tracker run: %s ended in an unfinished record (%,d bytes) left by an earlier " +
                "run that was killed; cut it off, continuing after %,d bytes of whole records%n", options.output,
                records.tornBytesCut(), records.continuedBytes());
        }
        else if (records.continuedBytes() > 0 && !options.quiet)
        {
            err.printf(Locale.ROOT, "tracker run: continuing %s after %,d bytes an earlier run wrote%n",
                options.output, records.continuedBytes());
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
        final List<PacketSource> sources = options.sources();
        final boolean live = sources.stream().anyMatch(PacketSource::live);
        int producers = 0;
        for (final PacketSource source : sources)
        {
            producers += source.deliveryThreads();
        }
        // The flow tables commit their records as they fill: a bound the JVM cannot hold must fail now, not
        // with an OutOfMemoryError on a worker once the traffic gets there.
        final long offHeapNeeded = offHeapNeeded(limits, options.workers);
        final long directLimit = FlowLimits.jvmDirectMemoryLimit();
        if (offHeapNeeded > directLimit)
        {
            err.printf(Locale.ROOT, "tracker run: --max-flows %,d needs %.2f GiB of off-heap memory for the flow " +
                    "tables, and this JVM allows %.2f GiB of direct memory: raise -XX:MaxDirectMemorySize (it " +
                    "defaults to the heap size, -Xmx) or lower --max-flows%n", limits.maxFlows(),
                offHeapNeeded / (double)(1L << 30), directLimit / (double)(1L << 30));
            closeQuietly(store);
            records.close();
            return ExitCodes.USAGE;
        }
        // The ring's events are allocated at start and each worker's working set fills up to its size: a heap that
        // cannot hold both fails now, not with an OutOfMemoryError once the traffic gets there.
        final long heapNeeded = heapNeeded(options.ringSize, options.workers, limits, options.recordBufferBytes,
            store != null);
        final long heapLimit = Runtime.getRuntime().maxMemory();
        if (heapNeeded > heapLimit)
        {
            err.printf(Locale.ROOT, "tracker run: --workers %d, --working-set %,d, --ring-size %,d, --record-buffer " +
                    "%,d%s need about %.2f GiB of heap, and this JVM allows %.2f GiB: raise -Xmx (TRACKER_JAVA_OPTS) " +
                    "or lower one of them%n", options.workers, limits.perShard(options.workers).workingSet(),
                options.ringSize, options.recordBufferBytes,
                store == null ? "" : String.format(Locale.ROOT, " and checkpoints of --max-flows %,d", limits.maxFlows()),
                heapNeeded / (double)(1L << 30), heapLimit / (double)(1L << 30));
            closeQuietly(store);
            records.close();
            return ExitCodes.USAGE;
        }
        final FlowEndCounters[] flowEnds = new FlowEndCounters[options.workers];
        final Pipeline pipeline;
        try
        {
            pipeline = new Pipeline(options.workers, options.ringSize, !live, producers, options.lifecycle,
                zeekOptions, limits, checkpointing, worker ->
                {
                    final FlowRecordFormat format = new FlowRecordFormat();
                    final FlowEndCounters ends = new FlowEndCounters();
                    flowEnds[worker] = ends;
                    // Formatting stays on the worker (the connection is recycled after this call); the disk does not.
                    return connection ->
                    {
                        ends.count(connection);
                        records.write(format.format(connection));
                    };
                });
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
        final ReplayResume resume = pipeline.replayResume();
        if (resume != null)
        {
            // A replay of the capture the checkpoints came from: the frames they hold must not be tracked again.
            for (final PacketSource source : sources)
            {
                if (source instanceof CaptureFileSource replay)
                {
                    replay.skip(resume::alreadyTracked);
                    if (!options.quiet)
                    {
                        err.printf(Locale.ROOT, "tracker run: the replay skips the frames the checkpoints already " +
                            "hold: up to packet time %s%s%n", Instant.ofEpochSecond(0, resume.latestNanos()),
                            resume.earliestNanos() == resume.latestNanos() ? "" : " (connections of shards whose " +
                                "last checkpoint is older: up to " + (resume.earliestNanos() == Long.MIN_VALUE ?
                                "none, a shard had no checkpoint" : Instant.ofEpochSecond(0, resume.earliestNanos())) +
                                ")");
                    }
                }
            }
        }
        final AtomicBoolean inputFinished = new AtomicBoolean();
        final AtomicBoolean ready = new AtomicBoolean();
        final TrackerMetrics metrics = new TrackerMetrics(new TrackerMetrics.Parts(pipeline, sources, flowEnds, records,
            limits.maxFlows(), inputFinished::get));
        HttpServer http = null;
        if (options.httpListen != null)
        {
            try
            {
                http = HttpServer.start(options.httpListen, new HttpApi(metrics, () -> pipeline, ready::get),
                    options.webConfig);
                err.println("tracker run: serving HTTP on " + (options.webConfig.tls() ? "https" : "http") + "://" +
                    hostPort(http.address()));
            }
            catch (final IOException e)
            {
                err.println("tracker run: " + e.getMessage());
                pipeline.finish(EndReason.SHUTDOWN);
                records.close();
                closeQuietly(store);
                metrics.close();
                return ExitCodes.INPUT_ERROR;
            }
        }
        // A stop signal stops the sources; the command's own thread then finishes the pipeline, writes the final
        // checkpoint or records and exits with 128 + the signal. The JVM's shutdown sequence is not involved (see
        // StopSignals); a shutdown hook does the same only where the JVM refuses the signal handlers.
        final AtomicBoolean stopRequested = new AtomicBoolean();
        final CountDownLatch stopSignal = new CountDownLatch(1);
        final CountDownLatch flushed = new CountDownLatch(1);
        final Runnable stop = () ->
        {
            stopRequested.set(true);
            stopSignal.countDown();
            for (final PacketSource source : sources)
            {
                source.close();
            }
        };
        final StopSignals signals = StopSignals.install("run", stop, err);
        // A hook's daemon flag does not matter (the JVM waits for every hook); USER is what the main thread gave it.
        final Thread shutdownHook = signals.installed() ? null : TrackerThreads.newThread("shutdown", Kind.USER, () ->
        {
            stop.run();
            try
            {
                flushed.await(SHUTDOWN_GRACE_SECONDS, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        });
        if (shutdownHook != null)
        {
            Runtime.getRuntime().addShutdownHook(shutdownHook);
        }
        try
        {
            final int exit = track(options, sources, live, pipeline, records, limits, stopRequested, stopSignal, ready,
                inputFinished, http, signals);
            return signals.exitStatus(exit);
        }
        finally
        {
            for (final PacketSource source : sources)
            {
                source.close();
            }
            if (http != null)
            {
                http.close();
            }
            metrics.close();
            closeQuietly(store);
            flushed.countDown();
            signals.close();
            if (shutdownHook != null)
            {
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
    }

    /**
     * Heap the pipeline takes at most beyond the JVM's own, for {@code limits} shared by {@code workers}: the ring's
     * preallocated events, every worker's full working set of connection objects, the records held while the output
     * fails, with {@code checkpoints} the snapshots of every flow up to the bound, and {@link #BASE_HEAP_BYTES} for the
     * rest (metrics, HTTP, checkpoint buffers of a small table). What {@code run} checks against the maximum heap, and
     * what bin/tracker's default {@code -Xmx} is derived from (bin/lib/memory.sh).
     */
    static long heapNeeded(
        final int ringSize, final int workers, final FlowLimits limits, final long recordBuffer, final boolean checkpoints)
    {
        return (long)ringSize * RING_SLOT_BYTES +
            (long)workers * limits.perShard(workers).workingSet() * WORKING_CONNECTION_BYTES + recordBuffer +
            (checkpoints ? limits.maxFlows() * (long)FlowStateCodec.MAX_ENCODED_BYTES : 0) + BASE_HEAP_BYTES;
    }

    /**
     * Direct memory the flow tables of {@code limits} shared by {@code workers} take when full, with their timer
     * queues: what {@code run} checks against {@code -XX:MaxDirectMemorySize}, and what bin/tracker's default for it is
     * derived from (bin/lib/memory.sh).
     */
    static long offHeapNeeded(final FlowLimits limits, final int workers)
    {
        return ConnectionTracker.flowTableMaxOffHeapBytes(limits.perShard(workers)) * workers +
            limits.maxFlows() * FlowLimits.TIMER_BYTES_PER_FLOW;
    }

    private static String hostPort(final InetSocketAddress address)
    {
        final String host = address.getHostString();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
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

    private int track(
        final Options options, final List<PacketSource> sources, final boolean live, final Pipeline pipeline,
        final RecordWriter records, final FlowLimits limits, final AtomicBoolean stopRequested,
        final CountDownLatch stopSignal, final AtomicBoolean ready, final AtomicBoolean inputFinished,
        final HttpServer http, final StopSignals signals)
    {
        final long start = System.nanoTime();
        String failure = null;
        int firstProducer = 0;
        final List<PacketSource> started = new ArrayList<>();
        for (final PacketSource source : sources)
        {
            final int base = firstProducer;
            try
            {
                source.start(thread -> pipeline.sink(base + thread));
                started.add(source);
                if (source.live())
                {
                    err.println("tracker run: receiving " + source.description()); // after start: the bound port
                }
            }
            catch (final SourceException e)
            {
                failure = e.getMessage(); // names the file, interface or address
                break;
            }
            firstProducer += source.deliveryThreads();
        }
        if (failure == null)
        {
            ready.set(true);
            if (live)
            {
                pipeline.startClock(CLOCK_PERIOD_NANOS);
            }
            for (final PacketSource source : started)
            {
                Uninterruptibly.await(source::awaitEnd);
                if (source.failure() != null && failure == null)
                {
                    failure = source.failure().getMessage();
                }
            }
        }
        for (final PacketSource source : started)
        {
            source.close();
        }
        final boolean stopped = stopRequested.get();
        pipeline.finish(stopped ? EndReason.SHUTDOWN : EndReason.END_OF_INPUT);
        inputFinished.set(true);
        final boolean keepServing = http != null && !stopped && !options.exitAtEnd;
        int exit = ExitCodes.OK;
        if (failure != null)
        {
            err.println("tracker run: error: " + failure);
            exit = ExitCodes.INPUT_ERROR;
        }
        if (stopped)
        {
            final String by = "a shutdown signal" + switch (signals.signal())
            {
                case 0 -> "";
                case 2 -> " (SIGINT)";
                case 15 -> " (SIGTERM)";
                default -> " (" + signals.signal() + ")";
            };
            if (options.stateDir == null)
            {
                err.println("tracker run: stopped by " + by + "; open connections written with end_reason shutdown");
            }
            else if (pipeline.finalCheckpointFailures() == 0)
            {
                err.printf(Locale.ROOT, "tracker run: stopped by %s; %,d open connections checkpointed in %s%n", by,
                    pipeline.finalCheckpointFlows(), options.stateDir);
            }
            else
            {
                err.printf(Locale.ROOT, "tracker run: error: stopped by %s; the final checkpoint failed for %d of %d " +
                        "workers (%s); only %,d open connections checkpointed in %s%n", by,
                    pipeline.finalCheckpointFailures(), pipeline.workers(), pipeline.checkpointFailure(),
                    pipeline.finalCheckpointFlows(), options.stateDir);
            }
        }
        if (pipeline.checkpointsFailed() > 0)
        {
            err.println("tracker run: error: " + pipeline.checkpointsFailed() + " checkpoint(s) failed, latest: " +
                pipeline.checkpointFailure());
            exit = ExitCodes.INPUT_ERROR;
        }
        if (keepServing)
        {
            // The records stay with the writer while the daemon serves: a failing sink keeps being retried.
            records.flush();
            summary(options, pipeline, records, limits, (System.nanoTime() - start) / 1e9, started);
            err.println("tracker run: input finished; still serving HTTP on " + hostPort(http.address()) +
                " until stopped (SIGTERM or SIGINT)");
            Uninterruptibly.await(stopSignal::await);
        }
        records.close(); // every record written and flushed (a failing sink retried for a while); a file closed
        if (records.lost() > 0)
        {
            err.printf(Locale.ROOT, "tracker run: error writing flow records: %s; %,d lost (%,d for a full buffer, " +
                    "%,d still unwritable at exit), %,d written%n", records.failure(), records.lost(),
                records.lost(RecordWriter.LossReason.BUFFER_FULL), records.lost(RecordWriter.LossReason.SHUTDOWN),
                records.written());
            exit = ExitCodes.INPUT_ERROR;
        }
        else if (records.failure() != null)
        {
            err.printf(Locale.ROOT, "tracker run: warning: writing flow records failed %,d times (first: %s) and " +
                "recovered; no record lost%n", records.sinkFailures(), records.failure());
        }
        if (!keepServing && !started.isEmpty()) // a source that could not start: its one line says it all
        {
            summary(options, pipeline, records, limits, (System.nanoTime() - start) / 1e9, started);
        }
        return exit;
    }

    private void summary(
        final Options options, final Pipeline pipeline, final RecordWriter records, final FlowLimits limits,
        final double seconds, final List<PacketSource> started)
    {
        if (options.quiet)
        {
            return;
        }
        err.printf(Locale.ROOT, "tracker run: %,d packets (%,d TCP), %,d connections, %d workers %s, ring %d, " +
                "ring_full drops %d, in %.3f s (%,.0f packets/s); %,d records written%n",
            pipeline.stats().frames(), pipeline.stats().tcpSegments(), pipeline.connectionsCreated(),
            pipeline.workers(), Arrays.toString(pipeline.segmentsPerWorker()), pipeline.ringSize(),
            pipeline.ringFullDrops(), seconds, seconds > 0 ? pipeline.stats().frames() / seconds : 0.0,
            records.written());
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
        for (final PacketSource source : started)
        {
            err.printf(Locale.ROOT, "tracker run: source %s %s: %,d frames, %,d bytes, %,d dropped before " +
                    "delivery%s%n", source.kind(), source.description(), source.frames(), source.bytes(), source.drops(),
                source instanceof CaptureFileSource replay && replay.skipped() > 0 ? String.format(Locale.ROOT,
                    ", %,d skipped (already in the checkpoints restored)", replay.skipped()) : "");
        }
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
        boolean rotateAtExit;
        long recordBufferBytes = RecordWriter.DEFAULT_BUFFER_BYTES;
        long checkpointIntervalNanos = TimeUnit.SECONDS.toNanos(60);
        boolean checkpointAtEnd;
        /** Where the HTTP server listens; null for none. */
        InetSocketAddress httpListen = new InetSocketAddress(InetAddress.getLoopbackAddress(), DEFAULT_HTTP_PORT);
        WebConfig webConfig = WebConfig.NONE;
        boolean exitAtEnd;
        /** Which of the options that can contradict others were given, for the checks after parsing. */
        boolean replaySpeedGiven;
        boolean topspeedGiven;
        boolean checkpointIntervalGiven;
        boolean httpListenGiven;
        boolean noHttp;

        final AfPacketOptions.Builder capture = AfPacketOptions.builder();
        boolean capturing;
        final List<MirrorOptions> mirrors = new ArrayList<>();
        int mirrorThreads = MirrorOptions.DEFAULT_THREADS;

        /** The packet sources the options ask for, not started. */
        List<PacketSource> sources()
        {
            final List<PacketSource> sources = new ArrayList<>();
            if (!files.isEmpty())
            {
                sources.add(new CaptureFileSource(files, replaySpeed));
            }
            if (capturing)
            {
                sources.add(new AfPacketSource(capture.build()));
            }
            for (final MirrorOptions mirror : mirrors)
            {
                sources.add(new MirrorSource(mirror.withThreads(mirrorThreads)));
            }
            return sources;
        }

        FlowLimits limits()
        {
            return limits.build();
        }

        static Options parse(final String[] args) throws UsageException
        {
            final Options options = new Options();
            Path webConfigFile = null;
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
                    case "--workers" ->
                    {
                        options.workers = positive(value(args, ++i, arg), arg);
                        if (options.workers > MAX_WORKERS)
                        {
                            throw new UsageException("--workers must be at most " + MAX_WORKERS + " (one thread " +
                                "and one flow table each), was " + options.workers);
                        }
                    }
                    case "--ring-size" ->
                    {
                        options.ringSize = positive(value(args, ++i, arg), arg);
                        if (Integer.bitCount(options.ringSize) != 1 || options.ringSize < 2 ||
                            options.ringSize > MAX_RING_SIZE)
                        {
                            throw new UsageException("--ring-size must be a power of two from 2 to " + MAX_RING_SIZE +
                                " (each slot is a preallocated event of about " + RING_SLOT_BYTES + " bytes), was " +
                                options.ringSize);
                        }
                    }
                    case "--lifecycle" -> options.lifecycle = AnalyzeCommand.Options.lifecycle(value(args, ++i, arg));
                    case "--topspeed" ->
                    {
                        options.replaySpeed = 0;
                        options.topspeedGiven = true;
                    }
                    case "--state-dir" -> options.stateDir = Path.of(value(args, ++i, arg));
                    case "--checkpoint-interval" ->
                    {
                        options.checkpointIntervalNanos = Durations.parseNanos(value(args, ++i, arg), arg);
                        options.checkpointIntervalGiven = true;
                    }
                    case "--checkpoint-at-end" -> options.checkpointAtEnd = true;
                    case "-i", "--interface" ->
                    {
                        options.capture.addInterface(value(args, ++i, arg));
                        options.capturing = true;
                    }
                    case "--fanout" -> options.capture.fanout(positive(value(args, ++i, arg), arg));
                    case "--promiscuous" -> options.capture.promiscuous(true);
                    case "--no-filter" -> options.capture.tcpOnlyFilter(false);
                    case "--ring-blocks" -> options.capture.blockCount(positive(value(args, ++i, arg), arg));
                    case "--block-size" -> options.capture.blockSize(bytes(value(args, ++i, arg), arg));
                    case "--block-timeout" ->
                        options.capture.blockTimeoutNanos(Durations.parseNanos(value(args, ++i, arg), arg));
                    case "--vxlan-listen" -> options.mirrors.add(mirror(MirrorProtocol.VXLAN, value(args, ++i, arg), arg));
                    case "--geneve-listen" ->
                        options.mirrors.add(mirror(MirrorProtocol.GENEVE, value(args, ++i, arg), arg));
                    case "--mirror-threads" -> options.mirrorThreads = positive(value(args, ++i, arg), arg);
                    case "--http-listen" ->
                    {
                        options.httpListen = listenAddress(value(args, ++i, arg), arg);
                        options.httpListenGiven = true;
                    }
                    case "--no-http" -> options.noHttp = true;
                    case "--exit-at-end" -> options.exitAtEnd = true;
                    case "--web-config" -> webConfigFile = Path.of(value(args, ++i, arg));
                    case "--rotate-size" -> options.rotateBytes = bytes(value(args, ++i, arg), arg);
                    case "--rotate-interval" -> options.rotateNanos = Durations.parseNanos(value(args, ++i, arg), arg);
                    case "--rotate-at-exit" -> options.rotateAtExit = true;
                    case "--record-buffer" -> options.recordBufferBytes = bytes(value(args, ++i, arg), arg);
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
                        if (!(options.replaySpeed >= MIN_REPLAY_SPEED) || Double.isInfinite(options.replaySpeed))
                        {
                            throw new UsageException(arg + " must be a number of at least " + MIN_REPLAY_SPEED +
                                " (a second of capture in " + Math.round(1 / MIN_REPLAY_SPEED) + " s) and finite, " +
                                "got '" + text + "'");
                        }
                        options.replaySpeedGiven = true;
                    }
                    case "--max-flows" -> options.limits.maxFlows(positive(value(args, ++i, arg), arg));
                    case "--working-set" -> options.limits.workingSet(positive(value(args, ++i, arg), arg));
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
            if (options.output == null && (options.rotateBytes > 0 || options.rotateNanos > 0 || options.rotateAtExit))
            {
                throw new UsageException("--rotate-size, --rotate-interval and --rotate-at-exit need -o FILE");
            }
            if (options.stateDir == null && options.checkpointAtEnd)
            {
                throw new UsageException("--checkpoint-at-end needs --state-dir");
            }
            if (options.stateDir == null && options.checkpointIntervalGiven)
            {
                throw new UsageException("--checkpoint-interval needs --state-dir (there is nowhere to checkpoint)");
            }
            if (options.replaySpeedGiven && options.topspeedGiven)
            {
                throw new UsageException("--replay-speed and --topspeed contradict each other: give one");
            }
            if (options.noHttp && (options.httpListenGiven || webConfigFile != null))
            {
                throw new UsageException("--no-http contradicts " + (options.httpListenGiven ? "--http-listen" :
                    "--web-config") + ": give one");
            }
            if (options.noHttp)
            {
                options.httpListen = null;
            }
            if (webConfigFile != null)
            {
                options.webConfig = webConfig(webConfigFile); // after the conflicts: no file read for nothing
            }
            if (!options.help && options.files.isEmpty() && options.mirrors.isEmpty() && !options.capturing)
            {
                throw new UsageException(
                    "nothing to read: give --pcap FILE, --interface IF, --vxlan-listen or --geneve-listen");
            }
            if (options.capturing)
            {
                try
                {
                    options.capture.build(); // checks the capture options now, as usage errors
                }
                catch (final IllegalArgumentException e)
                {
                    throw new UsageException(e.getMessage());
                }
            }
            if (!options.files.isEmpty() && (!options.mirrors.isEmpty() || options.capturing))
            {
                throw new UsageException("--pcap replays files losslessly and live sources never wait: use one kind");
            }
            if (options.files.isEmpty() && (options.replaySpeedGiven || options.topspeedGiven))
            {
                throw new UsageException((options.replaySpeedGiven ? "--replay-speed" : "--topspeed") +
                    " paces a file replay: it needs --pcap (live sources run at the traffic's own pace)");
            }
            if (options.mirrorThreads > MirrorOptions.MAX_THREADS)
            {
                throw new UsageException("--mirror-threads must be at most " + MirrorOptions.MAX_THREADS);
            }
            return options;
        }

        /** HOST:PORT, [IPv6]:PORT or :PORT (all addresses); port 0 picks a free one. */
        static InetSocketAddress listenAddress(final String text, final String option) throws UsageException
        {
            final int colon = text.lastIndexOf(':');
            if (colon < 0)
            {
                throw new UsageException(option + " needs HOST:PORT, got '" + text + "'");
            }
            String host = text.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]"))
            {
                host = host.substring(1, host.length() - 1);
            }
            final int port;
            try
            {
                port = Integer.parseInt(text.substring(colon + 1));
            }
            catch (final NumberFormatException e)
            {
                throw new UsageException(option + " needs a port number after ':', got '" + text + "'");
            }
            if (port < 0 || port > 65535)
            {
                throw new UsageException(option + " port must be 0 to 65535, got " + port);
            }
            try
            {
                return host.isEmpty() ? new InetSocketAddress(port) :
                    new InetSocketAddress(InetAddress.getByName(host), port);
            }
            catch (final java.net.UnknownHostException e)
            {
                throw new UsageException(option + ": unknown host '" + host + "'");
            }
        }

        private static MirrorOptions mirror(final MirrorProtocol protocol, final String text, final String option)
            throws UsageException
        {
            try
            {
                return MirrorOptions.of(protocol, text);
            }
            catch (final IllegalArgumentException e)
            {
                throw new UsageException(option + ": " + e.getMessage());
            }
        }

        private static WebConfig webConfig(final Path file) throws UsageException
        {
            try
            {
                return WebConfig.load(file);
            }
            catch (final IOException e)
            {
                throw new UsageException("--web-config " + file + ": " + e.getMessage());
            }
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
