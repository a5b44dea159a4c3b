package dev.flowtracker.core.tcp;

/**
 * What one side of a connection sent, plus its inferred RFC 793 state. Owned by the connection's tracker thread.
 */
public final class TcpEndpoint
{
    long packets;
    long ipBytes;
    long payloadBytes;
    int synCount;
    int finCount;
    int rstCount;

    /** Base of relative sequence numbers (tshark's rule); {@link #baseSeqSet} says whether it is known. */
    int baseSeq;
    boolean baseSeqSet;
    /** Sequence number of this side's SYN (its ISN), if a SYN was seen. */
    int isn;
    boolean isnSeen;
    /** Sequence number of this side's most recent SYN (a SYN+ACK may be resent with a new one). */
    int lastSynSeq;
    /** Sequence number just after this side's FIN, once a FIN was seen. */
    int finEndSeq;
    boolean finSeen;
    boolean rstSeen;

    TcpState state = TcpState.CLOSED;

    public long packets()
    {
        return packets;
    }

    public long ipBytes()
    {
        return ipBytes;
    }

    public long payloadBytes()
    {
        return payloadBytes;
    }

    public int synCount()
    {
        return synCount;
    }

    public int finCount()
    {
        return finCount;
    }

    public int rstCount()
    {
        return rstCount;
    }

    public boolean isnSeen()
    {
        return isnSeen;
    }

    /** The ISN as an unsigned 32-bit value; meaningful only when {@link #isnSeen()}. */
    public long isn()
    {
        return isn & 0xFFFF_FFFFL;
    }

    public TcpState state()
    {
        return state;
    }
}
