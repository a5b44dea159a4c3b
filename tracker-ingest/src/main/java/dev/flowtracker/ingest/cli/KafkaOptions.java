package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.output.RecordFields;
import dev.flowtracker.ingest.output.kafka.KafkaRecordSink;
import dev.flowtracker.ingest.output.kafka.KafkaSinkSettings;
import dev.flowtracker.ingest.output.kafka.KafkaSinkSettings.Key;
import org.apache.kafka.common.KafkaException;

import java.io.IOException;
import java.io.PrintStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import picocli.CommandLine.Option;

/**
 * The Kafka sink's options (a picocli mixin of {@code analyze} and {@code run}): with {@code --kafka-bootstrap} the
 * records also go to a topic (only there, unless {@code -o} names a file). Filled by picocli on the command's
 * thread before the command runs.
 */
final class KafkaOptions
{
    static final long DEFAULT_BUFFER_BYTES = 64L << 20;
    static final long DEFAULT_FLUSH_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);

    String bootstrap;
    String topic = KafkaSinkSettings.DEFAULT_TOPIC;
    Key key = Key.COMMUNITY_ID;
    long flushTimeoutNanos = DEFAULT_FLUSH_TIMEOUT_NANOS;
    long bufferBytes = DEFAULT_BUFFER_BYTES;

    @Option(names = "--kafka-bootstrap", paramLabel = "HOST:PORT[,HOST:PORT...]", order = HelpSections.KAFKA,
        description = "send every record to Kafka too (the message value is the JSON line; -o still writes a " +
            "file when given, standard output is left alone)")
    void bootstrap(final String text)
    {
        if (text.isBlank() || !text.matches("[^,\\s]+:\\d+(,[^,\\s]+:\\d+)*"))
        {
            throw new UsageException("--kafka-bootstrap takes HOST:PORT[,HOST:PORT...], got '" + text + "'");
        }
        bootstrap = text;
    }

    @Option(names = "--kafka-topic", paramLabel = "NAME", order = HelpSections.KAFKA + 10,
        description = "the record topic (default " + KafkaSinkSettings.DEFAULT_TOPIC + ")")
    void topic(final String text)
    {
        if (!text.matches("[A-Za-z0-9._-]{1,249}"))
        {
            throw new UsageException("--kafka-topic takes 1 to 249 letters, digits, '.', '_' or '-', got '" + text +
                "'");
        }
        topic = text;
    }

    @Option(names = "--kafka-key", paramLabel = "K", order = HelpSections.KAFKA + 20, completionCandidates =
        KeyLabels.class, description = "the message key: community_id (default: one connection's records " +
        "together, whichever tap saw it), tap, or none")
    void key(final String text)
    {
        key = Key.of(text);
        if (key == null)
        {
            throw new UsageException("--kafka-key is community_id, tap or none, got '" + text + "'");
        }
    }

    @Option(names = "--kafka-property", paramLabel = "KEY=VALUE", order = HelpSections.KAFKA + 30, description =
        "a Kafka producer property, passed as it is (repeatable; TLS, SASL, acks, compression...); over " +
        "--kafka-properties and the defaults (acks=all, idempotence, lz4, linger.ms=10, batch.size=256 KiB)")
    List<String> properties = new ArrayList<>();

    @Option(names = "--kafka-properties", paramLabel = "FILE", order = HelpSections.KAFKA + 40,
        description = "Kafka producer properties from FILE (the client's own file format)")
    Path propertiesFile;

    @Option(names = "--kafka-flush-timeout", paramLabel = "D", order = HelpSections.KAFKA + 50, description =
        "at exit, how long to wait for the broker to acknowledge what it has not yet (default 30s); what it has " +
        "not then is counted as lost and the exit status is 1")
    void flushTimeout(final String text)
    {
        flushTimeoutNanos = Durations.parseNanos(text, "--kafka-flush-timeout");
    }

    @Option(names = "--kafka-buffer", paramLabel = "SIZE", order = HelpSections.KAFKA + 60, description =
        "records held until the broker acknowledges them (default 64M); while it is unreachable, records beyond " +
        "this are dropped and counted")
    void buffer(final String text)
    {
        bufferBytes = OptionValues.bytes(text, "--kafka-buffer");
    }

    /** Whether records go to Kafka. */
    boolean enabled()
    {
        return bootstrap != null;
    }

    /**
     * Starts the sink, or returns null without {@code --kafka-bootstrap}.
     *
     * @throws UsageException when the properties file cannot be read or the client refuses the properties.
     */
    KafkaRecordSink open(final RecordFields fields, final PrintStream err)
    {
        if (!enabled())
        {
            return null;
        }
        for (final String property : properties)
        {
            if (property.indexOf('=') < 1)
            {
                throw new UsageException("--kafka-property takes KEY=VALUE, got '" + property + "'");
            }
        }
        final KafkaSinkSettings settings = new KafkaSinkSettings(bootstrap, topic, key, fields.tapName(),
            bufferBytes, flushTimeoutNanos, producerProperties(fields));
        try
        {
            return new KafkaRecordSink(settings, err);
        }
        catch (final KafkaException e)
        {
            final Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new UsageException("the Kafka producer refuses its properties: " +
                String.valueOf(cause.getMessage()).replace('\n', ' '));
        }
    }

    /** The sink's defaults, then the file's properties, then each --kafka-property. */
    Map<String, Object> producerProperties(final RecordFields fields)
    {
        final Map<String, Object> all = new LinkedHashMap<>();
        all.put("acks", "all");
        all.put("enable.idempotence", "true");
        all.put("compression.type", "lz4");
        all.put("linger.ms", "10");
        all.put("batch.size", String.valueOf(256 << 10));
        // send() waits this long for metadata on the sender thread only: a missing broker costs one probe a second.
        all.put("max.block.ms", "1000");
        all.put("request.timeout.ms", "15000");
        // A record the client gives up on is sent again by the sink: a short timeout only bounds a checkpoint's wait.
        all.put("delivery.timeout.ms", "30000");
        // The sink's buffer bound comes first: the client never blocks the sender thread on its own memory.
        all.put("buffer.memory", String.valueOf(Math.max(32L << 20, bufferBytes + (8L << 20))));
        all.put("client.id", "flowtracker-" + (fields.tapName() == null ? "tracker" : fields.tapName()));
        if (propertiesFile != null)
        {
            final Properties file = new Properties();
            try (Reader reader = Files.newBufferedReader(propertiesFile, StandardCharsets.UTF_8))
            {
                file.load(reader);
            }
            catch (final IOException e)
            {
                throw new UsageException("--kafka-properties: cannot read " + propertiesFile + ": " +
                    Errors.describe(e));
            }
            file.forEach((name, value) -> all.put(name.toString(), value.toString()));
        }
        for (final String property : properties)
        {
            final int equals = property.indexOf('=');
            all.put(property.substring(0, equals).trim(), property.substring(equals + 1).trim());
        }
        all.put("bootstrap.servers", bootstrap);
        return all;
    }

    /** The labels --kafka-key takes, for the shell completion. */
    static final class KeyLabels implements Iterable<String>
    {
        @Override
        public Iterator<String> iterator()
        {
            return List.of("community_id", "tap", "none").iterator();
        }
    }
}
