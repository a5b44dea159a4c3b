package dev.flowtracker.core.tcp.zeek;

/**
 * Package-private state of Zeek's model that the flow tests in {@code dev.flowtracker.core.flow} set directly
 * (the codec and compact-record tests: a field out of its width or out of range), so that the model itself keeps
 * its fields package-private.
 */
public final class ZeekInternals
{
    /** {@link ZeekEndpoint#SYN_SENT}. */
    public static final int SYN_SENT = ZeekEndpoint.SYN_SENT;
    /** {@link ZeekEndpoint#RESET}, the highest state. */
    public static final int RESET = ZeekEndpoint.RESET;
    /** {@link ZeekEndpoint#MAX_BLOCKS}. */
    public static final int MAX_BLOCKS = ZeekEndpoint.MAX_BLOCKS;

    private ZeekInternals()
    {
    }

    public static void setMissedBytesA(final ZeekSummary zeek, final long missedBytes)
    {
        zeek.a.missedBytes(missedBytes);
    }

    public static void setInactivityAt(final ZeekSummary zeek, final long nanos)
    {
        zeek.timers.inactivityAt(nanos);
    }

    public static void setStateA(final ZeekSummary zeek, final int state)
    {
        zeek.a.state(state);
    }

    public static void setBlockCountB(final ZeekSummary zeek, final int blockCount)
    {
        zeek.b.blockCount(blockCount);
    }

    /** Makes side b the originator (and side a the responder), leaving the endpoints' own role flags as they were. */
    public static void setOrigB(final ZeekSummary zeek)
    {
        zeek.aIsOrig(false);
    }

    /** Swaps the originator and the responder. */
    public static void swapOrigAndResp(final ZeekSummary zeek)
    {
        zeek.aIsOrig(!zeek.aIsOrig());
    }
}
