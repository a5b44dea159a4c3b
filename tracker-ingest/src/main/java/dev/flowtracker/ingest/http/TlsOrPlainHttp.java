package dev.flowtracker.ingest.http;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.util.ReferenceCountUtil;

import java.nio.charset.StandardCharsets;

/**
 * The TLS port's first look at a connection: a TLS record goes on to TLS; plain HTTP gets the answer Go's net/http
 * gives (and so every Prometheus exporter with TLS): {@code 400 Bad Request}, "Client sent an HTTP request to an
 * HTTPS server.", and the connection closed. Without it an operator's {@code curl http://} got an empty reply and no
 * hint. Anything else is closed without a word. Event loop only, one per connection.
 */
final class TlsOrPlainHttp extends OptionalSslHandler
{
    static final String PLAIN_HTTP_ANSWER = "HTTP/1.0 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n" +
        "Connection: close\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

    TlsOrPlainHttp(final SslContext ssl)
    {
        super(ssl);
    }

    @Override
    protected ChannelHandler newNonSslHandler(final ChannelHandlerContext context)
    {
        return new PlainRefusal();
    }

    /** Answers the first bytes of a plain connection and closes it; reads nothing further. */
    private static final class PlainRefusal extends ChannelInboundHandlerAdapter
    {
        private boolean answered;

        @Override
        public void channelRead(final ChannelHandlerContext ctx, final Object msg)
        {
            try
            {
                if (answered)
                {
                    return;
                }
                answered = true;
                ctx.channel().config().setAutoRead(false);
                if (msg instanceof ByteBuf bytes && looksLikeHttp(bytes))
                {
                    ctx.writeAndFlush(Unpooled.copiedBuffer(PLAIN_HTTP_ANSWER, StandardCharsets.US_ASCII))
                        .addListener(ChannelFutureListener.CLOSE);
                }
                else
                {
                    ctx.close();
                }
            }
            finally
            {
                ReferenceCountUtil.release(msg);
            }
        }

        /** A request line starts with a method: upper-case letters and a space (what Go checks too). */
        private static boolean looksLikeHttp(final ByteBuf bytes)
        {
            final int start = bytes.readerIndex();
            final int end = Math.min(bytes.writerIndex(), start + 8);
            for (int i = start; i < end; i++)
            {
                final byte b = bytes.getByte(i);
                if (b == ' ')
                {
                    return i > start;
                }
                if (b < 'A' || b > 'Z')
                {
                    return false;
                }
            }
            return false;
        }
    }
}
