package dev.flowtracker.core.tcp.zeek;

/**
 * conn.log's conn_state, a pure function of the two endpoint states, their sizes and (for RSTOS0) the history.
 * Rules in docs/zeek-conn-semantics.md.
 *
 * <p>Stateless: any thread.
 */
final class ZeekConnState
{
    private ZeekConnState()
    {
    }

    /** The conn_state of a connection Zeek created, with these originator and responder endpoints. */
    static String of(final ZeekEndpoint orig, final ZeekEndpoint resp, final ZeekHistory history)
    {
        final int os = orig.state();
        final int rs = resp.state();
        final boolean origInactive = orig.isInactiveOrPartial();
        final boolean respInactive = resp.isInactiveOrPartial();
        if (rs == ZeekEndpoint.RESET)
        {
            if (os == ZeekEndpoint.SYN_SENT || os == ZeekEndpoint.SYN_ACK_SENT ||
                (os == ZeekEndpoint.RESET && orig.size(resp) == 0 && resp.size(orig) == 0))
            {
                return "REJ";
            }
            return origInactive ? "RSTRH" : "RSTR";
        }
        if (os == ZeekEndpoint.RESET)
        {
            if (respInactive)
            {
                return isSynThenReset(history) ? "RSTOS0" : "OTH";
            }
            return "RSTO";
        }
        if (rs == ZeekEndpoint.CLOSED && os == ZeekEndpoint.CLOSED)
        {
            return "SF";
        }
        if (os == ZeekEndpoint.CLOSED)
        {
            return respInactive ? "SH" : "S2";
        }
        if (rs == ZeekEndpoint.CLOSED)
        {
            return origInactive ? "SHR" : "S3";
        }
        if (os == ZeekEndpoint.SYN_SENT && rs == ZeekEndpoint.INACTIVE)
        {
            return "S0";
        }
        if (os == ZeekEndpoint.ESTABLISHED && rs == ZeekEndpoint.ESTABLISHED)
        {
            return "S1";
        }
        return "OTH";
    }

    /** The whole history matches {@code ^?S[^HAFGIQ]*R.*}. */
    static boolean isSynThenReset(final ZeekHistory history)
    {
        final int length = history.length();
        int i = 0;
        if (i < length && history.letter(i) == '^')
        {
            i++;
        }
        if (i >= length || history.letter(i) != 'S')
        {
            return false;
        }
        for (i++; i < length; i++)
        {
            final byte c = history.letter(i);
            if (c == 'R')
            {
                return true;
            }
            if (c == 'H' || c == 'A' || c == 'F' || c == 'G' || c == 'I' || c == 'Q')
            {
                return false;
            }
        }
        return false;
    }
}
