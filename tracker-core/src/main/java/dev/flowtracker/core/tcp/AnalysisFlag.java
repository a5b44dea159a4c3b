package dev.flowtracker.core.tcp;

/**
 * The 15 tshark {@code tcp.analysis} flags, in flow-record schema order. A segment carries a bit set of these;
 * each endpoint counts the flags of the segments it sent.
 */
public enum AnalysisFlag
{
    RETRANSMISSION("retransmission"),
    FAST_RETRANSMISSION("fast_retransmission"),
    SPURIOUS_RETRANSMISSION("spurious_retransmission"),
    OUT_OF_ORDER("out_of_order"),
    LOST_SEGMENT("lost_segment"),
    ACK_LOST_SEGMENT("ack_lost_segment"),
    DUPLICATE_ACK("duplicate_ack"),
    ZERO_WINDOW("zero_window"),
    ZERO_WINDOW_PROBE("zero_window_probe"),
    ZERO_WINDOW_PROBE_ACK("zero_window_probe_ack"),
    WINDOW_FULL("window_full"),
    WINDOW_UPDATE("window_update"),
    KEEP_ALIVE("keep_alive"),
    KEEP_ALIVE_ACK("keep_alive_ack"),
    REUSED_PORTS("reused_ports");

    private static final AnalysisFlag[] VALUES = values();

    private final String label;

    AnalysisFlag(final String label)
    {
        this.label = label;
    }

    public String label()
    {
        return label;
    }

    public int bit()
    {
        return 1 << ordinal();
    }

    public static int count()
    {
        return VALUES.length;
    }

    public static AnalysisFlag of(final int ordinal)
    {
        return VALUES[ordinal];
    }
}
