package dev.flowtracker.ingest.http;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The daemon's HTTP server (Netty): one event-loop thread for connections and one worker thread that answers
 * requests ({@link HttpApi}), so a scrape or a flow query never runs on the event loop and no client, however slow
 * or dead, holds up a pipeline thread. Each connection has one request answered at a time (pipelined ones wait in
 * a short per-connection queue, and a connection that overfills it gets 503 and is closed), so one greedy client
 * cannot fill the answering queue for the others. Idle connections close after
 * {@link #IDLE_SECONDS}; a response is written once and a slow reader only fills its own channel's buffer, and
 * while that buffer is over its high-water mark the server stops reading that client's further requests. At most
 * {@link #MAX_CONNECTIONS} connections are open at once (more are closed as they arrive), so stalled clients cannot
 * take the file descriptors that output rotation and checkpoints need.
 *
 * <p>Optional TLS and basic authentication, configured by a {@link WebConfig} file as Prometheus exporters do.
 */
public final class HttpServer implements AutoCloseable
{
    static final int IDLE_SECONDS = 60;
    private static final int MAX_REQUEST_BYTES = 16 * 1024;
    static final int MAX_CONNECTIONS = 128;
    /** One request in flight per connection, so the shared queue never turns a well-behaved client away. */
    private static final int QUEUED_REQUESTS = MAX_CONNECTIONS;
    /** Pipelined requests a connection may have waiting behind its one in flight; more close it with a 503. */
    private static final int MAX_PIPELINED = 8;

    private final EventLoopGroup group;
    private final ExecutorService answering;
    private final Channel channel;

    private HttpServer(final EventLoopGroup group, final ExecutorService answering, final Channel channel)
    {
        this.group = group;
        this.answering = answering;
        this.channel = channel;
    }

    /**
     * Binds {@code address} and starts serving {@code api}.
     *
     * @param webConfig TLS and basic-auth settings, or {@link WebConfig#NONE}.
     * @throws IOException naming the address when it cannot be bound.
     */
    public static HttpServer start(final InetSocketAddress address, final HttpApi api, final WebConfig webConfig)
        throws IOException
    {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, runnable ->
        {
            final Thread thread = new Thread(runnable, "tracker-http");
            thread.setDaemon(true);
            return thread;
        }, NioIoHandler.newFactory());
        final ExecutorService answering = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(QUEUED_REQUESTS), runnable ->
            {
                final Thread thread = new Thread(runnable, "tracker-http-answer");
                thread.setDaemon(true);
                return thread;
            });
        final SslContext ssl = webConfig.sslContext();
        final AtomicInteger connections = new AtomicInteger(); // only the event loop changes it
        try
        {
            final Channel channel = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, new WriteBufferWaterMark(64 * 1024, 4 << 20))
                .childHandler(new ChannelInitializer<SocketChannel>()
                {
                    @Override
                    protected void initChannel(final SocketChannel ch)
                    {
                        if (connections.get() >= MAX_CONNECTIONS)
                        {
                            ch.close();
                            return;
                        }
                        connections.incrementAndGet();
                        ch.closeFuture().addListener(closed -> connections.decrementAndGet());
                        if (ssl != null)
                        {
                            ch.pipeline().addLast(ssl.newHandler(ch.alloc()));
                        }
                        ch.pipeline().addLast(
                            new IdleStateHandler(0, 0, IDLE_SECONDS),
                            new HttpServerCodec(4096, 8192, 8192),
                            new HttpObjectAggregator(MAX_REQUEST_BYTES),
                            new RequestHandler(api, webConfig, answering));
                    }
                })
                .bind(address).syncUninterruptibly().channel();
            return new HttpServer(group, answering, channel);
        }
        catch (final RuntimeException e)
        {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            answering.shutdownNow();
            throw new IOException("cannot listen on " + address.getHostString() + ":" + address.getPort() + ": " +
                (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
    }

    /** The address actually bound (its port when 0 was asked for). */
    public InetSocketAddress address()
    {
        return (InetSocketAddress)channel.localAddress();
    }

    @Override
    public void close()
    {
        channel.close().syncUninterruptibly();
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        answering.shutdownNow();
    }

    /**
     * Decodes a request on the event loop and answers it on the answering thread, one request of its connection at
     * a time. One handler per connection; its fields belong to the event loop.
     */
    private static final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        private final HttpApi api;
        private final WebConfig webConfig;
        private final ExecutorService answering;
        private final ArrayDeque<Runnable> pipelined = new ArrayDeque<>();
        private boolean inFlight;

        RequestHandler(final HttpApi api, final WebConfig webConfig, final ExecutorService answering)
        {
            this.api = api;
            this.webConfig = webConfig;
            this.answering = answering;
        }

        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
        {
            final boolean keepAlive = HttpUtil.isKeepAlive(request);
            if (!request.decoderResult().isSuccess())
            {
                respond(ctx, HttpApi.Response.text(400, "bad request"), false, false);
                return;
            }
            if (!webConfig.authorized(request.headers().get(HttpHeaderNames.AUTHORIZATION)))
            {
                final FullHttpResponse challenge = response(HttpApi.Response.text(401, "unauthorized"), false);
                challenge.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Basic realm=\"tracker\"");
                ctx.writeAndFlush(challenge).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            final boolean head = HttpMethod.HEAD.equals(request.method());
            if (!HttpMethod.GET.equals(request.method()) && !head)
            {
                final FullHttpResponse notAllowed = response(HttpApi.Response.text(405, "only GET"), false);
                notAllowed.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
                ctx.writeAndFlush(notAllowed).addListener(ChannelFutureListener.CLOSE);
                return;
            }
            final QueryStringDecoder uri = new QueryStringDecoder(request.uri());
            final Map<String, String> parameters = new HashMap<>();
            for (final Map.Entry<String, List<String>> parameter : uri.parameters().entrySet())
            {
                parameters.put(parameter.getKey(), parameter.getValue().get(0));
            }
            final String accept = request.headers().get(HttpHeaderNames.ACCEPT);
            final String path = uri.path();
            final Runnable answer = () ->
            {
                HttpApi.Response response;
                try
                {
                    response = api.get(path, parameters, accept);
                }
                catch (final RuntimeException e)
                {
                    response = HttpApi.Response.text(500, "internal error: " + e);
                }
                respond(ctx, response, keepAlive, head).addListener(written -> answered(ctx));
            };
            if (!inFlight)
            {
                dispatch(ctx, answer);
            }
            else if (pipelined.size() < MAX_PIPELINED)
            {
                pipelined.addLast(answer);
                ctx.channel().config().setAutoRead(false); // read more once these are answered
            }
            else
            {
                respond(ctx, HttpApi.Response.text(503, "too many pipelined requests"), false, false);
            }
        }

        private void dispatch(final ChannelHandlerContext ctx, final Runnable answer)
        {
            inFlight = true;
            try
            {
                answering.execute(answer);
            }
            catch (final RejectedExecutionException e)
            {
                respond(ctx, HttpApi.Response.text(503, "busy"), false, false);
            }
        }

        /** On the event loop once an answer is written: the next pipelined request, or reading again. */
        private void answered(final ChannelHandlerContext ctx)
        {
            inFlight = false;
            if (!ctx.channel().isActive())
            {
                pipelined.clear(); // nobody to answer
                return;
            }
            final Runnable next = pipelined.pollFirst();
            if (next != null)
            {
                dispatch(ctx, next);
            }
            else
            {
                ctx.channel().config().setAutoRead(ctx.channel().isWritable());
            }
        }

        private static ChannelFuture respond(
            final ChannelHandlerContext ctx, final HttpApi.Response answer, final boolean keepAlive, final boolean head)
        {
            final FullHttpResponse response = response(answer, head);
            if (keepAlive)
            {
                response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
                return ctx.writeAndFlush(response);
            }
            return ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
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
                ctx.close(); // a dead or idle client gives its connection back
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
}
