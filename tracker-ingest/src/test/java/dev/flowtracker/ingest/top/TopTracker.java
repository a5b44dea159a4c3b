package dev.flowtracker.ingest.top;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.flowtracker.ingest.checkpoint.CheckpointStore;
import dev.flowtracker.ingest.cli.TrackerCli;
import dev.flowtracker.ingest.http.QueryCapture;

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

/**
 * A real {@code tracker run} for the tests of {@code tracker top}: a paced replay of {@link QueryCapture} (its
 * connections stay open while the slow one trickles) serving HTTP on an ephemeral loopback port, started as the
 * other subprocess tests start it (this JVM's java and class path). Also runs {@code tracker top} itself the same way.
 * Used by one test thread.
 */
final class TopTracker implements AutoCloseable
{
    static final String TAP = "top-tap";

    private static final Pattern SERVING = Pattern.compile("tracker run: serving HTTP on (https?://\\S+?:\\d+)");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final Path stderr;
    private final HttpClient client = HttpClient.newHttpClient();
    private String url;

    /** The outcome of a {@code tracker top} run. */
    record Result(int exit, String out, String err)
    {
        List<String> lines()
        {
            return out.isEmpty() ? List.of() : List.of(out.split("\n"));
        }
    }

    private TopTracker(final Process process, final Path stderr)
    {
        this.process = process;
        this.stderr = stderr;
    }

    /** Starts a tracker replaying {@link QueryCapture} in real time with {@code extra} options; waits for HTTP. */
    static TopTracker start(final Path dir, final String... extra) throws Exception
    {
        final Path capture = QueryCapture.write(dir.resolve("query.pcap"), 120);
        final Path stderr = dir.resolve("tracker-stderr.txt");
        final List<String> args = new ArrayList<>(List.of("run", "--pcap", capture.toString(), "--replay-speed", "1",
            "--workers", "2", "--max-flows", "10000", "--tap-name", TAP, "--http-listen", "127.0.0.1:0", "-o",
            dir.resolve("records.jsonl").toString()));
        args.addAll(List.of(extra));
        final Process process = new ProcessBuilder(command(args)).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        final TopTracker tracker = new TopTracker(process, stderr);
        try
        {
            tracker.url = tracker.awaitServing();
        }
        catch (final Exception | AssertionError e)
        {
            tracker.close();
            throw e;
        }
        return tracker;
    }

    /** {@code java [JVM options] -cp [this class path] TrackerCli ARGS}. */
    static List<String> command(final List<String> args)
    {
        final List<String> command = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElseThrow(),
            "-Xmx256m"));
        command.addAll(CheckpointStore.jvmOptions());
        command.addAll(List.of("-cp", System.getProperty("java.class.path"), TrackerCli.class.getName()));
        command.addAll(args);
        return command;
    }

    /** Runs {@code tracker top ARGS} to its end (at most 60 s). */
    static Result top(final Path dir, final String... args) throws Exception
    {
        final List<String> topArgs = new ArrayList<>(List.of("top"));
        topArgs.addAll(List.of(args));
        final Path out = Files.createTempFile(dir, "top", ".out");
        final Path err = Files.createTempFile(dir, "top", ".err");
        final ProcessBuilder builder = new ProcessBuilder(command(topArgs)).redirectOutput(out.toFile())
            .redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().remove("COLUMNS");
        final Process top = builder.start();
        if (!top.waitFor(60, TimeUnit.SECONDS))
        {
            top.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError("tracker top did not end within 60 s: " + Files.readString(err));
        }
        return new Result(top.exitValue(), Files.readString(out), Files.readString(err));
    }

    String url()
    {
        return url;
    }

    /** Waits (at most 30 s) until {@code /flows?query} lists at least {@code count} connections. */
    JsonNode awaitFlows(final String query, final int count) throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        JsonNode flows = null;
        while (System.nanoTime() < deadline)
        {
            try
            {
                final HttpResponse<String> answer = client.send(HttpRequest.newBuilder(
                    URI.create(url + "/flows?" + query)).build(), HttpResponse.BodyHandlers.ofString());
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

    private String awaitServing() throws Exception
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline)
        {
            final Matcher serving = SERVING.matcher(Files.readString(stderr));
            if (serving.find())
            {
                return serving.group(1);
            }
            if (!process.isAlive())
            {
                throw new AssertionError("tracker run exited: " + Files.readString(stderr));
            }
            Thread.sleep(100);
        }
        throw new AssertionError("tracker run did not serve HTTP: " + Files.readString(stderr));
    }

    @Override
    public void close()
    {
        process.destroy();
        try
        {
            if (!process.waitFor(30, TimeUnit.SECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        }
        catch (final InterruptedException e)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
