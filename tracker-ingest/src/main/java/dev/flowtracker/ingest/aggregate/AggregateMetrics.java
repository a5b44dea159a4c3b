package dev.flowtracker.ingest.aggregate;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.metrics.TrackerMetric;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import org.apache.kafka.streams.KafkaStreams;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;

/**
 * The aggregation's Prometheus metrics on {@code GET /metrics}: its own counters ({@link AggregateCounters}, declared
 * in the catalogue as {@link TrackerMetric}'s {@code AGGREGATE_*}), Kafka Streams' metrics through Micrometer's
 * {@link KafkaStreamsMetrics} binder ({@code kafka_stream_*}, {@code kafka_consumer_*}, {@code kafka_producer_*}...)
 * and the JVM's. A text format 0.0.4 or OpenMetrics answer, as the tracker's own endpoint gives. Built on the
 * command's thread; scrapes are answered on one Netty event-loop thread ({@code tracker-aggregate-metrics}).
 */
public final class AggregateMetrics implements AutoCloseable
{
    private static final String OPENMETRICS = "application/openmetrics-text";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
    private final KafkaStreamsMetrics streamsMetrics;
    /** Held strongly: Micrometer keeps function counters' objects weakly. */
    private final AggregateCounters counters;
    private EventLoopGroup group;
    private Channel channel;

    /** Binds the meters; nothing listens until {@link #listen}. */
    public AggregateMetrics(final KafkaStreams streams, final AggregateCounters counters)
    {
        this.counters = counters;
        counter(TrackerMetric.AGGREGATE_RECORDS_READ, AggregateCounters::read, null);
        counter(TrackerMetric.AGGREGATE_INTERIM_RECORDS_SKIPPED, AggregateCounters::interim, null);
        for (final MalformedReason reason : MalformedReason.values())
        {
            counter(TrackerMetric.AGGREGATE_RECORDS_MALFORMED, c -> c.malformed(reason), reason.label());
        }
        counter(TrackerMetric.AGGREGATE_ROLLUPS_WRITTEN, AggregateCounters::rollupsWritten, null);
        counter(TrackerMetric.AGGREGATE_DEDUP_RECORDS_WRITTEN, AggregateCounters::dedupWritten, null);
        counter(TrackerMetric.AGGREGATE_DUPLICATES_MERGED, AggregateCounters::duplicates, null);
        streamsMetrics = new KafkaStreamsMetrics(streams);
        streamsMetrics.bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        gcMetrics.bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** The registry (tests read it). */
    public PrometheusMeterRegistry registry()
    {
        return registry;
    }

    /**
     * Serves {@code /metrics} on {@code address}.
     *
     * @throws IOException naming the address when it cannot be bound.
     */
    public void listen(final InetSocketAddress address) throws IOException
    {
        group = new MultiThreadIoEventLoopGroup(1, TrackerThreads.single("aggregate-metrics", Kind.DAEMON),
            NioIoHandler.newFactory());
        try
        {
            channel = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>()
                {
                    @Override
                    protected void initChannel(final SocketChannel ch)
                    {
                        ch.pipeline().addLast(new HttpServerCodec(4096, 8192, 8192), new HttpObjectAggregator(8192),
                            new Scrapes());
                    }
                })
                .bind(address).syncUninterruptibly().channel();
        }
        catch (final Exception e) // Netty rethrows the bind's IOException unchecked
        {
            group.shutdownGracefully(0, 0, TimeUnit.SECONDS);
            group = null;
            throw new IOException("--metrics-listen " + address.getHostString() + ":" + address.getPort() +
                ": cannot listen: " + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()), e);
        }
    }

    /** The address bound (its port when 0 was asked for), or null when not listening. */
    public InetSocketAddress address()
    {
        return channel == null ? null : (InetSocketAddress)channel.localAddress();
    }

    @Override
    public void close()
    {
        if (channel != null)
        {
            channel.close().syncUninterruptibly();
        }
        if (group != null)
        {
            group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
        }
        streamsMetrics.close();
        gcMetrics.close();
        registry.close();
    }

    /** A counter of the catalogue (Micrometer adds the {@code _total} its name carries). */
    private void counter(final TrackerMetric metric, final ToDoubleFunction<AggregateCounters> value,
        final String reason)
    {
        final String name = metric.metricName();
        final FunctionCounter.Builder<AggregateCounters> builder = FunctionCounter.builder(
            name.substring(0, name.length() - "_total".length()).replace('_', '.'), counters, value)
            .description(metric.help());
        if (reason != null)
        {
            builder.tag(metric.labelNames().getFirst(), reason);
        }
        builder.register(registry);
    }

    /** Answers {@code GET /metrics} with a scrape and anything else with 404 or 405; on the event-loop thread. */
    private final class Scrapes extends SimpleChannelInboundHandler<FullHttpRequest>
    {
        @Override
        protected void channelRead0(final ChannelHandlerContext ctx, final FullHttpRequest request)
        {
            final String path = request.uri().split("\\?", 2)[0];
            final FullHttpResponse response;
            if (!"/metrics".equals(path))
            {
                response = text(HttpResponseStatus.NOT_FOUND, "text/plain; charset=utf-8", "not found: try /metrics\n");
            }
            else if (!HttpMethod.GET.equals(request.method()) && !HttpMethod.HEAD.equals(request.method()))
            {
                response = text(HttpResponseStatus.METHOD_NOT_ALLOWED, "text/plain; charset=utf-8", "GET only\n");
            }
            else
            {
                final String accept = request.headers().get(HttpHeaderNames.ACCEPT);
                final String type = accept != null && accept.contains(OPENMETRICS) ?
                    OPENMETRICS + "; version=1.0.0; charset=utf-8" : "text/plain; version=0.0.4; charset=utf-8";
                response = text(HttpResponseStatus.OK, type, registry.scrape(type));
            }
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }

        @Override
        public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
        {
            ctx.close(); // a client that went away or sent garbage: nothing to tell anyone
        }

        private static FullHttpResponse text(final HttpResponseStatus status, final String type, final String body)
        {
            final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status,
                Unpooled.copiedBuffer(body, StandardCharsets.UTF_8));
            response.headers().set(HttpHeaderNames.CONTENT_TYPE, type)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                .set(HttpHeaderNames.CONNECTION, "close");
            return response;
        }
    }
}
