package dev.flowtracker.core.tcp;

/**
 * Package-private state of a {@link TcpConnection} and its {@link TcpEndpoint}s that the flow tests in
 * {@code dev.flowtracker.core.flow} read and set, so that the connection keeps its fields package-private.
 */
public final class TcpInternals
{
    private TcpInternals()
    {
    }

    /** Side a's and side b's low address bits and ports, as {@code aLow:aPort <-> bLow:bPort}. */
    public static String sides(final TcpConnection c)
    {
        return c.aLow() + ":" + c.aPort() + " <-> " + c.bLow() + ":" + c.bPort();
    }

    public static void setPackets(final TcpEndpoint e, final long packets)
    {
        e.packets(packets);
    }

    public static void setSynCount(final TcpEndpoint e, final int synCount)
    {
        e.synCount(synCount);
    }

    public static void setAnalysisCount(final TcpEndpoint e, final int flag, final int count)
    {
        e.analysisCounts(flag, count);
    }
}
