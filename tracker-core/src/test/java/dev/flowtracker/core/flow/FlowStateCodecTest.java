package dev.flowtracker.core.flow;

import com.sun.management.ThreadMXBean;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.zeek.ZeekInternals;
import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.function.Consumer;

import static dev.flowtracker.core.flow.CodecTestSupport.NOT_ENCODED;
import static dev.flowtracker.core.flow.CodecTestSupport.encode;
import static dev.flowtracker.core.flow.CodecTestSupport.handshaken;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link FlowStateCodec}'s byte-level format: records of exactly {@code MAX_ENCODED_BYTES} written at the buffer's
 * position in either byte order, and corrupt input refused naming the problem (buffer too small, magic, format
 * version, state layout, body length, every truncation, out-of-range values) with the target left cleared;
 * and encode, decode and clear without allocating. The field-by-field walk is in {@code FlowStateFieldWalkTest},
 * restoring trackers from checkpoints in {@code FlowStateRestoreTest}.
 */
class FlowStateCodecTest
{
    // ================================================================ buffers and corrupt input

    @Test
    void shouldWriteExactlyMaxEncodedBytesAtThePositionAndKeepTheByteOrder()
    {
        final TcpConnection connection = handshaken();
        final ByteBuffer buffer = ByteBuffer.allocate(7 + 2 * FlowStateCodec.MAX_ENCODED_BYTES);
        buffer.position(7);
        assertEquals(FlowStateCodec.MAX_ENCODED_BYTES, FlowStateCodec.encode(connection, buffer));
        assertEquals(FlowStateCodec.MAX_ENCODED_BYTES, FlowStateCodec.encode(new TcpConnection(), buffer));
        assertEquals(7 + 2 * FlowStateCodec.MAX_ENCODED_BYTES, buffer.position());
        assertEquals(ByteOrder.BIG_ENDIAN, buffer.order());
        assertEquals(FlowStateCodec.MAGIC, Integer.reverseBytes(buffer.getInt(7)), "little-endian magic");

        buffer.flip().position(7);
        final TcpConnection first = new TcpConnection();
        final TcpConnection second = handshaken();
        FlowStateCodec.decode(buffer, first);
        FlowStateCodec.decode(buffer, second);
        assertFalse(buffer.hasRemaining());
        assertEquals(ByteOrder.BIG_ENDIAN, buffer.order());
        StateComparison.assertDeepEquals(connection, first, "first record", NOT_ENCODED);
        StateComparison.assertDeepEquals(new TcpConnection(), second, "second record");
    }

    @Test
    void shouldRejectABufferTooSmallToEncodeInto()
    {
        final ByteBuffer small = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES - 1);
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> FlowStateCodec.encode(new TcpConnection(), small));
        assertTrue(ex.getMessage().contains("buffer too small"), ex.getMessage());
        assertEquals(0, small.position());
    }

    @Test
    void shouldRejectWrongMagic()
    {
        final byte[] bytes = encode(handshaken());
        bytes[0] ^= 0x20;
        assertRejected(bytes, "magic");
    }

    @Test
    void shouldRejectAnotherFormatVersion()
    {
        final byte[] bytes = encode(handshaken());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
            .putShort(FlowStateCodec.VERSION_OFFSET, (short)(FlowStateCodec.FORMAT_VERSION + 1));
        assertRejected(bytes, "format version " + (FlowStateCodec.FORMAT_VERSION + 1));
    }

    /** A checkpoint of the previous format is refused in one line that names both versions, not misread. */
    @Test
    void shouldRejectACheckpointOfThePreviousFormatVersionInOneLine()
    {
        final byte[] bytes = encode(handshaken());
        final int previous = FlowStateCodec.FORMAT_VERSION - 1;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putShort(FlowStateCodec.VERSION_OFFSET, (short)previous);
        assertRejected(bytes, "unsupported connection state format version " + previous + ", this build reads " +
            FlowStateCodec.FORMAT_VERSION);
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> FlowStateCodec.decode(ByteBuffer.wrap(bytes), new TcpConnection()));
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
    }

    /** A checkpoint of a build that lays the record out otherwise is refused in one line, not misread. */
    @Test
    void shouldRejectACheckpointOfAnotherStateLayoutInOneLine()
    {
        final byte[] bytes = encode(handshaken());
        final int other = TcpConnection.LAYOUT_FINGERPRINT ^ 0x10;
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).putInt(FlowStateCodec.FINGERPRINT_OFFSET, other);
        assertRejected(bytes, "connection state written by a build with another state layout (fingerprint " +
            Integer.toHexString(other) + ", this build " + Integer.toHexString(TcpConnection.LAYOUT_FINGERPRINT));
        final IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
            () -> FlowStateCodec.decode(ByteBuffer.wrap(bytes), new TcpConnection()));
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
    }

    @Test
    void shouldRejectABodyLengthOtherThanTheFormats()
    {
        final byte[] bytes = encode(handshaken());
        ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN)
            .putShort(FlowStateCodec.BODY_LENGTH_OFFSET, (short)(FlowStateCodec.BODY_BYTES - 8));
        assertRejected(bytes, "body length");
    }

    @Test
    void shouldRejectEveryTruncation()
    {
        final byte[] bytes = encode(handshaken());
        for (int length = 0; length < bytes.length; length++)
        {
            assertRejected(Arrays.copyOf(bytes, length), "truncated");
        }
    }

    @Test
    void shouldRejectOutOfRangeEnumsBooleansAndCounts()
    {
        assertRejectedAt(c -> c.endReason(EndReason.FIN), (byte)EndReason.values().length,
            "TcpConnection.endReason");
        assertRejectedAt(c -> c.b.state(TcpState.LISTEN), (byte)TcpState.values().length, "TcpEndpoint.state");
        assertRejectedAt(c -> c.reusedPorts(true), (byte)2, "TcpConnection.reusedPorts");
        assertRejectedAt(c -> ZeekInternals.setStateA(c.zeek, ZeekInternals.SYN_SENT), (byte)(ZeekInternals.RESET + 1),
            "ZeekEndpoint.state");
        assertRejectedAt(c -> ZeekInternals.setBlockCountB(c.zeek, 1), (byte)(ZeekInternals.MAX_BLOCKS + 1),
            "ZeekEndpoint.blockCount");
        assertRejectedAt(c -> ZeekInternals.setOrigB(c.zeek), (byte)-1, "ZeekSummary.orig");
    }

    /** Finds the byte that {@code change} alters, puts {@code bad} there, and expects {@code field} named. */
    private static void assertRejectedAt(
        final Consumer<TcpConnection> change, final byte bad, final String field)
    {
        final byte[] fresh = encode(new TcpConnection());
        final TcpConnection changed = new TcpConnection();
        change.accept(changed);
        final byte[] bytes = encode(changed);
        final int offset = Arrays.mismatch(fresh, bytes);
        assertTrue(offset >= 0, field);
        bytes[offset] = bad;
        assertRejected(bytes, field);
    }

    /** Decoding fails naming the problem, leaves the target cleared and the buffer's position where it was. */
    private static void assertRejected(final byte[] bytes, final String expected)
    {
        final ByteBuffer src = ByteBuffer.wrap(bytes);
        final TcpConnection into = handshaken();
        final IllegalArgumentException ex =
            assertThrows(IllegalArgumentException.class, () -> FlowStateCodec.decode(src, into));
        assertTrue(ex.getMessage().contains(expected), () -> "'" + ex.getMessage() + "' should say " + expected);
        assertEquals(0, src.position());
        StateComparison.assertDeepEquals(new TcpConnection(), into, "after " + ex.getMessage());
    }

    // ================================================================ allocation

    @Test
    void shouldEncodeDecodeAndClearWithoutAllocating()
    {
        final ThreadMXBean threads = (ThreadMXBean)ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "JVM cannot measure allocation");
        threads.setThreadAllocatedMemoryEnabled(true);
        final TcpConnection connection = handshaken();
        final TcpConnection into = new TcpConnection();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(FlowStateCodec.MAX_ENCODED_BYTES);
        cycle(connection, into, buffer, 20_000); // warm-up
        final long threadId = Thread.currentThread().threadId();
        final long before = threads.getThreadAllocatedBytes(threadId);
        cycle(connection, into, buffer, 50_000);
        final long allocated = threads.getThreadAllocatedBytes(threadId) - before;
        // One allocation per cycle would be 800 KB or more.
        assertTrue(allocated < 64 * 1024, () -> "allocated " + allocated + " bytes for 50,000 cycles");
    }

    private static void cycle(
        final TcpConnection connection, final TcpConnection into, final ByteBuffer buffer, final int count)
    {
        for (int i = 0; i < count; i++)
        {
            buffer.clear();
            FlowStateCodec.encode(connection, buffer);
            buffer.flip();
            FlowStateCodec.decode(buffer, into);
            into.clear();
        }
    }
}
