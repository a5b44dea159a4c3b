package dev.flowtracker.core.flow;

import dev.flowtracker.core.tcp.EndReason;

/**
 * Why a bounded flow table removed a connection on its own (rather than the connection ending by FIN, RST, reuse
 * or a Zeek timer). Each removal is counted per reason and phase, and the connection's record is still emitted.
 */
public enum FlowRemoval
{
    /** Idle longer than its phase's timeout; the record's end reason is {@code timeout}. */
    IDLE_TIMEOUT("idle_timeout", EndReason.TIMEOUT),
    /** Idle longer than its phase's shorter emergency timeout while the table was nearly full; {@code evicted}. */
    EMERGENCY_TIMEOUT("emergency_timeout", EndReason.EVICTED),
    /** The least recently active connection, removed because a new one needed its slot; {@code evicted}. */
    CAPACITY("capacity", EndReason.EVICTED);

    private final String label;
    private final EndReason endReason;

    FlowRemoval(final String label, final EndReason endReason)
    {
        this.label = label;
        this.endReason = endReason;
    }

    /** The value used in metrics labels and logs. */
    public String label()
    {
        return label;
    }

    EndReason endReason()
    {
        return endReason;
    }
}
