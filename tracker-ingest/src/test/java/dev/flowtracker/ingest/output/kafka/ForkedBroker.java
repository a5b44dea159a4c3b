package dev.flowtracker.ingest.output.kafka;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A single-node KRaft broker in its own JVM, from the same Maven jars as the tests (kafka.tools.StorageTool formats
 * its log directory, kafka.Kafka runs it), on a fixed port so that it can be killed and started again at the same
 * address with its data. Its output goes to a log file in its directory.
 */
public final class ForkedBroker implements AutoCloseable
{
    private static final long START_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(90);

    private final Path dir;
    private final int port;
    private final Path config;
    private Process process;

    /** Formats a broker's storage under {@code dir} for port {@code port} (a free one: {@link #freePort()}). */
    public ForkedBroker(final Path dir, final int port) throws IOException, InterruptedException
    {
        this(dir, port, "PLAINTEXT", Map.of());
    }

    /**
     * As above, its client listener speaking {@code protocol} (PLAINTEXT or SSL), with {@code extra} server
     * properties (an SSL listener's key and trust stores).
     */
    public ForkedBroker(final Path dir, final int port, final String protocol, final Map<String, String> extra)
        throws IOException, InterruptedException
    {
        this.dir = dir;
        this.port = port;
        this.config = dir.resolve("server.properties");
        Files.createDirectories(dir);
        final int controllerPort = freePort();
        final List<String> lines = new ArrayList<>(List.of(
            "process.roles=broker,controller",
            "node.id=1",
            "listeners=" + protocol + "://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort,
            "advertised.listeners=" + protocol + "://127.0.0.1:" + port,
            "controller.listener.names=CONTROLLER",
            "inter.broker.listener.name=" + protocol,
            "listener.security.protocol.map=" + protocol + ":" + protocol + ",CONTROLLER:PLAINTEXT",
            "controller.quorum.bootstrap.servers=127.0.0.1:" + controllerPort,
            "log.dirs=" + dir.resolve("data"),
            "num.partitions=3",
            "offsets.topic.replication.factor=1",
            "transaction.state.log.replication.factor=1",
            "transaction.state.log.min.isr=1",
            "share.coordinator.state.topic.replication.factor=1",
            "share.coordinator.state.topic.min.isr=1",
            "group.initial.rebalance.delay.ms=0"));
        extra.forEach((key, value) -> lines.add(key + "=" + value));
        Files.writeString(config, String.join("\n", lines) + "\n");
        final Process format = java("kafka.tools.StorageTool", "format", "--standalone", "-t",
            UUID.randomUUID().toString().substring(0, 22).replace("-", "A"), "-c", config.toString())
            .redirectOutput(dir.resolve("format.log").toFile()).redirectErrorStream(true).start();
        if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0)
        {
            format.destroyForcibly();
            throw new IOException("formatting the broker's storage failed: " +
                Files.readString(dir.resolve("format.log")));
        }
    }

    /** Starts the broker and waits until its port takes connections. */
    public void start() throws IOException, InterruptedException
    {
        process = java("kafka.Kafka", config.toString())
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("broker.log").toFile()))
            .redirectErrorStream(true).start();
        final long deadline = System.nanoTime() + START_TIMEOUT_NANOS;
        while (System.nanoTime() < deadline)
        {
            if (!process.isAlive())
            {
                throw new IOException("the broker exited: " + Files.readString(dir.resolve("broker.log")));
            }
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            }
            catch (final IOException e)
            {
                Thread.sleep(200);
            }
        }
        throw new IOException("the broker did not listen within 90 s");
    }

    /** Kills the broker at once (SIGKILL), as a crash would. */
    public void kill() throws InterruptedException
    {
        if (process != null)
        {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
            process = null;
        }
    }

    public String bootstrap()
    {
        return "127.0.0.1:" + port;
    }

    @Override
    public void close()
    {
        if (process != null)
        {
            process.destroyForcibly();
            process = null;
        }
    }

    public static int freePort() throws IOException
    {
        try (ServerSocket socket = new ServerSocket(0))
        {
            return socket.getLocalPort();
        }
    }

    private static ProcessBuilder java(final String main, final String... args)
    {
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx512m", "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), main));
        command.addAll(List.of(args));
        return new ProcessBuilder(command);
    }
}
