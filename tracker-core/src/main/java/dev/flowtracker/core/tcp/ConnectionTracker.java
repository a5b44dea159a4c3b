package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Follows every TCP connection in a stream of decoded segments, in capture order, and hands each finished
 * connection to a {@link ConnectionListener}: when a new connection takes over its 4-tuple, and for every
 * connection still open at {@link #finish(EndReason)}. Connection identity follows tshark's {@code tcp.stream}
 * rules so that per-connection counts line up with it.
 *
 * <p>Single-threaded: owned by the thread that feeds it.
 */
public final class ConnectionTracker
{
    private final ConnectionTable table;
    private final ConnectionListener listener;
    private long connectionsCreated;
    private long connectionsReused;

    public ConnectionTracker(final int initialCapacity, final ConnectionListener listener)
    {
        this.table = new ConnectionTable(initialCapacity);
        this.listener = listener;
    }

    /** Accounts one TCP segment (the packet must hold a decoded TCP segment). */
    public void onSegment(final DecodedPacket p)
    {
        final int hash = FlowHash.of(p);
        TcpConnection connection = table.find(p, hash);
        if (connection == null)
        {
            connection = newConnection(p, hash, 0);
            table.insert(connection);
        }
        else if (connection.isReusedBy(p, connection.isFromA(p)))
        {
            final TcpConnection successor = newConnection(p, hash, connection.generation + 1);
            successor.reusedPorts = true;
            successor.pendingFlags = AnalysisFlag.REUSED_PORTS.bit();
            table.replace(connection, successor);
            connectionsReused++;
            if (connection.endReason == null)
            {
                connection.endReason = EndReason.REUSED;
            }
            listener.onConnectionEnd(connection);
            connection = successor;
        }
        connection.onSegment(p, connection.isFromA(p));
    }

    /**
     * Ends every connection still in the table, oldest first, with {@code reason} unless it already closed or
     * reset, and empties the table.
     */
    public void finish(final EndReason reason)
    {
        final List<TcpConnection> open = new ArrayList<>(table.size());
        table.forEach(open::add);
        open.sort(Comparator.comparingLong(TcpConnection::firstTimestampNanos).thenComparingLong(c -> c.generation));
        for (final TcpConnection connection : open)
        {
            if (connection.endReason == null)
            {
                connection.endReason = reason;
            }
            listener.onConnectionEnd(connection);
        }
        table.clear();
    }

    public int activeConnections()
    {
        return table.size();
    }

    public long connectionsCreated()
    {
        return connectionsCreated;
    }

    public long connectionsReused()
    {
        return connectionsReused;
    }

    private TcpConnection newConnection(final DecodedPacket p, final int hash, final long generation)
    {
        final TcpConnection connection = new TcpConnection();
        connection.reset(p, hash, generation);
        connectionsCreated++;
        return connection;
    }
}
