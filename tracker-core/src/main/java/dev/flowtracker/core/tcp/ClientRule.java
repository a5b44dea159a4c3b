package dev.flowtracker.core.tcp;

/**
 * How the originator ("client") of a connection was chosen, strongest first: the sender of the first SYN
 * without ACK, else the receiver of the first SYN+ACK, else the sender of the first packet.
 */
public enum ClientRule
{
    FIRST_PACKET("first_packet"), SYNACK("synack"), SYN("syn");

    private final String label;

    ClientRule(final String label)
    {
        this.label = label;
    }

    public String label()
    {
        return label;
    }
}
