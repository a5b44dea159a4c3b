package dev.flowtracker.core.tcp;

/** Suspicious segments an endpoint sent, counted per endpoint (flow record {@code security}) and per tracker. */
public enum SecuritySignal
{
    /** A data segment (more than 1 byte) starting beyond the right edge of the peer's advertised window. */
    OUTSIDE_WINDOW("outside_window"),
    /** A RST whose sequence number is outside the peer's window (RFC 5961's test: likely blind injection). */
    RST_OUTSIDE_WINDOW("rst_outside_window"),
    /** A data segment sent after a RST was seen. */
    DATA_AFTER_RST("data_after_rst");

    private static final SecuritySignal[] VALUES = values();

    private final String label;

    SecuritySignal(final String label)
    {
        this.label = label;
    }

    public String label()
    {
        return label;
    }

    public static int count()
    {
        return VALUES.length;
    }

    /** How many of this signal {@code endpoint} has sent so far. */
    long of(final TcpEndpoint endpoint)
    {
        return switch (this)
        {
            case OUTSIDE_WINDOW -> endpoint.outsideWindow();
            case RST_OUTSIDE_WINDOW -> endpoint.rstOutsideWindow();
            case DATA_AFTER_RST -> endpoint.dataAfterRst();
        };
    }
}
