package dev.flowtracker.ingest.http;

import at.favre.lib.crypto.bcrypt.BCrypt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live page at {@code /}: one self-contained HTML document (nothing loaded from elsewhere), which asks the
 * password as every other path does. {@link LivePageBrowserTest} renders it in a browser.
 */
class LivePageTest
{
    private static final HttpApi NO_PIPELINE = new HttpApi(null, () -> null, () -> true);
    /** A URL of another origin (or protocol-relative) anywhere in the page: a script, a style sheet, a font. */
    private static final Pattern ELSEWHERE = Pattern.compile("(?i)(https?:)?//[a-z0-9.-]+\\.[a-z]{2,}|@import|<link");

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void shouldServeOneSelfContainedPageThatReadsFlowsAndMetrics() throws Exception
    {
        try (HttpServer server = HttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            NO_PIPELINE, WebConfig.NONE))
        {
            final HttpResponse<String> page = client.send(HttpRequest.newBuilder(uri(server, "/")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertEquals("text/html; charset=utf-8", page.headers().firstValue("content-type").orElseThrow());
            final String html = page.body();
            assertTrue(html.startsWith("<!DOCTYPE html>") && html.contains("<script>") && html.contains("<style>"));
            assertFalse(ELSEWHERE.matcher(html).find(), "nothing from another origin");
            assertFalse(html.contains(" src="), "no script or image to fetch");
            assertTrue(html.contains("fetch(\"/flows?\"") && html.contains("fetch(\"/metrics\""), "same-origin reads");
            for (final String sort : new String[] {"retransmission_ratio", "rtt_max", "rtt", "bytes", "duration",
                "recent"})
            {
                assertTrue(html.contains("<option value=\"" + sort + "\">"), sort);
            }
            for (final String filter : FlowParameters.NAMES)
            {
                assertTrue(html.contains("name=\"" + filter + "\""), "a form field for " + filter);
            }
            // Anything in the query string is the page's business (its script reads it), not refused.
            assertEquals(200, client.send(HttpRequest.newBuilder(uri(server, "/?sort=rtt_max&port=443")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode());
            assertEquals(html, client.send(HttpRequest.newBuilder(uri(server, "/?sort=rtt_max")).build(),
                HttpResponse.BodyHandlers.ofString()).body());
        }
    }

    @Test
    void shouldAskForThePasswordForThePageAsForEveryPath(@TempDir final Path dir) throws Exception
    {
        final Path config = dir.resolve("web.yml");
        Files.writeString(config, "basic_auth_users:\n  viewer: '" +
            BCrypt.withDefaults().hashToString(4, "s3cret".toCharArray()) + "'\n");
        try (HttpServer server = HttpServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            NO_PIPELINE, WebConfig.load(config)))
        {
            for (final String path : new String[] {"/", "/flows", "/flows?ended=true", "/flows/Cabc"})
            {
                final HttpResponse<String> anonymous = client.send(HttpRequest.newBuilder(uri(server, path)).build(),
                    HttpResponse.BodyHandlers.ofString());
                assertEquals(401, anonymous.statusCode(), path);
                assertTrue(anonymous.headers().firstValue("www-authenticate").orElse("").startsWith("Basic"), path);
                assertFalse(anonymous.body().contains("<script>"), path);
                assertEquals(401, client.send(HttpRequest.newBuilder(uri(server, path))
                    .header("Authorization", basic("viewer", "wrong")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode(), path);
            }
            final HttpResponse<String> page = client.send(HttpRequest.newBuilder(uri(server, "/"))
                .header("Authorization", basic("viewer", "s3cret")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<script>"));
        }
    }

    private static URI uri(final HttpServer server, final String path)
    {
        return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
    }

    private static String basic(final String user, final String password)
    {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }
}
