package dev.flowtracker.bench.capture;

import java.io.BufferedOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes a classic pcap file (little-endian, microsecond or nanosecond timestamps) record by record through a
 * buffer: nothing but the buffer is held, so captures of any size stream to disk. Owned by one thread.
 *
 * <pre>
 *   file header (24 bytes)                          record header (16 bytes), then incl_len frame bytes
 *  +-------+-----+-----+--------+--------+----------+   +---------+-----------+----------+----------+
 *  | magic | 2.4 | tz 0| sigfigs| snaplen| linktype |   | ts_sec  | ts_usec/ns| incl_len | orig_len |
 *  +-------+-----+-----+--------+--------+----------+   +---------+-----------+----------+----------+
 * </pre>
 */
public final class PcapWriter implements FrameOutput, Closeable
{
    /** Magic of microsecond files, as written little-endian. */
    public static final int MAGIC_MICROSECONDS = 0xA1B2_C3D4;
    /** Magic of nanosecond files. */
    public static final int MAGIC_NANOSECONDS = 0xA1B2_3C4D;
    public static final int FILE_HEADER_LENGTH = 24;
    public static final int RECORD_HEADER_LENGTH = 16;
    private static final int BUFFER_BYTES = 1 << 20;

    private final OutputStream out;
    private final ByteBuffer header = ByteBuffer.allocate(FILE_HEADER_LENGTH).order(ByteOrder.LITTLE_ENDIAN);
    private final boolean nanoseconds;
    private final int snapLength;
    private long records;
    private long bytes;

    /**
     * @param snapLength  the file's snapshot length; no record may capture more.
     * @param nanoseconds nanosecond timestamps (else microseconds: timestamps are truncated to whole µs).
     */
    public PcapWriter(final Path file, final int linkType, final int snapLength, final boolean nanoseconds)
        throws IOException
    {
        this(new BufferedOutputStream(Files.newOutputStream(file), BUFFER_BYTES), linkType, snapLength, nanoseconds);
    }

    public PcapWriter(final OutputStream out, final int linkType, final int snapLength, final boolean nanoseconds)
        throws IOException
    {
        this.out = out;
        this.nanoseconds = nanoseconds;
        this.snapLength = snapLength;
        header.putInt(nanoseconds ? MAGIC_NANOSECONDS : MAGIC_MICROSECONDS).putShort((short)2).putShort((short)4)
            .putInt(0).putInt(0).putInt(snapLength).putInt(linkType);
        out.write(header.array(), 0, FILE_HEADER_LENGTH);
        bytes = FILE_HEADER_LENGTH;
    }

    /**
     * Appends one record.
     *
     * @param capturedLength bytes of {@code frame} from {@code offset} to write (at most the snapshot length).
     * @param wireLength     the frame's length on the wire (at least {@code capturedLength}).
     */
    @Override
    public void write(
        final long timestampNanos, final byte[] frame, final int offset, final int capturedLength,
        final int wireLength) throws IOException
    {
        if (capturedLength < 0 || capturedLength > snapLength || wireLength < capturedLength)
        {
            throw new IllegalArgumentException("captured " + capturedLength + " of " + wireLength +
                " bytes, snapshot length " + snapLength);
        }
        if (timestampNanos < 0)
        {
            throw new IllegalArgumentException("timestamp before 1970: " + timestampNanos);
        }
        final long seconds = timestampNanos / 1_000_000_000L;
        final long fraction = timestampNanos % 1_000_000_000L;
        header.clear();
        header.putInt((int)seconds).putInt((int)(nanoseconds ? fraction : fraction / 1_000))
            .putInt(capturedLength).putInt(wireLength);
        out.write(header.array(), 0, RECORD_HEADER_LENGTH);
        out.write(frame, offset, capturedLength);
        records++;
        bytes += RECORD_HEADER_LENGTH + capturedLength;
    }

    /** Records written so far. */
    public long records()
    {
        return records;
    }

    /** File bytes written so far (headers included). */
    public long bytes()
    {
        return bytes;
    }

    @Override
    public void close() throws IOException
    {
        out.close();
    }
}
