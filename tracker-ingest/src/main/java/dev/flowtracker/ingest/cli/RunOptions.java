package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.ingest.http.WebConfig;
import dev.flowtracker.ingest.metrics.ServicePorts;
import dev.flowtracker.ingest.output.RecordWriter;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.afpacket.AfPacketOptions;
import dev.flowtracker.ingest.source.afpacket.AfPacketSource;
import dev.flowtracker.ingest.source.file.CaptureFileSource;
import dev.flowtracker.ingest.source.mirror.MirrorOptions;
import dev.flowtracker.ingest.source.mirror.MirrorProtocol;
import dev.flowtracker.ingest.source.mirror.MirrorSource;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import picocli.CommandLine;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * The options of {@code tracker run} beyond those it shares with analyze ({@link TrackingOptions}); each value is
 * read and checked in its setter, and the options that contradict each other in {@link #validate()}. Filled by picocli
 * on the command's thread before the command runs.
 */
class RunOptions extends TrackingOptions
{
    /** Slowest replay: a second of capture in 1,000 s. Slower would look like a stall. */
    static final double MIN_REPLAY_SPEED = 0.001;
    /** The HTTP server's default port (metrics, API), on the loopback address. */
    static final int DEFAULT_HTTP_PORT = 9127;
    private static final int MAX_RING_SIZE = RunCommand.MAX_RING_SIZE;
    private static final int RING_SLOT_BYTES = RunCommand.RING_SLOT_BYTES;

    final List<Path> files = new ArrayList<>();
    Path output;
    /** {@code -o -}: records to standard output even with Kafka. */
    boolean outputToStdout;
    int ringSize = 1 << 16;
    /** Replay pace as a multiple of real time; 0 = as fast as possible. */
    double replaySpeed;
    final FlowLimits.Builder limits = FlowLimits.builder();
    Path stateDir;
    long rotateBytes;
    long rotateNanos;
    long recordBufferBytes = RecordWriter.DEFAULT_BUFFER_BYTES;
    long checkpointIntervalNanos = TimeUnit.SECONDS.toNanos(60);
    /** Where the HTTP server listens; null for none. */
    InetSocketAddress httpListen = new InetSocketAddress(InetAddress.getLoopbackAddress(), DEFAULT_HTTP_PORT);
    WebConfig webConfig = WebConfig.NONE;
    private Path webConfigFile;
    /** Which of the options that can contradict others were given, for {@link #validate()}. */
    boolean replaySpeedGiven;
    boolean topspeedGiven;
    boolean checkpointIntervalGiven;
    boolean httpListenGiven;

    final AfPacketOptions.Builder capture = AfPacketOptions.builder();
    boolean capturing;
    final List<MirrorOptions> mirrors = new ArrayList<>();
    int mirrorThreads = MirrorOptions.DEFAULT_THREADS;

    @Option(names = "--rotate-at-exit", order = HelpSections.OUTPUT + 30,
        description = "with -o: rename FILE to FILE.<UTC time> when the process exits")
    boolean rotateAtExit;

    @Option(names = "--checkpoint-at-end", order = HelpSections.CHECKPOINTS + 20, description = "at the end of " +
        "input, checkpoint open connections instead of writing them (a capture split over several runs, one file " +
        "each)")
    boolean checkpointAtEnd;

    @Option(names = "--no-http", order = HelpSections.HTTP + 10, description = "no HTTP server (the command then " +
        "exits when the input ends; not with --http-listen or --web-config)")
    boolean noHttp;

    ServicePorts servicePorts = ServicePorts.DEFAULTS;

    @Option(names = "--service-ports", paramLabel = "LIST", order = HelpSections.HTTP + 40, description = "responder " +
        "ports the tracker_service_* metrics count apart, comma-separated, at most " + ServicePorts.MAX_PORTS +
        " (default: 22,25,53,80,110,143,443,445,993,995,1433,3306,3389,5432,6379,8080,8443,9092); every other port " +
        "is \"other\", so the series stay bounded; \"\" for none")
    void servicePorts(final String text)
    {
        servicePorts = OptionValues.parsed(text, "--service-ports", ServicePorts::parse);
    }

    @Option(names = "--exit-at-end", order = HelpSections.HTTP + 30,
        description = "exit when the input ends instead of serving until stopped")
    boolean exitAtEnd;

    @Option(names = "--pcap", paramLabel = "FILE", order = HelpSections.SOURCES,
        description = "a pcap/pcapng file to replay (repeatable; files are read in order as one stream)")
    void pcap(final Path file)
    {
        files.add(file);
    }

    @Option(names = {"-i", "--interface"}, paramLabel = "IF", order = HelpSections.SOURCES + 10, description =
        "capture live on IF with an AF_PACKET TPACKET_V3 ring (repeatable; needs CAP_NET_RAW). Live: a full ring " +
        "drops frames (counted), idle timeouts run on wall time")
    void captureInterface(final String name)
    {
        capture.addInterface(name);
        capturing = true;
    }

    @Option(names = "--fanout", paramLabel = "N", order = HelpSections.SOURCES + 11,
        description = "N sockets per interface in one PACKET_FANOUT hash group, one event loop each")
    void fanout(final String text)
    {
        capture.fanout(OptionValues.positiveInt(text, "--fanout"));
    }

    @Option(names = "--promiscuous", order = HelpSections.SOURCES + 12,
        description = "put the interfaces in promiscuous mode while capturing (CAP_NET_ADMIN)")
    void promiscuous(final boolean on)
    {
        capture.promiscuous(on);
    }

    @Option(names = "--no-filter", order = HelpSections.SOURCES + 13, description = "no kernel filter (by default " +
        "a classic BPF program passes only TCP over IPv4/IPv6, with or without VLAN tags)")
    void noFilter(final boolean on)
    {
        capture.tcpOnlyFilter(!on);
    }

    @Option(names = "--ring-blocks", paramLabel = "N", order = HelpSections.SOURCES + 14,
        description = "the kernel ring's blocks (default 64)")
    void ringBlocks(final String text)
    {
        capture.blockCount(OptionValues.positiveInt(text, "--ring-blocks"));
    }

    @Option(names = "--block-size", paramLabel = "N", order = HelpSections.SOURCES + 15,
        description = "the size of a kernel ring block (default 1M; suffix k, M or G)")
    void blockSize(final String text)
    {
        capture.blockSize(OptionValues.bytes(text, "--block-size"));
    }

    @Option(names = "--block-timeout", paramLabel = "D", order = HelpSections.SOURCES + 16,
        description = "a kernel ring block is handed over when full or after D (default 10ms)")
    void blockTimeout(final String text)
    {
        capture.blockTimeoutNanos(OptionValues.nanos(text, "--block-timeout"));
    }

    @Option(names = "--vxlan-listen", paramLabel = "ADDR:PORT", order = HelpSections.SOURCES + 20, description =
        "receive mirrored traffic (e.g. cloud traffic mirroring) as VXLAN (UDP 4789); the VNI is part of each " +
        "connection's identity (record \"vni\"). Live: a full ring drops frames (counted), idle timeouts run on " +
        "wall time. One listener per port: a port another socket already serves is refused")
    void vxlanListen(final String text)
    {
        mirrors.add(mirror(MirrorProtocol.VXLAN, text, "--vxlan-listen"));
    }

    @Option(names = "--geneve-listen", paramLabel = "ADDR:PORT", order = HelpSections.SOURCES + 21,
        description = "the same for Geneve (UDP 6081)")
    void geneveListen(final String text)
    {
        mirrors.add(mirror(MirrorProtocol.GENEVE, text, "--geneve-listen"));
    }

    @Option(names = "--mirror-threads", paramLabel = "N", order = HelpSections.SOURCES + 22, description =
        "receiving sockets per listen address (SO_REUSEPORT, one event loop each; default 1)")
    void mirrorThreads(final String text)
    {
        mirrorThreads = OptionValues.positiveInt(text, "--mirror-threads", MirrorOptions.MAX_THREADS, null);
    }

    @Option(names = "--replay-speed", paramLabel = "X", order = HelpSections.SOURCES + 30, description = "replay " +
        "at the captured pace times X (1 = real time, 10 = ten times faster; at least " + MIN_REPLAY_SPEED + ")")
    void replaySpeed(final String text)
    {
        try
        {
            replaySpeed = Double.parseDouble(text);
        }
        catch (final NumberFormatException e)
        {
            throw new UsageException("--replay-speed needs a number, got '" + text + "'");
        }
        if (!(replaySpeed >= MIN_REPLAY_SPEED) || Double.isInfinite(replaySpeed))
        {
            throw new UsageException("--replay-speed must be a number of at least " + MIN_REPLAY_SPEED +
                " (a second of capture in " + Math.round(1 / MIN_REPLAY_SPEED) + " s) and finite, got '" + text + "'");
        }
        replaySpeedGiven = true;
    }

    @Option(names = "--topspeed", order = HelpSections.SOURCES + 31,
        description = "replay as fast as possible (the default; not with --replay-speed)")
    void topspeed(final boolean on)
    {
        if (on)
        {
            replaySpeed = 0;
            topspeedGiven = true;
        }
    }

    @Option(names = "--ring-size", paramLabel = "N", order = HelpSections.GENERAL + 30, description = "ring slots, " +
        "a power of two up to " + MAX_RING_SIZE + " (default 65536; about " + RING_SLOT_BYTES + " bytes of heap each)")
    void ringSize(final String text)
    {
        ringSize = OptionValues.positiveInt(text, "--ring-size");
        if (Integer.bitCount(ringSize) != 1 || ringSize < 2 || ringSize > MAX_RING_SIZE)
        {
            throw new UsageException("--ring-size must be a power of two from 2 to " + MAX_RING_SIZE + " (each slot " +
                "is a preallocated event of about " + RING_SLOT_BYTES + " bytes), was " + ringSize);
        }
    }

    @Option(names = {"-o", "--output"}, paramLabel = "FILE", order = HelpSections.OUTPUT, description = "write " +
        "flow records to FILE instead of standard output (- for standard output, also beside Kafka). An existing " +
        "FILE is continued, never truncated (a torn last line a killed run left is cut first)")
    void output(final Path file)
    {
        output = StandardOutput.DASH.equals(file) ? null : file;
        outputToStdout = output == null;
    }

    @Override
    Path recordOutput()
    {
        return output != null ? output : outputToStdout ? StandardOutput.DASH : null;
    }

    @Override
    RecordWriter openRecordFile(final Path file) throws IOException
    {
        return RecordWriter.continuing(file, rotateBytes, rotateNanos, rotateAtExit, recordBufferBytes);
    }

    @Override
    long recordBufferBytes()
    {
        return recordBufferBytes;
    }

    @Option(names = "--rotate-size", paramLabel = "N", order = HelpSections.OUTPUT + 10, description = "with -o: " +
        "start a new file when it reaches N bytes (suffix k, M or G); the full one is renamed FILE.<UTC time>")
    void rotateSize(final String text)
    {
        rotateBytes = OptionValues.bytes(text, "--rotate-size");
    }

    @Option(names = "--rotate-interval", paramLabel = "D", order = HelpSections.OUTPUT + 20,
        description = "with -o: start a new file when it has been open for D")
    void rotateInterval(final String text)
    {
        rotateNanos = OptionValues.nanos(text, "--rotate-interval");
    }

    @Option(names = "--record-buffer", paramLabel = "N", order = HelpSections.OUTPUT + 40, description = "records " +
        "kept in memory while the output cannot be written (a full disk), retried every second (default 64M " +
        "bytes; suffix k, M or G); beyond it the newest are dropped and counted " +
        "(tracker_records_lost_total{reason=\"buffer_full\"})")
    void recordBuffer(final String text)
    {
        recordBufferBytes = OptionValues.bytes(text, "--record-buffer");
    }

    @Option(names = "--max-flows", paramLabel = "N", order = HelpSections.FLOW_TABLE, description = "connections " +
        "tracked at once (default 1000000); when full, the least recently active connection is evicted (record " +
        "end_reason \"evicted\"). Their state is off-heap, about 1.45 KB each (committed as the table fills)")
    void maxFlows(final String text)
    {
        limits.maxFlows(OptionValues.positiveInt(text, "--max-flows"));
    }

    @Option(names = "--opening-timeout", paramLabel = "D", order = HelpSections.FLOW_TABLE + 20,
        description = "idle limit before the handshake completes (default 30s)")
    void openingTimeout(final String text)
    {
        limits.timeout(FlowPhase.OPENING, OptionValues.nanos(text, "--opening-timeout"));
    }

    @Option(names = "--established-timeout", paramLabel = "D", order = HelpSections.FLOW_TABLE + 21,
        description = "idle limit once open, half-closed or picked up mid-stream (default 1h)")
    void establishedTimeout(final String text)
    {
        limits.timeout(FlowPhase.ESTABLISHED, OptionValues.nanos(text, "--established-timeout"));
    }

    @Option(names = "--closed-timeout", paramLabel = "D", order = HelpSections.FLOW_TABLE + 22,
        description = "linger after FIN both ways or RST (default 10s)")
    void closedTimeout(final String text)
    {
        limits.timeout(FlowPhase.CLOSED, OptionValues.nanos(text, "--closed-timeout"));
    }

    @Option(names = "--emergency-timeouts", paramLabel = "D,D,D", order = HelpSections.FLOW_TABLE + 23,
        description = "opening, established and closed limits while the table is 95%% full, until it is below " +
            "85%% again (default 5s,2m,1s). Durations: 500ms, 30s, 5m, 1h, 1d. Idle time is packet time when " +
            "replaying")
    void emergencyTimeouts(final String text)
    {
        final String[] parts = text.split(",", -1);
        if (parts.length != 3)
        {
            throw new UsageException("--emergency-timeouts needs three durations, opening,established,closed");
        }
        for (final FlowPhase phase : FlowPhase.values())
        {
            limits.emergencyTimeout(phase, OptionValues.nanos(parts[phase.ordinal()], "--emergency-timeouts"));
        }
    }

    @Option(names = "--state-dir", paramLabel = "DIR", order = HelpSections.CHECKPOINTS, description = "restore " +
        "the connections checkpointed in DIR at start, checkpoint them there periodically and at shutdown (then " +
        "they are not written as records: a restart continues them). A --pcap replay then skips the frames the " +
        "checkpoints hold (counted), so it may restart on the same capture")
    void stateDir(final Path dir)
    {
        stateDir = dir;
    }

    @Option(names = "--checkpoint-interval", paramLabel = "D", order = HelpSections.CHECKPOINTS + 10,
        description = "wall-clock time between checkpoints (default 60s; needs --state-dir)")
    void checkpointInterval(final String text)
    {
        checkpointIntervalNanos = OptionValues.nanos(text, "--checkpoint-interval");
        checkpointIntervalGiven = true;
    }

    @Option(names = "--http-listen", paramLabel = "HOST:PORT", order = HelpSections.HTTP, description = "where to " +
        "serve (default 127.0.0.1:" + DEFAULT_HTTP_PORT + "; port 0 picks a free one, printed on stderr)")
    void httpListen(final String text)
    {
        httpListen = OptionValues.listenAddress(text, "--http-listen");
        httpListenGiven = true;
    }

    @Option(names = "--web-config", paramLabel = "FILE", order = HelpSections.HTTP + 20, description = "TLS and " +
        "basic auth, in the Prometheus exporters' web-config format (tls_server_config: cert_file, key_file; " +
        "basic_auth_users: user: bcrypt hash)")
    void webConfig(final Path file)
    {
        webConfigFile = file;
    }

    /** The flow table's bounds. */
    FlowLimits limits()
    {
        return limits.build();
    }

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

    /** Checks the options that depend on each other, then reads the web config (after the conflicts). */
    void validate()
    {
        if (output == null && (rotateBytes > 0 || rotateNanos > 0 || rotateAtExit))
        {
            throw new UsageException("--rotate-size, --rotate-interval and --rotate-at-exit need -o FILE");
        }
        if (stateDir == null && checkpointAtEnd)
        {
            throw new UsageException("--checkpoint-at-end needs --state-dir");
        }
        if (stateDir == null && checkpointIntervalGiven)
        {
            throw new UsageException("--checkpoint-interval needs --state-dir (there is nowhere to checkpoint)");
        }
        if (replaySpeedGiven && topspeedGiven)
        {
            throw new UsageException("--replay-speed and --topspeed contradict each other: give one");
        }
        if (noHttp && (httpListenGiven || webConfigFile != null))
        {
            throw new UsageException("--no-http contradicts " + (httpListenGiven ? "--http-listen" : "--web-config") +
                ": give one");
        }
        if (noHttp)
        {
            httpListen = null;
        }
        if (webConfigFile != null)
        {
            webConfig = loadWebConfig(webConfigFile); // after the conflicts: no file read for nothing
        }
        validateSources();
    }

    private void validateSources()
    {
        if (files.isEmpty() && mirrors.isEmpty() && !capturing)
        {
            throw new UsageException(
                "nothing to read: give --pcap FILE, --interface IF, --vxlan-listen or --geneve-listen");
        }
        if (capturing)
        {
            try
            {
                capture.build(); // checks the capture options now, as usage errors
            }
            catch (final IllegalArgumentException e)
            {
                throw new UsageException(e.getMessage());
            }
        }
        if (!files.isEmpty() && (!mirrors.isEmpty() || capturing))
        {
            throw new UsageException("--pcap replays files losslessly and live sources never wait: use one kind");
        }
        if (files.isEmpty() && (replaySpeedGiven || topspeedGiven))
        {
            throw new UsageException((replaySpeedGiven ? "--replay-speed" : "--topspeed") +
                " paces a file replay: it needs --pcap (live sources run at the traffic's own pace)");
        }
    }

    private static MirrorOptions mirror(final MirrorProtocol protocol, final String text, final String option)
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

    private static WebConfig loadWebConfig(final Path file)
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

    /** The checked options of a run command line, without defaults from the environment or a file. */
    static RunOptions parse(final String[] args)
    {
        final PrintStream nowhere = new PrintStream(OutputStream.nullOutputStream());
        final RunCommand command = new RunCommand(nowhere, nowhere);
        try
        {
            new CommandLine(command).setOverwrittenOptionsAllowed(true).parseArgs(args);
        }
        catch (final ParameterException e)
        {
            throw e.getCause() instanceof UsageException usage ? usage : new UsageException(e.getMessage());
        }
        command.options.validate();
        return command.options;
    }
}
