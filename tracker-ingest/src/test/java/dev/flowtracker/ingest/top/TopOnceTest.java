package dev.flowtracker.ingest.top;

import at.favre.lib.crypto.bcrypt.BCrypt;
import com.fasterxml.jackson.databind.JsonNode;
import dev.flowtracker.ingest.http.QueryCapture;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code tracker top --once} against a real {@code tracker run} on loopback: the table is {@code /flows}' answer in its
 * order, filtered and fitted as asked; bad options and a refused query are one line and exit 2, an unreachable
 * tracker one line and exit 1.
 */
class TopOnceTest
{
    @Test
    void shouldPrintTheLiveConnectionsAsTheTrackerRanksThem(@TempDir final Path dir) throws Exception
    {
        try (TopTracker tracker = TopTracker.start(dir))
        {
            final JsonNode live = tracker.awaitFlows("sort=retransmission_ratio", 4);
            assertEquals(QueryCapture.LOSSY_PORT, live.get(0).get("id.orig_p").asInt());

            final TopTracker.Result all = TopTracker.top(dir, "--once", "--url", tracker.url());
            assertEquals(0, all.exit(), all.err());
            assertEquals("", all.err());
            final List<String> lines = all.lines();
            assertTrue(lines.get(0).matches("UID +ORIG +RESP +STATE +HISTORY +DURATION +BYTES +PKTS +RETX% +" +
                "RTT_MAX +(END +)?TAP"), all.out());
            assertTrue(lines.get(1).startsWith(live.get(0).get("uid").asText() + "  10.0.0.2:40002  "), all.out());
            assertTrue(lines.get(1).matches(".*  15\\.38  .*  " + TopTracker.TAP), "the ratio in %: " +
                lines.get(1));
            assertTrue(lines.size() >= 5, all.out());

            final TopTracker.Result slow = TopTracker.top(dir, "--once", "--url", tracker.url() + "/", "--filter",
                "port=" + QueryCapture.SLOW_PORT, "--sort", "rtt_max");
            assertEquals(0, slow.exit(), slow.err());
            assertEquals(2, slow.lines().size(), slow.out());
            assertTrue(slow.lines().get(1).contains("10.1.0.3:40003  10.0.0.9:8080"), slow.out());
            assertTrue(slow.lines().get(1).contains("200ms"), "the slow path's RTT: " + slow.out());

            final TopTracker.Result narrow = TopTracker.top(dir, "--once", "--url", tracker.url(), "--width", "60",
                "--limit", "3");
            assertEquals(0, narrow.exit(), narrow.err());
            assertEquals(4, narrow.lines().size(), narrow.out());
            for (final String line : narrow.lines())
            {
                assertTrue(line.length() <= 60, line);
            }
            assertTrue(narrow.lines().get(0).matches("UID +ORIG +RESP +RETX%"), narrow.out());

            final TopTracker.Result refused = TopTracker.top(dir, "--once", "--url", tracker.url(), "--filter",
                "port=99999");
            assertEquals(2, refused.exit(), refused.err());
            assertEquals("", refused.out());
            assertEquals(1, refused.err().lines().count(), refused.err());
            assertTrue(refused.err().startsWith("tracker top: " + tracker.url() + ": the tracker answered 400: ") &&
                refused.err().strip().endsWith("(parameter port)"), refused.err());
        }
    }

    @Test
    void shouldAskWithBasicAuthWhereTheTrackerWantsIt(@TempDir final Path dir) throws Exception
    {
        final Path webConfig = Files.writeString(dir.resolve("web.yml"), "basic_auth_users:\n  ops: " +
            BCrypt.withDefaults().hashToString(4, "s3cret".toCharArray()) + "\n");
        final Path password = Files.writeString(dir.resolve("password"), "s3cret\n");
        try (TopTracker tracker = TopTracker.start(dir, "--web-config", webConfig.toString()))
        {
            final TopTracker.Result without = TopTracker.top(dir, "--once", "--url", tracker.url());
            assertEquals(1, without.exit(), without.err());
            assertTrue(without.err().contains("unauthorized (401)"), without.err());

            final long deadline = System.nanoTime() + 30_000_000_000L;
            TopTracker.Result with;
            do
            {
                with = TopTracker.top(dir, "--once", "--url", tracker.url(), "--user", "ops", "--password-file",
                    password.toString());
                assertEquals(0, with.exit(), with.err());
            }
            while (with.lines().size() < 2 && System.nanoTime() < deadline);
            assertTrue(with.lines().get(1).contains(TopTracker.TAP), with.out());
        }
    }

    @Test
    void shouldTrustTheCertificateGivenForAnHttpsTracker(@TempDir final Path dir) throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs openssl to make a certificate");
        final Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", "tls.key", "-out", "tls.crt", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1").directory(dir.toFile()).redirectErrorStream(true).start();
        openssl.getInputStream().readAllBytes();
        assertTrue(openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0, "openssl made a certificate");
        final Path webConfig = Files.writeString(dir.resolve("web.yml"),
            "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n");
        try (TopTracker tracker = TopTracker.start(dir, "--web-config", webConfig.toString()))
        {
            assertTrue(tracker.url().startsWith("https://"), tracker.url());
            final TopTracker.Result untrusted = TopTracker.top(dir, "--once", "--url", tracker.url());
            assertEquals(1, untrusted.exit(), untrusted.err());
            assertEquals(1, untrusted.err().lines().count(), untrusted.err());
            assertTrue(untrusted.err().contains("TLS failed: ") && untrusted.err().contains("--cacert"),
                untrusted.err());

            final TopTracker.Result trusted = TopTracker.top(dir, "--once", "--url", tracker.url(), "--cacert",
                dir.resolve("tls.crt").toString());
            assertEquals(0, trusted.exit(), trusted.err());
            assertTrue(trusted.out().startsWith("UID "), trusted.out());
        }
    }

    @Test
    void shouldSayInOneLineThatTheTrackerIsUnreachable(@TempDir final Path dir) throws Exception
    {
        final int port;
        try (ServerSocket socket = new ServerSocket(0))
        {
            port = socket.getLocalPort(); // closed again: nothing listens there
        }
        final TopTracker.Result result = TopTracker.top(dir, "--once", "--url", "http://127.0.0.1:" + port);
        assertEquals(1, result.exit(), result.err());
        assertEquals("", result.out());
        assertEquals("tracker top: http://127.0.0.1:" + port + ": unreachable: connection refused\n", result.err());
    }

    @Test
    void shouldRefuseBadOptionsInOneLine(@TempDir final Path dir) throws Exception
    {
        for (final List<String> args : List.of(
            List.of("--sort", "size"),
            List.of("--order", "up"),
            List.of("--filter", "prot=443"),
            List.of("--filter", "port"),
            List.of("--interval", "0s"),
            List.of("--interval", "soon"),
            List.of("--url", "ftp://x"),
            List.of("--url", "http://127.0.0.1:1/flows"),
            List.of("--user", "ops"),
            List.of("--limit", "5"),
            List.of("--once", "--limit", "0"),
            List.of("--cacert", "x.pem"),
            List.of("--bogus")))
        {
            final TopTracker.Result result = TopTracker.top(dir, args.toArray(String[]::new));
            assertEquals(2, result.exit(), args + ": " + result.err());
            assertEquals(1, result.err().lines().count(), args + ": " + result.err());
            assertTrue(result.err().startsWith("tracker top: ") && result.err().strip().endsWith(
                "(try 'tracker top --help')"), args + ": " + result.err());
            assertEquals("", result.out());
        }
    }
}
