package dev.flowtracker.core.tcp;

/** Why a connection's record was emitted. {@link #label()} is the value of {@code tcp.end_reason}. */
public enum EndReason
{
    /** Both sides closed (FIN each way, acknowledged or not). */
    FIN("fin"),
    /** Reset by either side. */
    RST("rst"),
    /** A new connection (new SYN/ISN) took over the same 4-tuple. */
    REUSED("reused"),
    /** Idle longer than the timeout for its state. */
    TIMEOUT("timeout"),
    /** Removed to make room in a full flow table. */
    EVICTED("evicted"),
    /** Still open when the input ended. */
    END_OF_INPUT("end_of_input"),
    /** Still open when the daemon shut down. */
    SHUTDOWN("shutdown");

    private final String label;

    EndReason(final String label)
    {
        this.label = label;
    }

    public String label()
    {
        return label;
    }
}
