package dev.flowtracker.core.flow;

import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Binary form of one connection's whole state, for checkpoints: a restarted tracker decodes it and continues the
 * connection exactly where it stopped. A flow table keeps its flows' state in records of its own ({@link
 * FlowStateStore}); this form is independent of their layout, so a checkpoint survives a change of it.
 * Little-endian, fixed width:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    Magic ("FTCS" as bytes)                    |
 *  +-------------------------------+-------------------------------+
 *  |        Format version         |       Body length (bytes)     |
 *  +-------------------------------+-------------------------------+
 *  |            Body: TcpConnection, its TcpEndpoints a and b,    ...
 *  |            then ZeekSummary with its ZeekEndpoints a and b   ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * Each state class writes its own fields in declaration order ({@code encode}/{@code decode} beside its fields):
 * booleans as one byte (0 or 1), enums and small bounded counts as one unsigned byte (ordinal 255 for a null
 * {@link EndReason}), everything else at its Java width. Arrays are written whole, including ring and block slots
 * no longer live, so a decoded connection equals the original field for field.
 *
 * <p>Two fields are deliberately not encoded. {@code TcpConnection.scheduledTimerNanos} describes the tracker's
 * timer queue, not the connection: it decodes as "no timer queued" and {@link ConnectionTracker#restore} queues the
 * connection's earliest timer again (the Zeek timers' own deadlines are in the record). The {@link ZeekOptions} are
 * configuration shared by the tracker: they decode as null and {@link ConnectionTracker#restore} binds the
 * tracker's own.
 *
 * <p>Stateless; call it on the thread that owns the connection. Encoding and a successful decode allocate nothing.
 */
public final class FlowStateCodec
{
    /** "FTCS" (flow tracker connection state) when the first four bytes are read as ASCII. */
    static final int MAGIC = 0x5343_5446;
    /** Bump when any state class changes its field list; old checkpoints are then rejected, not misread. */
    static final int FORMAT_VERSION = 4;
    static final int HEADER_BYTES = 2 * Integer.BYTES;
    static final int VERSION_OFFSET = Integer.BYTES;
    static final int BODY_LENGTH_OFFSET = VERSION_OFFSET + Short.BYTES;
    static final int BODY_BYTES = TcpConnection.ENCODED_BYTES;

    /** Bytes one encoded connection takes. Every record is this long today; treat it as an upper bound. */
    public static final int MAX_ENCODED_BYTES = HEADER_BYTES + BODY_BYTES;

    /** Each thread's scratch record (encoding into or decoding from a buffer without an accessible array). */
    private static final ThreadLocal<StateBuffer> SCRATCH =
        ThreadLocal.withInitial(() -> new StateBuffer(new byte[MAX_ENCODED_BYTES]));

    private FlowStateCodec()
    {
    }

    /**
     * Writes {@code connection} at {@code dst}'s position, which moves past the record. {@code dst}'s byte order is
     * left as it was.
     *
     * @return the bytes written.
     * @throws IllegalArgumentException when fewer than {@link #MAX_ENCODED_BYTES} bytes remain in {@code dst}.
     */
    public static int encode(final TcpConnection connection, final ByteBuffer dst)
    {
        if (dst.remaining() < MAX_ENCODED_BYTES)
        {
            throw new IllegalArgumentException(
                "buffer too small: " + dst.remaining() + " bytes remain, a connection needs " + MAX_ENCODED_BYTES);
        }
        final StateBuffer scratch = SCRATCH.get();
        final boolean inPlace = dst.hasArray() && !dst.isReadOnly();
        final int start = inPlace ? dst.arrayOffset() + dst.position() : 0;
        final StateBuffer out = inPlace ? scratch.wrap(dst.array(), start) : scratch.wrap(scratch.array(), 0);
        try
        {
            out.putInt(MAGIC);
            out.putInt(FORMAT_VERSION | BODY_BYTES << 16);
            connection.encode(out);
            checkLength(out.position() - start);
            if (!inPlace)
            {
                dst.put(dst.position(), out.array(), 0, MAX_ENCODED_BYTES);
            }
            dst.position(dst.position() + MAX_ENCODED_BYTES);
        }
        finally
        {
            scratch.wrap(scratch.array(), 0); // do not keep the caller's array
        }
        return MAX_ENCODED_BYTES;
    }

    /**
     * Reads one record at {@code src}'s position into {@code into}, which is cleared first; {@code src}'s position
     * moves past the record and its byte order is left as it was. The result is not yet in any tracker: hand it to
     * {@link ConnectionTracker#restore}.
     *
     * @throws IllegalArgumentException naming the problem when the magic or format version is wrong, the record is
     *     truncated, or a field is out of range (corrupt input). {@code into} is then left cleared and {@code src}'s
     *     position unchanged.
     */
    public static void decode(final ByteBuffer src, final TcpConnection into)
    {
        into.clear();
        final int start = src.position();
        final ByteOrder order = src.order();
        final StateBuffer scratch = SCRATCH.get();
        try
        {
            src.order(ByteOrder.LITTLE_ENDIAN);
            checkHeader(src, start);
            final StateBuffer in;
            final int bodyStart;
            if (src.hasArray())
            {
                bodyStart = src.arrayOffset() + start + HEADER_BYTES;
                in = scratch.wrap(src.array(), bodyStart);
            }
            else
            {
                src.get(start + HEADER_BYTES, scratch.array(), 0, BODY_BYTES);
                bodyStart = 0;
                in = scratch.wrap(scratch.array(), 0);
            }
            into.decode(in);
            checkLength(HEADER_BYTES + in.position() - bodyStart);
            src.position(start + MAX_ENCODED_BYTES);
        }
        catch (final IllegalArgumentException ex)
        {
            into.clear();
            src.position(start);
            throw ex;
        }
        finally
        {
            src.order(order);
            scratch.wrap(scratch.array(), 0); // do not keep the caller's array
        }
    }

    private static void checkHeader(final ByteBuffer src, final int start)
    {
        final int remaining = src.limit() - start;
        if (remaining < HEADER_BYTES)
        {
            throw new IllegalArgumentException(
                "truncated connection state: " + remaining + " bytes, the header alone needs " + HEADER_BYTES);
        }
        final int magic = src.getInt(start);
        if (magic != MAGIC)
        {
            throw new IllegalArgumentException(
                "not a connection state record: magic 0x" + Integer.toHexString(magic) + ", expected 0x" +
                Integer.toHexString(MAGIC));
        }
        final int version = src.getShort(start + VERSION_OFFSET) & 0xFFFF;
        if (version != FORMAT_VERSION)
        {
            throw new IllegalArgumentException(
                "unsupported connection state format version " + version + ", this build reads " + FORMAT_VERSION);
        }
        final int bodyLength = src.getShort(start + BODY_LENGTH_OFFSET) & 0xFFFF;
        if (bodyLength != BODY_BYTES)
        {
            throw new IllegalArgumentException(
                "connection state body length " + bodyLength + " does not match format version " + FORMAT_VERSION +
                " (" + BODY_BYTES + " bytes)");
        }
        if (remaining < HEADER_BYTES + bodyLength)
        {
            throw new IllegalArgumentException(
                "truncated connection state: " + remaining + " bytes of " + (HEADER_BYTES + bodyLength));
        }
    }

    /** A state class whose field list and {@code ENCODED_BYTES} disagree: a bug, not bad input. */
    private static void checkLength(final int length)
    {
        if (length != MAX_ENCODED_BYTES)
        {
            throw new IllegalStateException(
                "connection state took " + length + " bytes, the format says " + MAX_ENCODED_BYTES);
        }
    }
}
