package dev.flowtracker.core.tcp.zeek;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flowtracker.core.state.Flyweight;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.reflect.Field;

import org.junit.jupiter.api.Test;

/** {@link ZeekEndpoint} as a flyweight: its state is read and written in place, wherever it is wrapped. */
class ZeekEndpointTest
{
    private static final byte NEIGHBOUR = 0x5A;

    @Test
    void shouldKeepEveryFieldInItsBytes()
    {
        assertEquals(224, ZeekEndpoint.BYTES);
        assertEquals(ZeekEndpoint.BYTES, ZeekEndpoint.BLOCK_END_OFFSET + ZeekEndpoint.MAX_BLOCKS * Long.BYTES);
    }

    @Test
    void shouldReadAndWriteInPlaceWhereverItIsWrapped()
    {
        final ZeekEndpoint original = used();
        final int base = 40;
        final MemorySegment segment = Arena.ofAuto().allocate(base + ZeekEndpoint.BYTES + 16, 8);
        segment.fill(NEIGHBOUR);
        final ZeekEndpoint wrapped = new ZeekEndpoint();
        wrapped.wrap(segment, base);
        wrapped.copyFrom(original);
        assertArrayEquals(encode(original), encode(wrapped), "copied");

        final ZeekEndpoint other = new ZeekEndpoint();
        other.wrap(segment, base);
        assertArrayEquals(encode(original), encode(other), "a second flyweight on the same memory");
        other.finCount(7);
        assertEquals(7, wrapped.finCount(), "written through one, read through the other");

        wrapped.clear();
        assertArrayEquals(encode(new ZeekEndpoint()), encode(other), "cleared in place");
        for (int i = 0; i < segment.byteSize(); i++)
        {
            if (i < base || i >= base + ZeekEndpoint.BYTES)
            {
                assertEquals(NEIGHBOUR, segment.get(ValueLayout.JAVA_BYTE, i), "byte " + i + " outside the endpoint");
            }
        }
    }

    private static ZeekEndpoint used()
    {
        final ZeekEndpoint e = new ZeekEndpoint();
        e.isOrig(true);
        e.setState(ZeekEndpoint.SYN_SENT);
        e.setState(ZeekEndpoint.ESTABLISHED);
        e.initStart(-5);
        e.updateLastSeq(100);
        e.updateAckSeq(50);
        e.finCount(1);
        e.rstCount(2);
        e.finSeq(3000);
        e.didClose(true);
        e.historyLastSyn(-1);
        e.historyLastFin(3000);
        e.historyLastRst(4000);
        e.scaledCount(ZeekEndpoint.GAP, 11);
        e.scaledThreshold(ZeekEndpoint.GAP, 100);
        e.lastReassembled(1500);
        e.trimmed(1400);
        e.blockStart(ZeekEndpoint.MAX_BLOCKS - 1, 9000);
        e.blockEnd(ZeekEndpoint.MAX_BLOCKS - 1, 9100);
        e.blockCount(ZeekEndpoint.MAX_BLOCKS);
        e.skipDeliveries(true);
        e.missedBytes(1L << 40);
        return e;
    }

    /** The endpoint's state: the bytes of memory it is wrapped around. */
    private static byte[] encode(final ZeekEndpoint e)
    {
        try
        {
            final Field segment = Flyweight.class.getDeclaredField("segment");
            final Field base = Flyweight.class.getDeclaredField("base");
            segment.setAccessible(true);
            base.setAccessible(true);
            return ((MemorySegment)segment.get(e)).asSlice((Long)base.get(e), ZeekEndpoint.BYTES)
                .toArray(ValueLayout.JAVA_BYTE);
        }
        catch (final ReflectiveOperationException ex)
        {
            throw new AssertionError(ex);
        }
    }
}
