package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.Flyweight;
import dev.flowtracker.core.state.StateMemory;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import java.nio.charset.StandardCharsets;

/**
 * One connection's history string as Zeek writes it into conn.log: the letters (upper case for the current
 * originator), whether they stopped at {@link ZeekSummary#MAX_HISTORY}, the once-per-direction bits that decide
 * whether a packet's letter is added, and the scaled letters C, T, W and G, whose counts live in each
 * {@link ZeekEndpoint}. Rules in docs/zeek-conn-semantics.md ("History letters"); {@link ZeekSummary} decides when
 * each step runs.
 *
 * <p>A flyweight over {@link #BYTES} bytes of a {@code (MemorySegment, base)} pair (its own memory when made, a
 * region of {@link ZeekSummary}'s when the summary wraps it), native byte order:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |      seen (4): once-per-direction bits, the responder's << 16  |
 *  +---------------+---------------+-------------------------------+
 *  |  length (1)   | truncated (1) |          (padding 2)          |
 *  +---------------+---------------+-------------------------------+
 *  |        letters (48): one ASCII byte each, unused ones 0         |
 *  +                              ...                              +
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>Owned by the connection's tracker thread.
 */
final class ZeekHistory extends Flyweight
{
    /** The fields, declared once: the offsets below are taken from it, and the state tests walk it. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
        JAVA_INT.withName("seen"),
        JAVA_BYTE.withName("length"),
        JAVA_BYTE.withName("truncated"),
        MemoryLayout.paddingLayout(2),
        MemoryLayout.sequenceLayout(ZeekSummary.MAX_HISTORY, JAVA_BYTE).withName("letters"));
    static final int SEEN_OFFSET = StateMemory.offset(LAYOUT, "seen");
    static final int LENGTH_OFFSET = StateMemory.offset(LAYOUT, "length");
    static final int TRUNCATED_OFFSET = StateMemory.offset(LAYOUT, "truncated");
    static final int LETTERS_OFFSET = StateMemory.offset(LAYOUT, "letters");
    /** Bytes of the region. */
    static final int BYTES = StateMemory.align8((int)LAYOUT.byteSize());

    // Once-per-direction history bits (the responder's are shifted left by 16).
    private static final int HIST_SYN = 0x1;
    private static final int HIST_FIN = 0x2;
    private static final int HIST_RST = 0x4;
    private static final int HIST_FIN_RST = 0x8;
    private static final int HIST_DATA = 0x10;
    private static final int HIST_ACK = 0x20;
    private static final int HIST_MULTI_FLAG = 0x40;


    ZeekHistory()
    {
        wrap(StateMemory.home(BYTES), 0);
        clear();
    }

    /** A part of a larger state, on its memory: the whole's {@code clear} sets it. */
    ZeekHistory(final MemorySegment segment, final long base)
    {
        wrap(segment, base);
    }

    /** Reads and writes the history in {@code segment} from {@code base} on ({@link #BYTES} bytes). */
    void wrap(final MemorySegment segment, final long base)
    {
        wrapMemory(segment, base, BYTES);
    }

    /** Back to an empty history, for a recycled connection; allocates nothing. */
    void clear()
    {
        zeroMemory(BYTES);
    }

    /** Whether the whole history is a lone {@code H}: then an ACK or data means the roles were the other way round. */
    boolean isLoneSynAck()
    {
        return length() == 1 && letters(0) == 'H';
    }

    /** Starts again as {@code ^h}, after the roles flipped over a lone SYN+ACK. */
    void restartAsFlippedSynAck()
    {
        length(0);
        truncated(false);
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
        final int seen = seen();
        if ((seen & roleMask) == 0)
        {
            seen(seen | roleMask);
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
        final int length = length();
        if (length < ZeekSummary.MAX_HISTORY)
        {
            letters(length, (byte)code);
            length(length + 1);
        }
        else
        {
            truncated(true);
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
        final int length = length();
        if (length == 0)
        {
            return null;
        }
        final byte[] letters = new byte[length];
        MemorySegment.copy(segment(), StateMemory.BYTE, base() + LETTERS_OFFSET, letters, 0, length);
        return new String(letters, StandardCharsets.US_ASCII);
    }

    /** Letter {@code index} (0 to {@link #length} - 1), as an ASCII byte. */
    byte letter(final int index)
    {
        final int length = length();
        if (index < 0 || index >= length)
        {
            throw new IndexOutOfBoundsException("history letter " + index + " of " + length);
        }
        return letters(index);
    }

    // Accessors of the region's fields.

    int seen()
    {
        return getInt(SEEN_OFFSET);
    }

    void seen(final int value)
    {
        putInt(SEEN_OFFSET, value);
    }

    /** Letters in the history, 0 to {@link ZeekSummary#MAX_HISTORY}. */
    int length()
    {
        return getByte(LENGTH_OFFSET) & 0xFF;
    }

    void length(final int value)
    {
        putByte(LENGTH_OFFSET, (byte)value);
    }

    boolean truncated()
    {
        return getBoolean(TRUNCATED_OFFSET);
    }

    void truncated(final boolean value)
    {
        putBoolean(TRUNCATED_OFFSET, value);
    }

    /** Letter slot {@code index} (0 to {@link ZeekSummary#MAX_HISTORY} - 1), used or not, unchecked. */
    byte letters(final int index)
    {
        return getByte(LETTERS_OFFSET + index);
    }

    void letters(final int index, final byte value)
    {
        putByte(LETTERS_OFFSET + index, value);
    }

    /** Rejects bytes read from elsewhere (a checkpoint) whose bounded fields are out of range. */
    void check()
    {
        checkAtMost(LENGTH_OFFSET, ZeekSummary.MAX_HISTORY, "ZeekHistory.length");
        checkFlag(TRUNCATED_OFFSET, "ZeekHistory.truncated");
    }

}
