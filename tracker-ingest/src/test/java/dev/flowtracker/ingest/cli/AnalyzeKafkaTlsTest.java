package dev.flowtracker.ingest.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.ingest.output.kafka.Brokers;
import dev.flowtracker.ingest.output.kafka.ForkedBroker;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka sink over TLS, configured only through {@code --kafka-property}: a real broker (forked: the in-process
 * test kit speaks plain text only) whose listener has a certificate made here (keytool), the tracker trusting it,
 * every record on the topic; and the same tracker without the trust store refused by the handshake, every record
 * counted lost (so the first case really ran TLS).
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class AnalyzeKafkaTlsTest
{
    private static final String PASSWORD = "tracker-test";
    private static final Path SAMPLE = Path.of("../samples/sample.pcap");
    @TempDir
    static Path keys;
    private static ForkedBroker broker;
    private static Path trustStore;

    @BeforeAll
    static void startTlsBroker() throws Exception
    {
        final Path keyStore = keys.resolve("broker.p12");
        trustStore = keys.resolve("trust.p12");
        final Path certificate = keys.resolve("broker.pem");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2", "-dname",
            "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-keystore", keyStore.toString(),
            "-storetype", "PKCS12", "-storepass", PASSWORD, "-keypass", PASSWORD);
        keytool("-exportcert", "-alias", "broker", "-keystore", keyStore.toString(), "-storepass", PASSWORD, "-rfc",
            "-file", certificate.toString());
        keytool("-importcert", "-noprompt", "-alias", "broker", "-file", certificate.toString(), "-keystore",
            trustStore.toString(), "-storetype", "PKCS12", "-storepass", PASSWORD);
        broker = new ForkedBroker(keys.resolve("broker"), ForkedBroker.freePort(), "SSL", Map.of(
            "ssl.keystore.location", keyStore.toString(), "ssl.keystore.password", PASSWORD,
            "ssl.key.password", PASSWORD, "ssl.keystore.type", "PKCS12",
            "ssl.truststore.location", trustStore.toString(), "ssl.truststore.password", PASSWORD,
            "ssl.truststore.type", "PKCS12"));
        broker.start();
    }

    @AfterAll
    static void stopBroker()
    {
        if (broker != null)
        {
            broker.close();
        }
    }

    private static void keytool(final String... args) throws IOException, InterruptedException
    {
        final List<String> command = new ArrayList<>(List.of(
            Path.of(System.getProperty("java.home"), "bin", "keytool").toString()));
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS) && process.exitValue() == 0, "keytool: " + output);
    }

    private static Map<String, Object> clientTls()
    {
        return Map.of("security.protocol", "SSL", "ssl.truststore.location", trustStore.toString(),
            "ssl.truststore.password", PASSWORD, "ssl.truststore.type", "PKCS12");
    }

    private record Run(int exit, String err)
    {
    }

    private static Run analyze(final String... args)
    {
        final ByteArrayOutputStream err = new ByteArrayOutputStream();
        final int exit;
        try (PrintStream o = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8))
        {
            exit = TrackerCli.run(args, o, e);
        }
        return new Run(exit, err.toString(StandardCharsets.UTF_8));
    }

    @Test
    void shouldDeliverOverTlsWithTheTrustStoreGivenAsProperties(@TempDir final Path dir) throws IOException
    {
        final Path file = dir.resolve("records.jsonl");
        final Run run = analyze("analyze", "--no-progress", "-o", file.toString(), "--kafka-bootstrap",
            broker.bootstrap(), "--kafka-topic", "conn.tls", "--kafka-property", "security.protocol=SSL",
            "--kafka-property", "ssl.truststore.location=" + trustStore, "--kafka-property",
            "ssl.truststore.password=" + PASSWORD, "--kafka-property", "ssl.truststore.type=PKCS12",
            SAMPLE.toString());
        assertEquals(0, run.exit(), run.err());
        final List<String> lines = Files.readAllLines(file);
        final List<String> values = Brokers.readAll(broker.bootstrap(), "conn.tls", lines.size(),
            Duration.ofSeconds(20), clientTls()).stream()
            .map(m -> new String(m.value(), StandardCharsets.UTF_8)).sorted().toList();
        assertEquals(lines.stream().sorted().toList(), values);
    }

    @Test
    void shouldCountEveryRecordLostWhenTheBrokersCertificateIsNotTrusted()
    {
        final Run run = analyze("analyze", "--no-progress", "--kafka-bootstrap", broker.bootstrap(),
            "--kafka-topic", "conn.untrusted", "--kafka-property", "security.protocol=SSL", "--kafka-flush-timeout",
            "3s", SAMPLE.toString());
        assertEquals(ExitCodes.INPUT_ERROR, run.exit(), run.err());
        assertTrue(run.err().contains("error writing flow records (9 lost)"), run.err());
        // The cause is named either way the client reports it: a retriable error while it waits for metadata (the
        // warning), or the handshake failure refusing records (named in the loss line).
        assertTrue(run.err().contains("warning: cannot deliver") || run.err().contains("SSL handshake failed"),
            run.err());
    }
}
