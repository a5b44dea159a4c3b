package dev.flowtracker.core.tcp;

/** Which reference tool decides where one connection ends and the next begins on the same 4-tuple. */
public enum Lifecycle
{
    /**
     * Zeek's: its reuse test for new SYNs, and its timers (attempt, inactivity, close and reset delays) driven by
     * packet time. Records line up one-to-one with Zeek's conn.log.
     */
    ZEEK("zeek"),
    /**
     * tshark 4.0's {@code tcp.stream}: only a SYN with a new sequence number starts a new connection, and nothing
     * times out. Records line up one-to-one with tshark's streams.
     */
    TSHARK("tshark");

    private final String label;

    Lifecycle(final String label)
    {
        this.label = label;
    }

    public String label()
    {
        return label;
    }

    /** The lifecycle with this label, or null. */
    public static Lifecycle byLabel(final String label)
    {
        for (final Lifecycle lifecycle : values())
        {
            if (lifecycle.label.equals(label))
            {
                return lifecycle;
            }
        }
        return null;
    }
}
