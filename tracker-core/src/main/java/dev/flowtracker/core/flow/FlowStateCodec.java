package dev.flowtracker.core.flow;

import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * One connection's whole state as checkpoint bytes: a restarted tracker decodes it and continues the connection
 * exactly where it stopped. The body is the flow's record itself ({@link TcpConnection#BYTES}, as a flow table
 * keeps it, in the machine's byte order), copied whole; no field is listed here or in the state classes, so a field
 * added to a layout is checkpointed with nothing more to write. The header, little-endian:
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +---------------------------------------------------------------+
 *  |                    Magic ("FTCS" as bytes)                    |
 *  +-------------------------------+-------------------------------+
 *  |        Format version         |       Body length (bytes)     |
 *  +-------------------------------+-------------------------------+
 *  |        Layout fingerprint (TcpConnection.LAYOUT_FINGERPRINT)  |
 *  +---------------------------------------------------------------+
 *  |                         Reserved (0)                          |
 *  +---------------------------------------------------------------+
 *  |            Body: the connection's record            ...
 *  +---------------------------------------------------------------+
 * </pre>
 *
 * <p>A checkpoint is read only by a build whose record layout is the same: the fingerprint covers every field's name,
 * width and place, the enums stored as ordinals and the byte order, so a build that changed any of them refuses the
 * checkpoint in one line rather than misreading it (as does one of another format version). Decoding also checks the
 * fields whose range is bounded (flags, enum ordinals, counts that index the record's arrays) and rejects corrupt
 * bytes naming the field.
 *
 * <p>Two things in the record are not restored as they were. {@code TcpConnection.scheduledTimerNanos} describes the
 * tracker's timer queue, not the connection: it decodes as "no timer queued" and {@link ConnectionTracker#restore}
 * queues the connection's earliest timer again (the Zeek timers' own deadlines are in the record). The
 * {@link ZeekOptions} are configuration shared by the tracker, not in the record: they decode as unset and
 * {@link ConnectionTracker#restore} binds the tracker's own.
 *
 * <p>Stateless; call it on the thread that owns the connection. Encoding and a successful decode allocate nothing.
 */
public final class FlowStateCodec
{
    /** "FTCS" (flow tracker connection state) when the first four bytes are read as ASCII. */
    static final int MAGIC = 0x5343_5446;
    /** 5: the body is the record's bytes, guarded by the layout fingerprint (4 listed every field). */
    static final int FORMAT_VERSION = 5;
    static final int VERSION_OFFSET = Integer.BYTES;
    static final int BODY_LENGTH_OFFSET = VERSION_OFFSET + Short.BYTES;
    static final int FINGERPRINT_OFFSET = BODY_LENGTH_OFFSET + Short.BYTES;
    static final int HEADER_BYTES = 4 * Integer.BYTES;
    static final int BODY_BYTES = TcpConnection.BYTES;

    /** Bytes one encoded connection takes. Every record is this long today; treat it as an upper bound. */
    public static final int MAX_ENCODED_BYTES = HEADER_BYTES + BODY_BYTES;

    /** Each thread's scratch record (encoding into or decoding from a buffer without an accessible array). */
    private static final ThreadLocal<byte[]> SCRATCH = ThreadLocal.withInitial(() -> new byte[MAX_ENCODED_BYTES]);

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
        final int position = dst.position();
        final ByteOrder order = dst.order();
        try
        {
            dst.order(ByteOrder.LITTLE_ENDIAN);
            dst.putInt(position, MAGIC);
            dst.putShort(position + VERSION_OFFSET, (short)FORMAT_VERSION);
            dst.putShort(position + BODY_LENGTH_OFFSET, (short)BODY_BYTES);
            dst.putInt(position + FINGERPRINT_OFFSET, TcpConnection.LAYOUT_FINGERPRINT);
            dst.putInt(position + FINGERPRINT_OFFSET + Integer.BYTES, 0);
        }
        finally
        {
            dst.order(order);
        }
        if (dst.hasArray() && !dst.isReadOnly())
        {
            connection.saveTo(dst.array(), dst.arrayOffset() + position + HEADER_BYTES);
        }
        else
        {
            final byte[] scratch = SCRATCH.get();
            connection.saveTo(scratch, 0);
            dst.put(position + HEADER_BYTES, scratch, 0, BODY_BYTES);
        }
        dst.position(position + MAX_ENCODED_BYTES);
        return MAX_ENCODED_BYTES;
    }

    /**
     * Reads one record at {@code src}'s position into {@code into}; {@code src}'s position moves past the record and
     * its byte order is left as it was. The result is not yet in any tracker: hand it to
     * {@link ConnectionTracker#restore}.
     *
     * @throws IllegalArgumentException naming the problem when the magic, format version or layout is not this
     *     build's, the record is truncated, or a field is out of range (corrupt input). {@code into} is then left
     *     cleared and {@code src}'s position unchanged.
     */
    public static void decode(final ByteBuffer src, final TcpConnection into)
    {
        final int start = src.position();
        try
        {
            checkHeader(src, start);
        }
        catch (final IllegalArgumentException ex)
        {
            into.clear();
            throw ex;
        }
        if (src.hasArray())
        {
            into.restoreFrom(src.array(), src.arrayOffset() + start + HEADER_BYTES);
        }
        else
        {
            final byte[] scratch = SCRATCH.get();
            src.get(start + HEADER_BYTES, scratch, 0, BODY_BYTES);
            into.restoreFrom(scratch, 0);
        }
        src.position(start + MAX_ENCODED_BYTES);
    }

    private static void checkHeader(final ByteBuffer src, final int start)
    {
        final int remaining = src.limit() - start;
        if (remaining < HEADER_BYTES)
        {
            throw new IllegalArgumentException(
                "truncated connection state: " + remaining + " bytes, the header alone needs " + HEADER_BYTES);
        }
        final ByteOrder order = src.order();
        try
        {
            src.order(ByteOrder.LITTLE_ENDIAN);
            checkHeader(src.getInt(start), src.getShort(start + VERSION_OFFSET) & 0xFFFF,
                src.getShort(start + BODY_LENGTH_OFFSET) & 0xFFFF, src.getInt(start + FINGERPRINT_OFFSET), remaining);
        }
        finally
        {
            src.order(order);
        }
    }

    private static void checkHeader(
        final int magic, final int version, final int bodyLength, final int fingerprint, final int remaining)
    {
        if (magic != MAGIC)
        {
            throw new IllegalArgumentException(
                "not a connection state record: magic 0x" + Integer.toHexString(magic) + ", expected 0x" +
                Integer.toHexString(MAGIC));
        }
        if (version != FORMAT_VERSION)
        {
            throw new IllegalArgumentException(
                "unsupported connection state format version " + version + ", this build reads " + FORMAT_VERSION);
        }
        if (bodyLength != BODY_BYTES)
        {
            throw new IllegalArgumentException(
                "connection state body length " + bodyLength + " does not match this build's record (" + BODY_BYTES +
                " bytes): written by a build with another state layout");
        }
        if (fingerprint != TcpConnection.LAYOUT_FINGERPRINT)
        {
            throw new IllegalArgumentException(
                "connection state written by a build with another state layout (fingerprint " +
                Integer.toHexString(fingerprint) + ", this build " +
                Integer.toHexString(TcpConnection.LAYOUT_FINGERPRINT) + "): it cannot be restored");
        }
        if (remaining < HEADER_BYTES + bodyLength)
        {
            throw new IllegalArgumentException(
                "truncated connection state: " + remaining + " bytes of " + (HEADER_BYTES + bodyLength));
        }
    }
}
