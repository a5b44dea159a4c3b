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
 * {@code /flows} (filtered and sorted, active or recently ended: {@link FlowParameters}), {@code /flows/{uid}} and
 * the live page at {@code /} ({@link LivePage}). Runs on the server's threads, never on a pipeline thread:
 * {@link #immediate} paths on its event loop, {@link #query} paths on its query thread (a flow query waits at
 * most {@link #QUERY_TIMEOUT_MILLIS} for the shard workers), the rest on its answering thread.
 */
public final class HttpApi
{
    /** Most records one {@code /flows} answer holds (docs/http-api.md documents every path). */
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
                return new Response(200, "text/html; charset=utf-8", LivePage.html());
            }
            default ->
            {
                if (path.startsWith("/flows/") && path.length() > "/flows/".length())
                {
                    return flow(path.substring("/flows/".length()), parameters);
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
        final FlowParameters request;
        try
        {
            request = FlowParameters.parse(parameters);
        }
        catch (final FlowParameters.BadParameter e)
        {
            return badParameter(e.parameter(), e.getMessage());
        }
        final Pipeline running = pipeline.get();
        if (running == null)
        {
            return Response.json(503, "{\"error\":\"not started\"}");
        }
        final List<String> records = ask(running, FlowQuery.top(request.filter(), request.sort(),
            request.descending(), request.limit(), running.workers()));
        if (records == null)
        {
            return Response.json(503, "{\"error\":\"the shard workers did not answer in time\"}");
        }
        return Response.json(200, "[" + String.join(",\n", records) + "]");
    }

    private Response flow(final String uid, final Map<String, String> parameters)
    {
        if (!parameters.isEmpty())
        {
            final String name = parameters.keySet().iterator().next();
            return badParameter(name, "unknown parameter " + name + " (/flows/{uid} takes none)");
        }
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
            return Response.json(404, "{\"error\":\"no active or recently ended connection with uid " +
                escape(uid) + "\"}");
        }
        return Response.json(200, records.get(0));
    }

    /** 400, naming the parameter. */
    static Response badParameter(final String parameter, final String message)
    {
        return Response.json(400, "{\"error\":\"" + escape(message, 1000) + "\",\"parameter\":\"" + escape(parameter) +
            "\"}");
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

    /** Makes untrusted text safe inside a JSON string, cut at 200 characters. */
    static String escape(final String text)
    {
        return escape(text, 200);
    }

    /** Makes text safe inside a JSON string, cut at {@code max} characters. */
    static String escape(final String text, final int max)
    {
        final StringBuilder out = new StringBuilder(Math.min(text.length(), max));
        for (int i = 0; i < text.length() && i < max; i++)
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
