package dev.flowtracker.core.tcp.zeek;

import dev.flowtracker.core.state.CompactWidths;
import dev.flowtracker.core.state.StateBuffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The {@link ZeekSummary} part of a connection's compact record ({@code dev.flowtracker.core.tcp.CompactRecord},
 * which documents the layout and the widths): ZeekSummary's own 14 bytes, {@link ZeekEndpoint} a and b (109
 * each), {@link ZeekHistory} 33 and {@link ZeekTimers} 42. Kept beside the fields it reads and writes; public for
 * {@code CompactRecord} only.
 *
 * <p>Owned by the thread of the store that holds the record; {@link #write} and {@link #read} allocate nothing.
 */
public final class ZeekCompact extends CompactWidths
{
    /** The letters a history slot can hold, by code: 0 (never written), ^, then Zeek's letters in both cases. */
    private static final byte[] LETTERS = "\0^SHFRDAIQCTWGshfrdaiqctwg".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LETTER_CODES = new byte[256];
    private static final int LETTER_BITS = 5;

    static
    {
        Arrays.fill(LETTER_CODES, (byte)-1);
        for (int code = 0; code < LETTERS.length; code++)
        {
            LETTER_CODES[LETTERS[code] & 0xFF] = (byte)code;
        }
    }

    private long firstNanos;
    private long lastNanos;

    /**
     * Writes {@code z} at {@code dst}'s position; instants are offsets from the connection's first and last packet
     * times.
     *
     * @return whether every value fitted its width.
     */
    public boolean write(final ZeekSummary z, final StateBuffer dst, final long firstNanos, final long lastNanos)
    {
        buf = dst;
        fits = true;
        this.firstNanos = firstNanos;
        this.lastNanos = lastNanos;
        writeZeek(z);
        buf = null;
        return fits;
    }

    /** Reads what {@link #write} wrote into {@code z}, every encoded field assigned. */
    public void read(final ZeekSummary z, final StateBuffer src, final long firstNanos, final long lastNanos)
    {
        buf = src;
        this.firstNanos = firstNanos;
        this.lastNanos = lastNanos;
        readZeek(z);
        buf = null;
    }

    private void writeZeek(final ZeekSummary z)
    {
        final ZeekStateMachine m = z.machine;
        if ((z.firstPacketSeen() & ~3) != 0)
        {
            fits = false;
        }
        buf.putShort((short)(bit(z.aIsOrig(), 0) | bit(z.created(), 1) | bit(z.partial(), 2) | bit(z.active(), 3) |
            bit(z.closeDeferred(), 4) | bit(z.deferredGenEvent(), 5) | bit(z.removed(), 6) |
            bit(m.establishedEvent(), 7) | bit(m.doClose(), 8) | bit(m.genEvent(), 9) | bit(m.underflow(), 10) |
            (z.firstPacketSeen() & 3) << 11));
        instant(z.startNanos(), firstNanos);
        instant(z.lastNanos(), lastNanos);
        writeZeekEndpoint(z.a);
        writeZeekEndpoint(z.b);
        writeHistory(z.history);
        final ZeekTimers t = z.timers;
        for (int i = 0; i < ZeekTimers.EXPIRE_CHAINS; i++)
        {
            instant(t.expireAt(i), lastNanos);
        }
        instant(t.attemptAt(), lastNanos);
        instant(t.deleteAt(), lastNanos);
        instant(t.inactivityAt(), lastNanos);
        duration(t.inactivityTimeoutNanos());
    }

    private void readZeek(final ZeekSummary z)
    {
        final ZeekStateMachine m = z.machine;
        final int bits = u16();
        z.aIsOrig((bits & 1) != 0);
        z.created((bits & 1 << 1) != 0);
        z.partial((bits & 1 << 2) != 0);
        z.active((bits & 1 << 3) != 0);
        z.closeDeferred((bits & 1 << 4) != 0);
        z.deferredGenEvent((bits & 1 << 5) != 0);
        z.removed((bits & 1 << 6) != 0);
        m.establishedEvent((bits & 1 << 7) != 0);
        m.doClose((bits & 1 << 8) != 0);
        m.genEvent((bits & 1 << 9) != 0);
        m.underflow((bits & 1 << 10) != 0);
        z.firstPacketSeen(bits >>> 11 & 3);
        z.startNanos(instant(firstNanos));
        z.lastNanos(instant(lastNanos));
        readZeekEndpoint(z.a);
        readZeekEndpoint(z.b);
        readHistory(z.history);
        final ZeekTimers t = z.timers;
        for (int i = 0; i < ZeekTimers.EXPIRE_CHAINS; i++)
        {
            t.expireAt(i, instant(lastNanos));
        }
        t.attemptAt(instant(lastNanos));
        t.deleteAt(instant(lastNanos));
        t.inactivityAt(instant(lastNanos));
        t.inactivityTimeoutNanos(duration());
    }

    private void writeZeekEndpoint(final ZeekEndpoint e)
    {
        u8(bit(e.isOrig(), 0) | bit(e.didClose(), 1) | bit(e.didEof(), 2) | bit(e.skipDeliveries(), 3));
        nibbles(e.state(), e.previousState());
        u32(e.startSeq());
        buf.putInt(e.lastSeq());
        buf.putInt(e.ackSeq());
        u16(e.seqWraps());
        u16(e.ackWraps());
        u16(e.finCount());
        u16(e.rstCount());
        i32(e.finSeq());
        i32(e.historyLastSyn());
        i32(e.historyLastFin());
        i32(e.historyLastRst());
        for (int i = 0; i < ZeekEndpoint.SCALED_KINDS; i++)
        {
            u16(e.scaledCount(i));
        }
        int exponents = 0;
        for (int i = 0; i < ZeekEndpoint.SCALED_KINDS; i++)
        {
            exponents |= powerOfTen(e.scaledThreshold(i)) << 4 * i;
        }
        buf.putShort((short)exponents);
        i32(e.lastReassembled());
        i32(e.trimmed());
        for (int i = 0; i < ZeekEndpoint.MAX_BLOCKS; i++)
        {
            i32(e.blockStart(i));
        }
        for (int i = 0; i < ZeekEndpoint.MAX_BLOCKS; i++)
        {
            i32(e.blockEnd(i));
        }
        u8(e.blockCount());
        u32(e.missedBytes());
    }

    private void readZeekEndpoint(final ZeekEndpoint e)
    {
        final int bits = u8();
        e.isOrig((bits & 1) != 0);
        e.didClose((bits & 1 << 1) != 0);
        e.didEof((bits & 1 << 2) != 0);
        e.skipDeliveries((bits & 1 << 3) != 0);
        final int states = u8();
        e.state(states >>> 4);
        e.previousState(states & 0xF);
        e.startSeq(u32());
        e.lastSeq(buf.getInt());
        e.ackSeq(buf.getInt());
        e.seqWraps(u16());
        e.ackWraps(u16());
        e.finCount(u16());
        e.rstCount(u16());
        e.finSeq(buf.getInt());
        e.historyLastSyn(buf.getInt());
        e.historyLastFin(buf.getInt());
        e.historyLastRst(buf.getInt());
        for (int i = 0; i < ZeekEndpoint.SCALED_KINDS; i++)
        {
            e.scaledCount(i, u16());
        }
        final int exponents = u16();
        for (int i = 0; i < ZeekEndpoint.SCALED_KINDS; i++)
        {
            e.scaledThreshold(i, POWERS_OF_TEN[exponents >>> 4 * i & 0xF]);
        }
        e.lastReassembled(buf.getInt());
        e.trimmed(buf.getInt());
        for (int i = 0; i < ZeekEndpoint.MAX_BLOCKS; i++)
        {
            e.blockStart(i, buf.getInt());
        }
        for (int i = 0; i < ZeekEndpoint.MAX_BLOCKS; i++)
        {
            e.blockEnd(i, buf.getInt());
        }
        e.blockCount(u8());
        e.missedBytes(u32());
    }

    private void writeHistory(final ZeekHistory h)
    {
        long pending = 0;
        int pendingBits = 0;
        for (int i = 0; i < ZeekSummary.MAX_HISTORY; i++)
        {
            final byte letter = h.letters(i);
            final int code = LETTER_CODES[letter & 0xFF];
            if (code < 0)
            {
                fits = false;
            }
            pending |= (long)(code & 0x1F) << pendingBits;
            pendingBits += LETTER_BITS;
            while (pendingBits >= Byte.SIZE)
            {
                buf.put((byte)pending);
                pending >>>= Byte.SIZE;
                pendingBits -= Byte.SIZE;
            }
        }
        final int length = h.length();
        if (length > ZeekSummary.MAX_HISTORY)
        {
            fits = false;
        }
        u8(length | bit(h.truncated(), 6));
        // The once-per-direction bits: 7 for the originator, 7 shifted by 16 for the responder.
        final int seen = h.seen();
        if ((seen & ~0x007F_007F) != 0)
        {
            fits = false;
        }
        buf.putShort((short)(seen & 0x7F | (seen >>> 16 & 0x7F) << 7));
    }

    private void readHistory(final ZeekHistory h)
    {
        long pending = 0;
        int pendingBits = 0;
        for (int i = 0; i < ZeekSummary.MAX_HISTORY; i++)
        {
            if (pendingBits < LETTER_BITS)
            {
                pending |= (long)u8() << pendingBits;
                pendingBits += Byte.SIZE;
            }
            h.letters(i, LETTERS[(int)pending & 0x1F]);
            pending >>>= LETTER_BITS;
            pendingBits -= LETTER_BITS;
        }
        final int length = u8();
        h.length(length & 0x3F);
        h.truncated((length & 1 << 6) != 0);
        final int seen = u16();
        h.seen(seen & 0x7F | (seen >>> 7 & 0x7F) << 16);
    }
}
