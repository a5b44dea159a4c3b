package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.state.StateFields;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * One connection's history string as Zeek writes it into conn.log: the letters (upper case for the current
 * originator), whether they stopped at {@link ZeekSummary#MAX_HISTORY}, the once-per-direction bits that decide
 * whether a packet's letter is added, and the scaled letters C, T, W and G, whose counts live in each
 * {@link ZeekEndpoint}. Rules in docs/zeek-conn-semantics.md ("History letters"); {@link ZeekSummary} decides when
 * each step runs.
 *
 * <p>Owned by the connection's tracker thread.
 */
final class ZeekHistory
{
    // Once-per-direction history bits (the responder's are shifted left by 16).
    private static final int HIST_SYN = 0x1;
    private static final int HIST_FIN = 0x2;
    private static final int HIST_RST = 0x4;
    private static final int HIST_FIN_RST = 0x8;
    private static final int HIST_DATA = 0x10;
    private static final int HIST_ACK = 0x20;
    private static final int HIST_MULTI_FLAG = 0x40;

    /** Bytes {@link #encode} writes. */
    static final int ENCODED_BYTES = ZeekSummary.MAX_HISTORY + 2 + Integer.BYTES;

    final byte[] letters = new byte[ZeekSummary.MAX_HISTORY];
    int length;
    boolean truncated;
    int seen;

    /** Back to an empty history, for a recycled connection; allocates nothing. */
    void clear()
    {
        Arrays.fill(letters, (byte)0);
        length = 0;
        truncated = false;
        seen = 0;
    }

    /** Writes every field, in declaration order (see {@link dev.flowtracker.core.flow.FlowStateCodec}). */
    void encode(final StateBuffer dst)
    {
        dst.put(letters);
        StateFields.putSmall(dst, length);
        StateFields.putBoolean(dst, truncated);
        dst.putInt(seen);
    }

    /** Reads what {@link #encode} wrote. */
    void decode(final StateBuffer src)
    {
        src.get(letters);
        length = StateFields.getSmall(src, ZeekSummary.MAX_HISTORY, "ZeekHistory.length");
        truncated = StateFields.getBoolean(src, "ZeekHistory.truncated");
        seen = src.getInt();
    }

    /** Whether the whole history is a lone {@code H}: then an ACK or data means the roles were the other way round. */
    boolean isLoneSynAck()
    {
        return length == 1 && letters[0] == 'H';
    }

    /** Starts again as {@code ^h}, after the roles flipped over a lone SYN+ACK. */
    void restartAsFlippedSynAck()
    {
        length = 0;
        truncated = false;
        add('^');
        add('h');
    }

    /** The letter of one packet's flags (one of I Q S H F R D A), in the sender's case. */
    void addPacketLetter(
        final ZeekEndpoint endpoint, final boolean syn, final boolean fin, final boolean rst, final boolean ack,
        final long relSeq, final int len)
    {
        final int bits = (syn ? 1 : 0) + (fin ? 1 : 0) + (rst ? 1 : 0);
        if (bits > 1)
        {
            if (fin && rst)
            {
                checkHistory(endpoint, HIST_FIN_RST, 'I');
            }
            else
            {
                checkHistory(endpoint, HIST_MULTI_FLAG, 'Q');
            }
        }
        else if (bits == 1)
        {
            if (syn)
            {
                final char code = ack ? 'H' : 'S';
                if (checkHistory(endpoint, HIST_SYN, code) && relSeq != endpoint.historyLastSyn())
                {
                    addEndpointHistory(endpoint, code);
                }
                endpoint.historyLastSyn(relSeq);
            }
            if (fin)
            {
                if (checkHistory(endpoint, HIST_FIN, 'F') && relSeq + len != endpoint.historyLastFin())
                {
                    addEndpointHistory(endpoint, 'F');
                }
                endpoint.historyLastFin(relSeq + len);
            }
            if (rst)
            {
                if (checkHistory(endpoint, HIST_RST, 'R') && relSeq != endpoint.historyLastRst())
                {
                    addEndpointHistory(endpoint, 'R');
                }
                endpoint.historyLastRst(relSeq);
            }
        }
        else if (len > 0)
        {
            checkHistory(endpoint, HIST_DATA, 'D');
        }
        else if (ack)
        {
            checkHistory(endpoint, HIST_ACK, 'A');
        }
    }

    /** Adds the letter the first time per direction; returns whether it had been seen before. */
    private boolean checkHistory(final ZeekEndpoint endpoint, final int mask, final char code)
    {
        final int roleMask = endpoint.isOrig() ? mask : mask << 16;
        if ((seen & roleMask) == 0)
        {
            seen |= roleMask;
            addEndpointHistory(endpoint, code);
            return false;
        }
        return true;
    }

    private void addEndpointHistory(final ZeekEndpoint endpoint, final char code)
    {
        add(endpoint.isOrig() ? code : Character.toLowerCase(code));
    }

    /** Adds a letter as it is, in no endpoint's case (the role flip's {@code ^}). */
    void add(final char code)
    {
        if (length < ZeekSummary.MAX_HISTORY)
        {
            letters[length++] = (byte)code;
        }
        else
        {
            truncated = true;
        }
    }

    /** Zeek's scaled letters: added at the 1st, 10th, 100th... occurrence of the event for that endpoint. */
    void scaled(final ZeekEndpoint endpoint, final int which)
    {
        final int count = endpoint.scaledCount(which) + 1;
        endpoint.scaledCount(which, count);
        if (count == endpoint.scaledThreshold(which))
        {
            addEndpointHistory(endpoint, ZeekEndpoint.SCALED_LETTERS.charAt(which));
            final long next = (long)endpoint.scaledThreshold(which) * 10;
            if (next > Integer.MAX_VALUE)
            {
                endpoint.scaledCount(which, 0); // Zeek's wrap guard
            }
            else
            {
                endpoint.scaledThreshold(which, (int)next);
            }
        }
    }

    /** The letters, or null when there are none. */
    String asString()
    {
        if (length == 0)
        {
            return null;
        }
        return new String(letters, 0, length, StandardCharsets.US_ASCII);
    }

    int length()
    {
        return length;
    }

    /** Letter {@code index} (0 to {@link #length} - 1), as an ASCII byte. */
    byte letter(final int index)
    {
        if (index < 0 || index >= length)
        {
            throw new IndexOutOfBoundsException("history letter " + index + " of " + length);
        }
        return letters[index];
    }

    boolean truncated()
    {
        return truncated;
    }
}
