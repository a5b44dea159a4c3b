package dev.flowtracker.ingest.http;

import dev.flowtracker.ingest.metrics.TrackerMetrics;
import dev.flowtracker.ingest.pipeline.FlowQuery;
import dev.flowtracker.ingest.pipeline.Pipeline;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * What the HTTP server answers, independent of Netty: {@code /metrics}, {@code /health}, {@code /ready},
 * {@code /flows} and {@code /flows/{uid}}. Runs on the server's threads, never on a pipeline thread:
 * {@link #immediate} paths on its event loop, {@link #query} paths on its query thread (a flow query waits at
 * most {@link #QUERY_TIMEOUT_MILLIS} for the shard workers), the rest on its answering thread.
 */
public final class HttpApi
{
    /** Most records one {@code /flows} answer holds. */
    public static final int MAX_LIMIT = 1000;
    static final int DEFAULT_LIMIT = 100;
    static final long QUERY_TIMEOUT_MILLIS = 2000;

    private final TrackerMetrics metrics;
    private final Supplier<Pipeline> pipeline;
    private final BooleanSupplier ready;

    /** An answer: status, content type and body. */
    public record Response(int status, String contentType, byte[] body)
    {
        static Response text(final int status, final String text)
        {
            return new Response(status, "text/plain; charset=utf-8", (text + "\n").getBytes(StandardCharsets.UTF_8));
        }

        static Response json(final int status, final String json)
        {
            return new Response(status, "application/json", (json + "\n").getBytes(StandardCharsets.UTF_8));
        }
    }

    /**
     * @param pipeline the running pipeline (null while none is running yet).
     * @param ready    whether the daemon is ready: checkpoints restored and sources receiving.
     */
    public HttpApi(final TrackerMetrics metrics, final Supplier<Pipeline> pipeline, final BooleanSupplier ready)
    {
        this.metrics = metrics;
        this.pipeline = pipeline;
        this.ready = ready;
    }

    /** Answers a GET of {@code path} with its query {@code parameters} (first values). */
    public Response get(final String path, final Map<String, String> parameters, final String accept)
    {
        switch (path)
        {
            case "/metrics" ->
            {
                final TrackerMetrics.Scrape scrape = metrics.scrape(accept);
                return new Response(200, scrape.contentType(), scrape.body().getBytes(StandardCharsets.UTF_8));
            }
            case "/health" ->
            {
                return Response.json(200, "{\"status\":\"ok\"}");
            }
            case "/ready" ->
            {
                return ready.getAsBoolean() ? Response.json(200, "{\"status\":\"ready\"}") :
                    Response.json(503, "{\"status\":\"starting\"}");
            }
            case "/flows" ->
            {
                return flows(parameters);
            }
            case "/", "" ->
            {
                return Response.text(200, "tracker: /metrics /health /ready /flows?limit=N&sort=" +
                    "retransmission|bytes|duration|rtt /flows/{uid}");
            }
            default ->
            {
                if (path.startsWith("/flows/") && path.length() > "/flows/".length())
                {
                    return flow(path.substring("/flows/".length()));
                }
                return Response.json(404, "{\"error\":\"no such resource: " + escape(path) + "\"}");
            }
        }
    }

    /** Answered on the event loop: constant or a flag, so probes never wait behind a scrape or a query. */
    static boolean immediate(final String path)
    {
        return "/health".equals(path) || "/ready".equals(path);
    }

    /** Flow queries, which wait up to {@link #QUERY_TIMEOUT_MILLIS} for the workers: kept off the scrape thread. */
    static boolean query(final String path)
    {
        return "/flows".equals(path) || path.startsWith("/flows/");
    }

    private Response flows(final Map<String, String> parameters)
    {
        int limit = DEFAULT_LIMIT;
        final String limitText = parameters.get("limit");
        if (limitText != null)
        {
            try
            {
                limit = Integer.parseInt(limitText);
            }
            catch (final NumberFormatException e)
            {
                limit = -1;
            }
            if (limit < 1 || limit > MAX_LIMIT)
            {
                return Response.json(400, "{\"error\":\"limit must be a number from 1 to " + MAX_LIMIT + "\"}");
            }
        }
        final String sortText = parameters.getOrDefault("sort", "bytes");
        final FlowQuery.Sort sort = FlowQuery.Sort.named(sortText);
        if (sort == null)
        {
            return Response.json(400, "{\"error\":\"sort must be retransmission, bytes, duration or rtt\"}");
        }
        final Pipeline running = pipeline.get();
        if (running == null)
        {
            return Response.json(503, "{\"error\":\"not started\"}");
        }
        final List<String> records = ask(running, FlowQuery.top(sort, limit, running.workers()));
        if (records == null)
        {
            return Response.json(503, "{\"error\":\"the shard workers did not answer in time\"}");
        }
        return Response.json(200, "[" + String.join(",\n", records) + "]");
    }

    private Response flow(final String uid)
    {
        final Pipeline running = pipeline.get();
        if (running == null)
        {
            return Response.json(503, "{\"error\":\"not started\"}");
        }
        final List<String> records = ask(running, FlowQuery.byUid(uid, running.workers()));
        if (records == null)
        {
            return Response.json(503, "{\"error\":\"the shard workers did not answer in time\"}");
        }
        if (records.isEmpty())
        {
            return Response.json(404, "{\"error\":\"no active connection with uid " + escape(uid) + "\"}");
        }
        return Response.json(200, records.get(0));
    }

    private static List<String> ask(final Pipeline running, final FlowQuery query)
    {
        running.query(query);
        try
        {
            return query.await(QUERY_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Makes untrusted text safe inside a JSON string. */
    static String escape(final String text)
    {
        final StringBuilder out = new StringBuilder(Math.min(text.length(), 200));
        for (int i = 0; i < text.length() && i < 200; i++)
        {
            final char c = text.charAt(i);
            if (c == '"' || c == '\\')
            {
                out.append('\\').append(c);
            }
            else if (c < 0x20 || c > 0x7e)
            {
                out.append(String.format("\\u%04x", (int)c));
            }
            else
            {
                out.append(c);
            }
        }
        return out.toString();
    }
}
