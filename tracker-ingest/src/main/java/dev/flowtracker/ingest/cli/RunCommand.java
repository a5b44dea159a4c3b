package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.flow.ConnectionTracker;
import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowStateCodec;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.runtime.TrackerRuntime;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code tracker run --pcap FILE... | --interface IF... | --vxlan-listen ADDR:PORT ... [options]}: the daemon. Checks
 * the configuration (options, memory bounds) and opens the record sinks ({@link RecordSinks}) and the state directory
 * on the calling thread into a {@link TrackerRuntime}, then hands over to {@link RunDaemon}, which runs the pipeline
 * until the input ends or a stop signal comes; the runtime stops what started, whatever happened.
 */
@Command(
    name = RunCommand.NAME,
    versionProvider = TrackerVersion.class,
    synopsisHeading = "usage: ",
    customSynopsis = {
        "tracker run --pcap FILE [--pcap FILE ...] [options]",
        "       tracker run --interface IF [--interface IF ...] [--fanout N] [options]",
        "       tracker run --vxlan-listen ADDR:PORT | --geneve-listen ADDR:PORT [options]"},
    descriptionHeading = "%n",
    description = {
        "replay pcap/pcapng files or capture live traffic through the streaming pipeline (ring + shard workers)",
        "",
        "The daemon: replays capture files through the streaming pipeline (frames are decoded into a ring, and shard " +
            "workers, each owning the connections whose symmetric 4-tuple hash falls in its shard, track them), " +
            "writes one JSON flow record per connection as it ends (same schema as analyze), and serves metrics and " +
            "the flow API over HTTP. After the input ends it keeps serving until stopped, unless --exit-at-end."},
    optionListHeading = "%noptions:%n",
    footer = {
        "",
        "SIGTERM or SIGINT stops the sources gracefully: every connection still open is written with end_reason " +
            "\"shutdown\" (or, with --state-dir, checkpointed) and the output flushed before the process exits; a " +
            "second signal exits at once.",
        "",
        "exit codes: 0 ok; 1 input or output error (or the HTTP address cannot be bound) (records seen before it " +
            "are still written); 2 usage error; 143/130 after SIGTERM/SIGINT (records flushed)"})
final class RunCommand extends TrackingCommand
{
    static final String NAME = "run";
    /** Most ring slots: 16 M events, about 5 GiB of heap. */
    static final int MAX_RING_SIZE = 1 << 24;
    /** Heap one ring slot takes (a {@code PacketEvent} and its decoded packet, measured with a heap histogram). */
    static final int RING_SLOT_BYTES = 320;
    /** Heap the daemon needs besides the ring and the record buffer: metrics, HTTP and such. */
    static final long BASE_HEAP_BYTES = 64L << 20;

    @Mixin
    RunOptions options;

    RunCommand(final PrintStream out, final PrintStream err)
    {
        super(out, err);
    }

    /** The help's layout: the option list in sections. */
    static void layOut(final CommandLine commandLine)
    {
        HelpSections.install(commandLine, Map.of(
            HelpSections.SOURCES, "sources (one kind: files, or live capture and mirrors):",
            HelpSections.OUTPUT, "flow records:",
            HelpSections.FLOW_TABLE, "flow table (shared equally by the workers; memory fixed at start):",
            HelpSections.CHECKPOINTS, "checkpoints (Chronicle Map files, one per worker shard; crash-safe commits):",
            HelpSections.HTTP, "HTTP (GET / live page, /metrics for Prometheus, /health, /ready, " +
                "/flows?host=&port=&conn_state=&flag=&sort=&order=&ended=... and" + System.lineSeparator() +
                "/flows/{uid}; reference in docs/http-api.md):",
            HelpSections.KAFKA, KAFKA_HEADING,
            HelpSections.LAST, "general:"));
    }

    @Override
    public Integer call()
    {
        options.warnObsolete(err, "run");
        options.validate();
        return withRuntime(NAME, options, runtime -> runWith(runtime));
    }

    /** Opens the state directory, checks the memory bounds and runs the daemon; the runtime closes what opened. */
    private int runWith(final TrackerRuntime runtime)
    {
        final CheckpointStore store;
        try
        {
            store = options.stateDir == null ? null : new CheckpointStore(options.stateDir);
        }
        catch (final IOException e)
        {
            err.println("tracker run: cannot use state directory: " + Errors.describe(e));
            return ExitCodes.INPUT_ERROR;
        }
        runtime.checkpointStore(store);
        final FlowLimits limits = options.limits();
        if (!memoryFits(limits, store != null))
        {
            return ExitCodes.USAGE;
        }
        return new RunDaemon(options, common.quiet, err).run(runtime, store, limits);
    }

    /**
     * Whether this JVM holds what the options need: the flow tables commit their records as they fill and the ring's
     * events are allocated at start, so a bound the JVM cannot hold must fail now, not with an OutOfMemoryError on a
     * worker once the traffic gets there. Says why not.
     */
    private boolean memoryFits(final FlowLimits limits, final boolean checkpoints)
    {
        final long offHeapNeeded = offHeapNeeded(limits, options.workers);
        final long directLimit = FlowLimits.jvmDirectMemoryLimit();
        if (offHeapNeeded > directLimit)
        {
            err.printf(Locale.ROOT, "tracker run: --max-flows %,d needs %.2f GiB of off-heap memory for the flow " +
                    "tables, and this JVM allows %.2f GiB of direct memory: raise -XX:MaxDirectMemorySize (it " +
                    "defaults to the heap size, -Xmx) or lower --max-flows%n", limits.maxFlows(),
                offHeapNeeded / (double)(1L << 30), directLimit / (double)(1L << 30));
            return false;
        }
        final long heapNeeded = heapNeeded(options.ringSize, options.workers, limits, options.recordBufferBytes,
            checkpoints);
        final long heapLimit = Runtime.getRuntime().maxMemory();
        if (heapNeeded > heapLimit)
        {
            err.printf(Locale.ROOT, "tracker run: --ring-size %,d, --record-buffer " +
                    "%,d%s need about %.2f GiB of heap, and this JVM allows %.2f GiB: raise -Xmx (TRACKER_JAVA_OPTS) " +
                    "or lower one of them%n",
                options.ringSize, options.recordBufferBytes, checkpoints ?
                    String.format(Locale.ROOT, " and checkpoints of --max-flows %,d", limits.maxFlows()) : "",
                heapNeeded / (double)(1L << 30), heapLimit / (double)(1L << 30));
            return false;
        }
        return true;
    }

    /**
     * Heap the pipeline takes at most beyond the JVM's own, for {@code limits} shared by {@code workers}: the ring's
     * preallocated events, the records held while the output
     * fails, with {@code checkpoints} the snapshots of every flow up to the bound, and {@link #BASE_HEAP_BYTES} for the
     * rest (metrics, HTTP, checkpoint buffers of a small table). What {@code run} checks against the maximum heap, and
     * what bin/tracker's default {@code -Xmx} is derived from (bin/lib/memory.sh).
     */
    static long heapNeeded(
        final int ringSize, final int workers, final FlowLimits limits, final long recordBuffer,
        final boolean checkpoints)
    {
        return (long)ringSize * RING_SLOT_BYTES + recordBuffer +
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
}
