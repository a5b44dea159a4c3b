package dev.flowtracker.ingest.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.cli.TrackerCli;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The live page in a real browser: headless Chromium loads {@code /} from a running {@code tracker run} (a paced
 * replay of {@link QueryCapture}, so its connections are live), runs the page's script, and the rendered rows are
 * the connections {@code /flows} answers, in its order, filtered by the page's query string, each linking to its
 * record. A screenshot is kept in {@code target/live-page/}. Skipped, saying so, where Chromium is not installed
 * (CI installs it: .ci/run).
 */
class LivePageBrowserTest
{
    private static final Pattern SERVING = Pattern.compile("tracker run: serving HTTP on http://(\\S+?):(\\d+)");
    private static final Pattern ROW = Pattern.compile("<tr data-uid=\"(C[0-9A-Za-z]+)\"[^>]*>(.*?)</tr>");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path ARTIFACTS = Path.of("target", "live-page");

    private final HttpClient client = HttpClient.newHttpClient();

    @Test
    void shouldRenderTheWorstLiveConnectionsAndApplyTheFiltersInABrowser(@TempDir final Path dir) throws Exception
    {
        final String chromium = chromium();
        Assumptions.assumeTrue(chromium != null, "chromium is not installed, so the live page was not rendered in a " +
            "browser: apt-get install chromium (.ci/run installs it in CI)");
        final Path capture = QueryCapture.write(dir.resolve("query.pcap"), 120);
        final Path stderr = dir.resolve("stderr.txt");
        final Process tracker = new ProcessBuilder(
            ProcessHandle.current().info().command().orElseThrow(), "-Xmx256m", "-cp",
            System.getProperty("java.class.path"), TrackerCli.class.getName(), "run", "--pcap", capture.toString(),
            "--replay-speed", "1", "--workers", "2", "--max-flows", "10000", "--tap-name", "browser-tap",
            "--http-listen", "127.0.0.1:0", "-o", dir.resolve("records.jsonl").toString())
            .redirectError(stderr.toFile()).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try
        {
            final String base = awaitServing(tracker, stderr);
            // The four connections of the first second are live (the unanswered SYN may have ended by now).
            final JsonNode live = awaitFlows(base, "sort=retransmission_ratio", 4);
            final List<String> expected = uids(awaitFlows(base, "ended=true&limit=1000", 0));
            expected.addAll(0, uids(live)); // the live ones first; some may have ended by the time the page asks
            assertEquals(QueryCapture.LOSSY_PORT, live.get(0).get("id.orig_p").asInt(), "the worst first");

            final String page = render(chromium, dir, base + "/");
            final List<String> rows = rows(page);
            // The replay goes on while the browser renders: connections that began since are /flows' answer too.
            expected.addAll(uids(awaitFlows(base, "limit=1000", 0)));
            // The two that retransmitted lead, in /flows' order; the rest (ratio 0, in any order) follow.
            assertEquals(expected.subList(0, 2), rows.subList(0, 2), "the page's rows are /flows' answer:\n" + page);
            assertTrue(rows.size() >= 3 && expected.containsAll(rows.subList(0, 3)), rows + " of " + expected);
            assertTrue(page.contains("href=\"/flows/" + rows.get(0) + "\""), "each row links to its record");
            assertTrue(page.contains("browser-tap"), "records' tap shown");
            assertTrue(Pattern.compile("id=\"active\">[0-9,]+<").matcher(page).find(), "health from /metrics: " +
                page);
            assertTrue(Pattern.compile("id=\"memcap\">[0-9.]+ % of ").matcher(page).find(), page);
            assertTrue(page.contains(rows.size() + " connections, updated"), page);
            assertEquals(200, client.send(HttpRequest.newBuilder(URI.create(base + "/flows/" + rows.get(0))).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode(), "the row's link answers");

            // The form's parameters travel in the page's query string to /flows.
            final String filtered = render(chromium, dir, base + "/?port=8080&sort=rtt_max");
            final List<String> slow = uids(awaitFlows(base, "port=8080", 1));
            assertEquals(slow, rows(filtered), filtered);
            assertTrue(filtered.contains("1 connections, updated"), filtered);
            for (final String parameter : new String[] {"host=not-an-address", "sort=size", "hots=10.0.0.1"})
            {
                final String refused = render(chromium, dir, base + "/?" + parameter);
                assertEquals(List.of(), rows(refused), parameter);
                assertTrue(refused.contains("answered 400") && refused.contains("(parameter " +
                    parameter.substring(0, parameter.indexOf('=')) + ")"), refused);
            }

            Files.createDirectories(ARTIFACTS);
            final Path screenshot = ARTIFACTS.resolve("live-page.png").toAbsolutePath();
            Files.deleteIfExists(screenshot);
            runChromium(chromium, dir, "--window-size=1500,700", "--screenshot=" + screenshot, base + "/");
            final byte[] png = Files.readAllBytes(screenshot);
            assertTrue(png.length > 1000, "a screenshot of the page");
            assertArrayEquals(new byte[] {(byte)0x89, 'P', 'N', 'G'}, java.util.Arrays.copyOf(png, 4));
            Files.writeString(ARTIFACTS.resolve("live-page.html"), page);
        }
        finally
        {
            tracker.destroy();
            if (!tracker.waitFor(30, TimeUnit.SECONDS))
            {
                tracker.destroyForcibly();
            }
        }
    }

    /** The browser's binary, or null. */
    private static String chromium()
    {
        for (final String candidate : new String[] {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
        {
            if (Files.isExecutable(Path.of(candidate)))
            {
                return candidate;
            }
        }
        return null;
    }

    /** The DOM after the page's script ran (a few seconds of virtual time: the first refreshes). */
    private static String render(final String chromium, final Path dir, final String url) throws Exception
    {
        return runChromium(chromium, dir, "--dump-dom", url);
    }

    private static String runChromium(final String chromium, final Path dir, final String... arguments)
        throws Exception
    {
        final List<String> command = new ArrayList<>(List.of(chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--no-first-run", "--disable-extensions", "--user-data-dir=" + dir.resolve("chromium-profile"),
            "--virtual-time-budget=4000"));
        command.addAll(List.of(arguments));
        final Path out = dir.resolve("chromium.out");
        final Path err = dir.resolve("chromium.err");
        final Process browser = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
            .start();
        if (!browser.waitFor(90, TimeUnit.SECONDS))
        {
            browser.descendants().forEach(ProcessHandle::destroyForcibly);
            browser.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("chromium did not finish within 90 s: " + Files.readString(err));
        }
        assertEquals(0, browser.exitValue(), Files.readString(err));
        return Files.readString(out);
    }

    private static List<String> rows(final String dom)
    {
        final List<String> uids = new ArrayList<>();
        final Matcher row = ROW.matcher(dom);
        while (row.find())
        {
            uids.add(row.group(1));
        }
        return uids;
    }

    private static List<String> uids(final JsonNode flows)
    {
        final List<String> uids = new ArrayList<>();
        flows.forEach(flow -> uids.add(flow.get("uid").asText()));
        return uids;
    }

    private static String awaitServing(final Process tracker, final Path stderr) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline)
        {
            final Matcher serving = SERVING.matcher(Files.readString(stderr));
            if (serving.find())
            {
                return "http://" + serving.group(1) + ":" + serving.group(2);
            }
            if (!tracker.isAlive())
            {
                throw new AssertionError("tracker run exited: " + Files.readString(stderr));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("tracker run did not serve HTTP: " + Files.readString(stderr));
    }

    /** Waits until {@code /flows?query} lists at least {@code count} connections. */
    private JsonNode awaitFlows(final String base, final String query, final int count) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode flows = null;
        while (System.nanoTime() < deadline)
        {
            try
            {
                final HttpResponse<String> answer = client.send(HttpRequest.newBuilder(
                    URI.create(base + "/flows?" + query)).build(), HttpResponse.BodyHandlers.ofString());
                flows = JSON.readTree(answer.body());
                if (answer.statusCode() == 200 && flows.size() >= count)
                {
                    return flows;
                }
            }
            catch (final IOException e)
            {
                // not yet
            }
            Thread.sleep(200);
        }
        throw new AssertionError("/flows?" + query + " did not list " + count + ": " + flows);
    }
}
