package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.aggregate.AggregateApp;
import dev.flowtracker.ingest.aggregate.AggregateCounters;
import dev.flowtracker.ingest.aggregate.AggregateTopology;
import dev.flowtracker.ingest.aggregate.MalformedReason;
import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.runtime.StopSignals;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code tracker aggregate}: the fleet aggregation, a Kafka Streams application over the record topic (the work is
 * in {@code dev.flowtracker.ingest.aggregate}; this is its command line). Runs on the calling thread until SIGTERM
 * or SIGINT (an orderly close: commit, leave the group, close the stores), or until the application fails.
 */
@Command(
    name = AggregateCommand.NAME,
    synopsisHeading = "usage: ",
    customSynopsis = {
        "tracker aggregate --kafka-bootstrap HOST:PORT[,HOST:PORT...] [--input-topic T] [--rollup-topic T]",
        "                  [--dedup-topic T] [--application-id ID] [--kafka-property K=V ...] [--kafka-properties F]",
        "                  [--state-dir DIR] [--metrics-listen HOST:PORT] [--dedup-window D] [--rollup-grace D]",
        "                  [--threads N]"},
    descriptionHeading = "%n",
    description = {
        "aggregate the record topic of a fleet of taps (Kafka Streams)",
        "",
        "Reads the flow records every tap's tracker writes to --input-topic and writes (a) per-minute rollups per " +
            "(tap, server address, server port) to --rollup-topic, keyed tap|addr|port|minute: connections, the " +
            "conn_state and end_reason mix, bytes, packets, every analysis and security counter, handshake RTT " +
            "count/sum/max, one final row per minute of event time (the record's ts + duration) once the minute " +
            "and --rollup-grace have passed; (b) the records de-duplicated across taps to --dedup-topic, keyed by " +
            "community_id: one record per connection with \"taps\":[...] listing every tap that saw it, written " +
            "when --dedup-window has passed since its first sighting. Malformed records are counted and skipped.",
        "",
        "Scale-out: start more instances with the same --application-id (and --kafka-bootstrap); Kafka Streams " +
            "shares the input partitions among them and moves state with the partitions. See docs/aggregate.md."},
    optionListHeading = "%noptions:%n",
    mixinStandardHelpOptions = true,
    versionProvider = TrackerVersion.class,
    footer = {"", "exit codes: 0 stopped; 1 the application failed or cannot serve metrics; 2 usage error; " +
        "143/130 after SIGTERM/SIGINT"})
final class AggregateCommand implements Callable<Integer>
{
    static final String NAME = "aggregate";
    /** How long after the start a still-joining application is worth one warning line. */
    private static final Duration NOT_RUNNING_WARNING = Duration.ofSeconds(60);

    private final PrintStream out;
    private final PrintStream err;
    private String bootstrap;
    private String inputTopic = AggregateTopology.Settings.DEFAULT_INPUT;
    private String rollupTopic = AggregateTopology.Settings.DEFAULT_ROLLUP;
    private String dedupTopic = AggregateTopology.Settings.DEFAULT_DEDUP;
    private String applicationId = "tracker-aggregate";
    private Duration dedupWindow = AggregateTopology.Settings.DEFAULT_DEDUP_WINDOW;
    private Duration grace = AggregateTopology.Settings.DEFAULT_GRACE;
    private InetSocketAddress metricsListen;
    private int threads = 1;

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE", order = 60, description = "a Kafka Streams (or " +
        "its clients') property, passed as it is (repeatable; TLS, SASL, processing.guarantee...); over " +
        "--kafka-properties and the defaults (commit.interval.ms=1000)")
    List<String> properties = new ArrayList<>();

    @Option(names = "--kafka-properties", paramLabel = "FILE", order = 70,
        description = "Kafka Streams properties from FILE (the client's own file format)")
    Path propertiesFile;

    @Option(names = "--state-dir", paramLabel = "DIR", order = 80, description = "where the local state stores " +
        "live (default Kafka Streams': the temp directory's kafka-streams/); they are rebuilt from their " +
        "changelog topics when lost")
    Path stateDir;

    AggregateCommand(final PrintStream out, final PrintStream err)
    {
        this.out = out;
        this.err = err;
    }

    @Option(names = "--kafka-bootstrap", paramLabel = "HOST:PORT[,HOST:PORT...]", order = 10,
        description = "the Kafka cluster (required)")
    void bootstrap(final String text)
    {
        if (text.isBlank() || !text.matches("[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*"))
        {
            throw new UsageException("--kafka-bootstrap takes HOST:PORT[,HOST:PORT...], got '" + text + "'");
        }
        bootstrap = text;
    }

    @Option(names = "--input-topic", paramLabel = "NAME", order = 20,
        description = "the record topic the trackers write (default " + AggregateTopology.Settings.DEFAULT_INPUT + ")")
    void inputTopic(final String text)
    {
        inputTopic = topic(text, "--input-topic");
    }

    @Option(names = "--rollup-topic", paramLabel = "NAME", order = 21,
        description = "the rollup topic (default " + AggregateTopology.Settings.DEFAULT_ROLLUP + ")")
    void rollupTopic(final String text)
    {
        rollupTopic = topic(text, "--rollup-topic");
    }

    @Option(names = "--dedup-topic", paramLabel = "NAME", order = 22,
        description = "the de-duplicated record topic (default " + AggregateTopology.Settings.DEFAULT_DEDUP + ")")
    void dedupTopic(final String text)
    {
        dedupTopic = topic(text, "--dedup-topic");
    }

    @Option(names = "--application-id", paramLabel = "ID", order = 30, description = "the Kafka Streams " +
        "application id (default tracker-aggregate): instances with the same id share the work; it prefixes the " +
        "consumer group, internal topics and state")
    void applicationId(final String text)
    {
        applicationId = topic(text, "--application-id");
    }

    @Option(names = "--dedup-window", paramLabel = "D", order = 40, description = "how long after a " +
        "connection's first sighting (event time) other taps' sightings are merged into it; its record is " +
        "written then (default 5m)")
    void dedupWindow(final String text)
    {
        dedupWindow = Duration.ofNanos(Durations.parseNanos(text, "--dedup-window"));
    }

    @Option(names = "--rollup-grace", paramLabel = "D", order = 41, description = "how long after a minute " +
        "ends (event time) its late records are still counted; its row is written then (default 30s)")
    void grace(final String text)
    {
        grace = Duration.ofNanos(Durations.parseNanos(text, "--rollup-grace"));
    }

    @Option(names = "--metrics-listen", paramLabel = "HOST:PORT", order = 50,
        description = "serve Prometheus metrics on http://HOST:PORT/metrics (default: none)")
    void metricsListen(final String text)
    {
        metricsListen = OptionValues.listenAddress(text, "--metrics-listen");
    }

    @Option(names = "--threads", paramLabel = "N", order = 51,
        description = "stream threads of this instance (default 1; each runs some of the tasks)")
    void threads(final String text)
    {
        threads = OptionValues.positiveInt(text, "--threads", 256, "at most 256");
    }

    /** The topology's settings from the options. */
    AggregateTopology.Settings settings()
    {
        return new AggregateTopology.Settings(inputTopic, rollupTopic, dedupTopic, grace, dedupWindow);
    }

    /** The metrics address, or null. */
    InetSocketAddress metricsAddress()
    {
        return metricsListen;
    }

    /** The defaults, then the file's properties, then each --kafka-property, then the options that name things. */
    Properties streamsConfig()
    {
        if (bootstrap == null)
        {
            throw new UsageException("give --kafka-bootstrap HOST:PORT");
        }
        final Properties all = new Properties();
        // Rows and records reach their topics within a second of their window closing (the store cache's flush).
        all.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, "1000");
        all.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, String.valueOf(threads));
        if (propertiesFile != null)
        {
            try (Reader reader = Files.newBufferedReader(propertiesFile, StandardCharsets.UTF_8))
            {
                all.load(reader);
            }
            catch (final IOException e)
            {
                throw new UsageException("--kafka-properties: cannot read " + propertiesFile + ": " +
                    Errors.describe(e));
            }
        }
        for (final String property : properties)
        {
            final int equals = property.indexOf('=');
            if (equals < 1)
            {
                throw new UsageException("--kafka-property takes KEY=VALUE, got '" + property + "'");
            }
            all.put(property.substring(0, equals).trim(), property.substring(equals + 1).trim());
        }
        if (stateDir != null)
        {
            all.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
        }
        all.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        all.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return all;
    }

    /**
     * The application, built from the options and not started.
     *
     * @throws UsageException when the options or Kafka Streams' configuration are refused.
     */
    AggregateApp open()
    {
        final Properties config = streamsConfig();
        try
        {
            return new AggregateApp(settings(), config, err);
        }
        catch (final KafkaException e) // ConfigException among them
        {
            throw new UsageException("Kafka Streams refuses its configuration: " +
                String.valueOf(e.getMessage()).replace('\n', ' '));
        }
    }

    @Override
    public Integer call() throws InterruptedException
    {
        final AggregateApp app = open();
        final CountDownLatch closed = new CountDownLatch(1);
        final StopSignals signals = StopSignals.install(NAME, app::stop, err);
        final Thread hook = signals.installed() ? null : TrackerThreads.newThread("shutdown", Kind.USER, () ->
        {
            app.stop();
            try
            {
                closed.await();
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        });
        if (hook != null)
        {
            Runtime.getRuntime().addShutdownHook(hook); // the JVM refused the handlers: stop in its shutdown instead
        }
        try
        {
            try
            {
                app.start(metricsListen);
            }
            catch (final IOException e)
            {
                err.println("tracker aggregate: error: " + e.getMessage());
                return ExitCodes.INPUT_ERROR;
            }
            err.println("tracker aggregate: " + applicationId + " reading " + inputTopic + " at " + bootstrap +
                "; rollups to " + rollupTopic + ", de-duplicated records to " + dedupTopic +
                (app.metricsAddress() == null ? "" : "; metrics on http://" +
                    app.metricsAddress().getHostString() + ":" + app.metricsAddress().getPort() + "/metrics"));
            if (!app.await(NOT_RUNNING_WARNING) && app.state() != KafkaStreams.State.RUNNING)
            {
                // Kafka's clients retry an unreachable broker quietly: say so once, then keep waiting.
                err.println("tracker aggregate: warning: not running after " + NOT_RUNNING_WARNING.toSeconds() +
                    " s (state " + app.state() + "): is the broker at " + bootstrap + " reachable?");
            }
            while (!app.await(Duration.ofHours(1)))
            {
                // until a stop signal or a failure
            }
            return signals.exitStatus(app.failed() ? ExitCodes.INPUT_ERROR : ExitCodes.OK);
        }
        finally
        {
            app.close();
            summary(app.counters());
            signals.close();
            closed.countDown();
            out.flush();
        }
    }

    private void summary(final AggregateCounters counters)
    {
        long malformed = 0;
        for (final MalformedReason reason : MalformedReason.values())
        {
            malformed += counters.malformed(reason);
        }
        err.printf(Locale.ROOT, "tracker aggregate: stopped: %,d records read (%,d malformed, skipped), %,d rollup " +
            "rows and %,d de-duplicated records written, %,d duplicate sightings merged%n", counters.read(), malformed,
            counters.rollupsWritten(), counters.dedupWritten(), counters.duplicates());
    }

    private static String topic(final String text, final String option)
    {
        if (!text.matches("[A-Za-z0-9._-]{1,249}"))
        {
            throw new UsageException(option + " takes 1 to 249 letters, digits, '.', '_' or '-', got '" + text + "'");
        }
        return text;
    }
}
