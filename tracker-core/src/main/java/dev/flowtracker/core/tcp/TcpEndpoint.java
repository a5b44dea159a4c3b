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

    // tshark sequence-analysis state: absolute sequence numbers, 0 meaning "not known yet" (as in tshark).
    static final int WINDOW_SCALE_UNKNOWN = -1;
    static final int WINDOW_SCALE_NONE = -2;
    static final int MAX_WINDOW_SCALE = 14;
    int nextSeq;
    long nextSeqTime;
    int maxSeqToBeAcked;
    int lastAck;
    long lastAckTime;
    /** Last raw window sent; all ones until the first segment (never equal to a 16-bit window). */
    int window = -1;
    /** Shift from the SYN's window-scale option, or {@link #WINDOW_SCALE_UNKNOWN} / {@link #WINDOW_SCALE_NONE}. */
    int windowScale = WINDOW_SCALE_UNKNOWN;
    /** True from this side's SYN until its first ACK without SYN: its window is not scaled yet. */
    boolean firstAck;
    /** Duplicate ACKs in a row; -1 after an ACKed-unseen report (suppresses repeats). */
    int dupAckNum;
    int lastSegmentFlags;
    final long[] analysisCounts = new long[AnalysisFlag.count()];

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

    /** Segments sent by this side that tshark would flag with {@code flag}. */
    public long analysisCount(final AnalysisFlag flag)
    {
        return analysisCounts[flag.ordinal()];
    }

    /** The window-scale shift this side announced, or -1 when unknown or not in use. */
    public int windowScale()
    {
        return Math.max(-1, windowScale == WINDOW_SCALE_NONE ? -1 : windowScale);
    }
}
