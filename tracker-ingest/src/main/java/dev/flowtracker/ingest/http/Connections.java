package dev.flowtracker.ingest.http;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * The server's open connections, so that no client, and no crowd of slow clients, can keep a probe out. A client
 * (an IP address) may hold {@link HttpServer.Limits#maxPerClient()} connections; more are closed as they arrive.
 * When all {@link HttpServer.Limits#maxConnections()} are taken, a new connection takes the place of the oldest one
 * that has not yet sent a whole request, else of the oldest idle keep-alive one, else of the oldest whose answer
 * has waited longer than the head deadline for its reader: a connection that is being answered is never closed
 * for a newcomer. Slow clients can therefore hold slots only until the next connection arrives, and a probe that
 * sends its request at once is always let in.
 *
 * <p>Event loop only: admission runs in the channel initializer and removal on close, both on the server's single
 * event loop, so plain collections suffice.
 */
final class Connections
{
    private final HttpServer.Limits limits;
    /** In the order they were opened: the first match is the oldest. */
    private final LinkedHashSet<ConnectionGuard> open = new LinkedHashSet<>();
    private final Map<InetAddress, Integer> perClient = new HashMap<>();

    Connections(final HttpServer.Limits limits)
    {
        this.limits = limits;
    }

    /** Takes in {@code guard}'s connection, closing another to make room if need be; false to refuse it. */
    boolean admit(final ConnectionGuard guard, final InetAddress client, final long nowNanos)
    {
        if (perClient.getOrDefault(client, 0) >= limits.maxPerClient())
        {
            return false;
        }
        if (open.size() >= limits.maxConnections())
        {
            final ConnectionGuard victim = victim(nowNanos);
            if (victim == null)
            {
                return false;
            }
            forget(victim);
            victim.evict();
        }
        open.add(guard);
        perClient.merge(client, 1, Integer::sum);
        return true;
    }

    /** On close; a connection already evicted or never admitted is ignored. */
    void closed(final ConnectionGuard guard)
    {
        forget(guard);
    }

    int size()
    {
        return open.size();
    }

    private void forget(final ConnectionGuard guard)
    {
        if (open.remove(guard))
        {
            perClient.computeIfPresent(guard.client(), (client, count) -> count == 1 ? null : count - 1);
        }
    }

    private ConnectionGuard victim(final long nowNanos)
    {
        ConnectionGuard idle = null;
        ConnectionGuard stalled = null;
        for (final ConnectionGuard candidate : open)
        {
            switch (candidate.state())
            {
                case NEW ->
                {
                    return candidate;
                }
                case IDLE ->
                {
                    idle = idle == null ? candidate : idle;
                }
                case BUSY ->
                {
                    if (stalled == null && nowNanos - candidate.since() > limits.headNanos())
                    {
                        stalled = candidate;
                    }
                }
            }
        }
        return idle != null ? idle : stalled;
    }
}
