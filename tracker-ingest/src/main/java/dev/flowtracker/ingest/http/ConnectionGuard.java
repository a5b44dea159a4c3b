package dev.flowtracker.ingest.http;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;

import java.net.InetAddress;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * First handler of every connection: where it stands ({@link State}) and its deadline. A request, TLS handshake
 * included, must be whole within {@link HttpServer.Limits#headNanos()} of the connection opening, or of its first
 * byte on a keep-alive connection (as Go's {@code ReadHeaderTimeout}); a keep-alive connection may wait
 * {@link HttpServer.Limits#idleNanos()} for its next request. Bytes never move a deadline later, so a client that
 * trickles a byte now and then is closed like one that sends nothing. While a request is being answered there is
 * no deadline here (the answer's own bounds apply).
 *
 * <p>Event loop only, like everything of one channel.
 */
final class ConnectionGuard extends ChannelInboundHandlerAdapter
{
    /** Where a connection stands, for the deadline and for {@link Connections}' choice of whom to close. */
    enum State
    {
        /** Open, no whole request yet. */
        NEW,
        /** A request received and not yet answered. */
        BUSY,
        /** Answered, waiting for the next request. */
        IDLE
    }

    private final HttpServer.Limits limits;
    private final Connections connections;
    private final InetAddress client;
    private ChannelHandlerContext ctx;
    private State state = State.NEW;
    private long since;
    private long deadline;
    /** Whether the deadline is the idle one, which the next byte shortens to the head deadline. */
    private boolean idleDeadline;
    private ScheduledFuture<?> timer;

    ConnectionGuard(final HttpServer.Limits limits, final Connections connections, final InetAddress client)
    {
        this.limits = limits;
        this.connections = connections;
        this.client = client;
    }

    InetAddress client()
    {
        return client;
    }

    State state()
    {
        return state;
    }

    /** When the current state began ({@link System#nanoTime()}). */
    long since()
    {
        return since;
    }

    @Override
    public void handlerAdded(final ChannelHandlerContext ctx)
    {
        this.ctx = ctx;
        since = System.nanoTime();
        arm(since + limits.headNanos(), false);
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (idleDeadline)
        {
            arm(Math.min(deadline, System.nanoTime() + limits.headNanos()), false);
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        cancel();
        connections.closed(this);
        ctx.fireChannelInactive();
    }

    /** A whole request arrived: no deadline while it is answered. */
    void requestReceived()
    {
        if (state != State.BUSY)
        {
            state = State.BUSY;
            since = System.nanoTime();
            cancel();
        }
    }

    /** Every request so far answered: the keep-alive wait begins. */
    void awaitingNext()
    {
        state = State.IDLE;
        since = System.nanoTime();
        arm(since + limits.idleNanos(), true);
    }

    /** Closed to make room for a newer connection. */
    void evict()
    {
        cancel();
        ctx.close();
    }

    private void arm(final long at, final boolean idle)
    {
        idleDeadline = idle;
        if (timer != null && at == deadline)
        {
            return;
        }
        cancel();
        deadline = at;
        timer = ctx.executor().schedule(this::expire, Math.max(0, at - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void expire()
    {
        timer = null;
        if (state != State.BUSY)
        {
            ctx.close(); // too slow to send a request: its slot goes back
        }
    }

    private void cancel()
    {
        if (timer != null)
        {
            timer.cancel(false);
            timer = null;
        }
    }
}
