package dev.flowtracker.ingest.http;

import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.timeout.IdleStateEvent;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Takes a connection's requests in order and answers them one at a time, in that order (HTTP/1.1 pipelining):
 * checks the password ({@link WebConfig#check} here, a bcrypt comparison on the server's password thread), then
 * answers {@code /health} and {@code /ready} here, {@code /flows} on the query thread and the rest on the
 * answering thread. Pipelined requests wait in a queue of {@link #MAX_PIPELINED}; the first one beyond it is answered
 * 503 in its turn and the connection is closed after it, so every request accepted before it is answered.
 *
 * <p>One per connection; its fields belong to the event loop. Other threads only write a response (Netty hands
 * the write to the event loop) and hand results back with {@code ctx.executor().execute}.
 */
final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest>
{
    /** Pipelined requests a connection may have waiting behind the one being answered. */
    static final int MAX_PIPELINED = 32;

    /** The threads requests are handed to; shared by all connections. */
    record Threads(Executor answering, Executor querying, Executor passwords)
    {
    }

    /** One request, taken out of Netty's buffers; {@code refusal} when it is answered without looking further. */
    private record Exchange(boolean keepAlive, boolean head, HttpMethod method, String path,
        Map<String, String> parameters, String accept, String authorization, HttpApi.Response refusal)
    {
        static Exchange of(final FullHttpRequest request)
        {
            final boolean keepAlive = HttpUtil.isKeepAlive(request);
            final boolean head = HttpMethod.HEAD.equals(request.method());
            if (!request.decoderResult().isSuccess())
            {
                final Throwable cause = request.decoderResult().cause();
                return refused(keepAlive, HttpApi.Response.text(400, "bad request: " +
                    (cause == null || cause.getMessage() == null ? String.valueOf(cause) : cause.getMessage())));
            }
            final QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            final String path;
            final Map<String, String> parameters = new HashMap<>();
            try
            {
                path = uri.path();
                for (final Map.Entry<String, List<String>> parameter : uri.parameters().entrySet())
                {
                    parameters.put(parameter.getKey(), parameter.getValue().get(0));
                }
            }
            catch (final IllegalArgumentException e)
            {
                // Netty throws on %ZZ or a cut-off escape; before this the connection closed without a status.
                return refused(keepAlive, HttpApi.Response.json(400, "{\"error\":\"malformed percent-encoding in " +
                    HttpApi.escape(request.uri()) + "\"}"));
            }
            return new Exchange(keepAlive, head, request.method(), path, parameters,
                request.headers().get(HttpHeaderNames.ACCEPT), request.headers().get(HttpHeaderNames.AUTHORIZATION),
                null);
        }

        private static Exchange refused(final boolean keepAlive, final HttpApi.Response refusal)
        {
            return new Exchange(keepAlive, false, HttpMethod.GET, "", Map.of(), null, null, refusal);
        }
    }

    private final HttpApi api;
    private final WebConfig webConfig;
    private final Threads threads;
    private final ConnectionGuard guard;
    private final ArrayDeque<Exchange> pipelined = new ArrayDeque<>();
    private boolean inFlight;
    /** A refusal that closes the connection is queued: whatever follows is not read into the queue. */
    private boolean closing;

    RequestHandler(final HttpApi api, final WebConfig webConfig, final Threads threads, final ConnectionGuard guard)
    {
        this.api = api;
        this.webConfig = webConfig;
        this.threads = threads;
        this.guard = guard;
    }

    @Override
    protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
    {
        guard.requestReceived();
        if (closing)
        {
            return;
        }
        if (pipelined.size() < MAX_PIPELINED)
        {
            pipelined.addLast(Exchange.of(request));
        }
        else
        {
            closing = true;
            pipelined.addLast(Exchange.refused(false, HttpApi.Response.text(503,
                "too many pipelined requests (at most " + (MAX_PIPELINED + 1) + " unanswered)")));
        }
        if (inFlight)
        {
            ctx.channel().config().setAutoRead(false); // read more once these are answered
        }
        else
        {
            next(ctx);
        }
    }

    /** On the event loop: answers the next request waiting, or goes back to reading. */
    private void next(final ChannelHandlerContext ctx)
    {
        final Exchange exchange = pipelined.pollFirst();
        if (exchange == null)
        {
            inFlight = false;
            guard.awaitingNext();
            ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            return;
        }
        inFlight = true;
        if (exchange.refusal() != null)
        {
            respond(ctx, exchange, exchange.refusal(), false);
            return;
        }
        switch (webConfig.check(exchange.authorization()))
        {
            case AUTHORIZED -> authorized(ctx, exchange);
            case DENIED -> unauthorized(ctx, exchange);
            case VERIFY ->
            {
                try
                {
                    threads.passwords().execute(() ->
                    {
                        boolean ok;
                        try
                        {
                            ok = webConfig.verify(exchange.authorization());
                        }
                        catch (final RuntimeException e)
                        {
                            ok = false; // a hash the library cannot read matches nothing
                        }
                        final boolean verified = ok;
                        ctx.executor().execute(() ->
                        {
                            if (verified)
                            {
                                authorized(ctx, exchange);
                            }
                            else
                            {
                                unauthorized(ctx, exchange);
                            }
                        });
                    });
                }
                catch (final RejectedExecutionException e)
                {
                    // Guessers fill the password queue; verified credentials never wait in it (see WebConfig).
                    final FullHttpResponse busy = response(HttpApi.Response.text(503,
                        "too many password checks waiting, try again"), false);
                    busy.headers().set(HttpHeaderNames.RETRY_AFTER, "1");
                    write(ctx, busy, false);
                }
            }
        }
    }

    private void authorized(final ChannelHandlerContext ctx, final Exchange exchange)
    {
        if (!HttpMethod.GET.equals(exchange.method()) && !exchange.head())
        {
            final FullHttpResponse notAllowed = response(HttpApi.Response.json(405, "{\"error\":\"method " +
                HttpApi.escape(exchange.method().name()) + " not allowed: only GET and HEAD\"}"), false);
            notAllowed.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
            write(ctx, notAllowed, false);
            return;
        }
        if (HttpApi.immediate(exchange.path()))
        {
            // Probes never wait behind scrapes, flow queries or password checks.
            respond(ctx, exchange, answer(exchange), exchange.keepAlive());
            return;
        }
        final Executor thread = HttpApi.query(exchange.path()) ? threads.querying() : threads.answering();
        try
        {
            thread.execute(() -> respond(ctx, exchange, answer(exchange), exchange.keepAlive()));
        }
        catch (final RejectedExecutionException e)
        {
            respond(ctx, exchange, HttpApi.Response.text(503, "busy"), false);
        }
    }

    private void unauthorized(final ChannelHandlerContext ctx, final Exchange exchange)
    {
        final FullHttpResponse challenge = response(HttpApi.Response.text(401, "unauthorized"), false);
        challenge.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"tracker\"");
        write(ctx, challenge, false);
    }

    private HttpApi.Response answer(final Exchange exchange)
    {
        try
        {
            return api.get(exchange.path(), exchange.parameters(), exchange.accept());
        }
        catch (final RuntimeException e)
        {
            return HttpApi.Response.text(500, "internal error answering " + HttpApi.escape(exchange.path()) + ": " + e);
        }
    }

    private void respond(final ChannelHandlerContext ctx, final Exchange exchange, final HttpApi.Response answer,
        final boolean keepAlive)
    {
        write(ctx, response(answer, exchange.head()), keepAlive);
    }

    /** Any thread: writes one answer; once written, the next request (keep-alive) or the close. */
    private void write(final ChannelHandlerContext ctx, final FullHttpResponse response, final boolean keepAlive)
    {
        if (keepAlive)
        {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response).addListener(written ->
            {
                if (written.isSuccess() && ctx.channel().isActive())
                {
                    next(ctx);
                }
                else
                {
                    pipelined.clear(); // nobody to answer
                    ctx.close();
                }
            });
            return;
        }
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        ctx.writeAndFlush(response).addListener(written ->
        {
            closing = true; // the listener runs on the event loop
            pipelined.clear();
            ctx.close();
        });
    }

    private static FullHttpResponse response(final HttpApi.Response answer, final boolean head)
    {
        final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.valueOf(answer.status()),
            head ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(answer.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, answer.contentType());
        response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, answer.body().length);
        return response;
    }

    @Override
    public void channelWritabilityChanged(final ChannelHandlerContext ctx) throws Exception
    {
        // A client that does not read its answers gets no more of its requests read until it does.
        ctx.channel().config().setAutoRead(ctx.channel().isWritable() && pipelined.isEmpty());
        super.channelWritabilityChanged(ctx);
    }

    @Override
    public void userEventTriggered(final ChannelHandlerContext ctx, final Object event) throws Exception
    {
        if (event instanceof IdleStateEvent)
        {
            ctx.close(); // a dead client, or one that does not take its answer, gives its connection back
            return;
        }
        super.userEventTriggered(ctx, event);
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        ctx.close(); // a broken client connection affects nobody else
    }
}
