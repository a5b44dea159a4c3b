package dev.flowtracker.ingest.http;

import at.favre.lib.crypto.bcrypt.BCrypt;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The HTTP server's web-config file: TLS and basic auth as Prometheus exporters configure them. */
class WebConfigTest
{
    private static final HttpApi HEALTH_ONLY = new HttpApi(null, () -> null, () -> true);

    @Test
    void shouldServeOverTlsAndAskForThePassword(@TempDir final Path dir) throws Exception
    {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "needs openssl to make a certificate");
        final Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", "tls.key", "-out", "tls.crt", "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1").directory(dir.toFile()).redirectErrorStream(true).start();
        openssl.getInputStream().readAllBytes();
        assertTrue(openssl.waitFor(60, TimeUnit.SECONDS) && openssl.exitValue() == 0, "openssl made a certificate");
        final String hash = BCrypt.withDefaults().hashToString(4, "s3cret".toCharArray());
        final Path config = dir.resolve("web.yml");
        Files.writeString(config, """
            tls_server_config:
              cert_file: tls.crt
              key_file: tls.key
            basic_auth_users:
              prometheus: '%s'
            """.formatted(hash));

        final WebConfig web = WebConfig.load(config);
        assertTrue(web.tls() && web.requiresAuthentication());
        try (HttpServer server = HttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            HEALTH_ONLY, web))
        {
            final HttpClient client = HttpClient.newBuilder().sslContext(trusting(dir.resolve("tls.crt"))).build();
            final URI health = URI.create("https://127.0.0.1:" + server.address().getPort() + "/health");
            final HttpResponse<String> anonymous = client.send(HttpRequest.newBuilder(health).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(401, anonymous.statusCode());
            assertTrue(anonymous.headers().firstValue("www-authenticate").orElse("").startsWith("Basic"));
            assertEquals(401, client.send(HttpRequest.newBuilder(health).header("Authorization",
                basic("prometheus", "wrong")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(401, client.send(HttpRequest.newBuilder(health).header("Authorization",
                basic("nobody", "s3cret")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            for (int i = 0; i < 2; i++) // the second time from the verified cache
            {
                assertEquals(200, client.send(HttpRequest.newBuilder(health).header("Authorization",
                    basic("prometheus", "s3cret")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            }

            // Plain HTTP on the TLS port: told so, as Go's servers do (before: an empty reply).
            final HttpResponse<String> plain = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.address().getPort() + "/health")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(400, plain.statusCode());
            assertEquals("Client sent an HTTP request to an HTTPS server.\n", plain.body());
            // Neither plain text nor TLS: closed without a word.
            try (Socket garbage = new Socket(InetAddress.getLoopbackAddress(), server.address().getPort()))
            {
                garbage.setSoTimeout(5000);
                garbage.getOutputStream().write(new byte[] {1, 2, 3, 4, 5, 6});
                assertEquals(-1, garbage.getInputStream().read());
            }
        }
    }

    @Test
    void shouldRejectBadFilesWithAClearMessage(@TempDir final Path dir) throws IOException
    {
        final Map<String, String> cases = Map.of(
            "basic_auth_users:\n  alice: plaintext\n", "not a bcrypt hash",
            "basic_auth_user:\n  alice: x\n", "unknown key 'basic_auth_user'",
            "tls_server_config:\n  cert_file: missing.crt\n  key_file: missing.key\n", "cannot read it",
            "tls_server_config:\n  key_file: x.key\n", "needs cert_file",
            "basic_auth_users: [\n", "not valid YAML");
        for (final Map.Entry<String, String> c : cases.entrySet())
        {
            final Path file = dir.resolve("web.yml");
            Files.writeString(file, c.getKey());
            final IOException e = assertThrows(IOException.class, () -> WebConfig.load(file), c.getKey());
            assertTrue(e.getMessage().contains(c.getValue()), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
        assertTrue(assertThrows(IOException.class, () -> WebConfig.load(dir.resolve("none.yml"))).getMessage()
            .contains("no such file"));
        Files.writeString(dir.resolve("empty.yml"), "");
        assertFalse(WebConfig.load(dir.resolve("empty.yml")).tls());
    }

    private static String basic(final String user, final String password)
    {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    private static SSLContext trusting(final Path certificate) throws Exception
    {
        final KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        try (InputStream in = Files.newInputStream(certificate))
        {
            trust.setCertificateEntry("tracker", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        final TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(trust);
        final SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, factory.getTrustManagers(), null);
        return context;
    }
}
