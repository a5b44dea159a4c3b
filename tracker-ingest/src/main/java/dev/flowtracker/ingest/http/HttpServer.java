package dev.flowtracker.ingest.http;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The daemon's HTTP server (Netty), built so that no client can starve it and none, however slow or dead, holds up
 * a pipeline thread:
 *
 * <pre>
 *   accept ─► Connections (per-client limit, total limit: the slowest newcomer's slot is taken, not a probe's)
 *   event loop: ConnectionGuard (head and idle deadlines) ─► TLS or plain-HTTP refusal ─► HTTP codec
 *     ─► RequestHandler (one request per connection at a time, pipelined ones in order)
 *         ├─ credentials verified before, /health, /ready: answered on the event loop
 *         ├─ bcrypt of new credentials ─► tracker-http-bcrypt (1 thread, {@link #PASSWORD_QUEUE} waiting, else 503)
 *         ├─ /flows ─► tracker-http-query (waits for the shard workers)
 *         └─ /metrics, the rest ─► tracker-http-answer
 * </pre>
 *
 * A response is written once and a slow reader only fills its own channel's buffer; while that buffer is over its
 * high-water mark the server stops reading that client's further requests, and a connection that neither sends
 * nor takes anything for {@link Limits#idleNanos()} is closed. The connection limits keep stalled clients from
 * taking the file descriptors output rotation and checkpoints need.
 *
 * <p>Optional TLS and basic authentication, configured by a {@link WebConfig} file as Prometheus exporters do.
 * Thread ownership: {@link #start} and {@link #close} on the caller's thread; connections on the event loop.
 */
public final class HttpServer implements AutoCloseable
{
    static final int IDLE_SECONDS = 60;
    /** Seconds a client has to send a whole request (TLS handshake included) once it has started one. */
    static final int HEAD_SECONDS = 10;
    static final int MAX_CONNECTIONS = 128;
    static final int MAX_CONNECTIONS_PER_CLIENT = 16;
    /** Password checks waiting for the bcrypt thread; more are answered 503 at once. */
    static final int PASSWORD_QUEUE = 16;
    private static final int MAX_REQUEST_BYTES = 16 * 1024;

    /** The server's bounds. */
    record Limits(int maxConnections, int maxPerClient, long headNanos, long idleNanos)
    {
        static final Limits DEFAULT = new Limits(MAX_CONNECTIONS, MAX_CONNECTIONS_PER_CLIENT,
            TimeUnit.SECONDS.toNanos(HEAD_SECONDS), TimeUnit.SECONDS.toNanos(IDLE_SECONDS));
    }

    private final EventLoopGroup group;
    private final ExecutorService[] threads;
    private final Channel channel;

    private HttpServer(final EventLoopGroup group, final ExecutorService[] threads, final Channel channel)
    {
        this.group = group;
        this.threads = threads;
        this.channel = channel;
    }

    /**
     * Binds {@code address} and starts serving {@code api}.
     *
     * @param webConfig TLS and basic-auth settings, or {@link WebConfig#NONE}.
     * @throws IOException naming the address and the cause when it cannot be bound.
     */
    public static HttpServer start(final InetSocketAddress address, final HttpApi api, final WebConfig webConfig)
        throws IOException
    {
        return start(address, api, webConfig, Limits.DEFAULT);
    }

    static HttpServer start(final InetSocketAddress address, final HttpApi api, final WebConfig webConfig,
        final Limits limits) throws IOException
    {
        final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, TrackerThreads.single("http", Kind.DAEMON),
            NioIoHandler.newFactory());
        // One request in flight per connection, so the answering queues never turn a well-behaved client away.
        final ExecutorService answering = singleThread("http-answer", limits.maxConnections());
        final ExecutorService querying = singleThread("http-query", limits.maxConnections());
        // bcrypt is slow on purpose: one core at most goes to it, whatever guessers send (exporter-toolkit
        // serialises it with a mutex).
        final ExecutorService passwords = singleThread("http-bcrypt", PASSWORD_QUEUE);
        final ExecutorService[] threads = {answering, querying, passwords};
        final RequestHandler.Threads handoff = new RequestHandler.Threads(answering, querying, passwords);
        final SslContext ssl = webConfig.sslContext();
        final Connections connections = new Connections(limits);
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
                        final ConnectionGuard guard = new ConnectionGuard(limits, connections,
                            ch.remoteAddress().getAddress());
                        if (!connections.admit(guard, guard.client(), System.nanoTime()))
                        {
                            ch.close();
                            return;
                        }
                        ch.pipeline().addLast(guard);
                        if (ssl != null)
                        {
                            ch.pipeline().addLast(new TlsOrPlainHttp(ssl));
                        }
                        ch.pipeline().addLast(
                            new IdleStateHandler(0, 0, limits.idleNanos(), TimeUnit.NANOSECONDS),
                            new HttpServerCodec(4096, 8192, 8192),
                            new HttpObjectAggregator(MAX_REQUEST_BYTES),
                            new RequestHandler(api, webConfig, handoff, guard));
                    }
                })
                .bind(address).syncUninterruptibly().channel();
            return new HttpServer(group, threads, channel);
        }
        catch (final Exception e) // Netty rethrows the bind's IOException unchecked
        {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            for (final ExecutorService thread : threads)
            {
                thread.shutdownNow();
            }
            throw new IOException("http on " + address.getHostString() + ":" + address.getPort() +
                ": cannot listen: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
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
        for (final ExecutorService thread : threads)
        {
            thread.shutdownNow(); // before the event loop, which their answers are written on
        }
        for (final ExecutorService thread : threads)
        {
            try
            {
                thread.awaitTermination(1, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
                break;
            }
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    private static ExecutorService singleThread(final String role, final int queue)
    {
        return new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS, new LinkedBlockingQueue<>(queue),
            TrackerThreads.single(role, Kind.DAEMON));
    }
}
