package dev.flowtracker.ingest.source.file;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes classic libpcap files for tests: either byte order, microsecond or nanosecond magic, any version, snaplen
 * and link-type field, and records whose captured length is below their original length. Also writes the raw pieces
 * (a bare record header, arbitrary bytes) that corrupt files are made of.
 */
public final class PcapTestWriter
{
    public static final int MAGIC_MICROSECONDS = 0xA1B2C3D4;
    public static final int MAGIC_NANOSECONDS = 0xA1B23C4D;
    public static final int LINKTYPE_ETHERNET = 1;
    public static final int LINKTYPE_RAW = 101;
    public static final int FILE_HEADER_LENGTH = 24;
    public static final int RECORD_HEADER_LENGTH = 16;

    private final EndianBuffer out;

    /** A version 2.4 file. */
    public PcapTestWriter(
        final boolean bigEndian, final boolean nanoseconds, final long snaplen, final long linkTypeField)
    {
        this(bigEndian, nanoseconds ? MAGIC_NANOSECONDS : MAGIC_MICROSECONDS, 2, 4, snaplen, linkTypeField);
    }

    public PcapTestWriter(final boolean bigEndian, final int magic, final int major, final int minor,
        final long snaplen, final long linkTypeField)
    {
        out = new EndianBuffer(bigEndian);
        out.u32(magic).u16(major).u16(minor).u32(0).u32(0).u32(snaplen).u32(linkTypeField);
    }

    /** Little-endian, microseconds, snaplen 65535, Ethernet. */
    public static PcapTestWriter ethernet()
    {
        return new PcapTestWriter(false, false, 65_535, LINKTYPE_ETHERNET);
    }

    /** A record holding all of {@code frame}. */
    public PcapTestWriter record(final long seconds, final long fraction, final byte[] frame)
    {
        return record(seconds, fraction, frame, frame.length);
    }

    /** A record holding all of {@code frame}, which had {@code originalLength} bytes on the wire. */
    public PcapTestWriter record(final long seconds, final long fraction, final byte[] frame, final long originalLength)
    {
        recordHeader(seconds, fraction, frame.length, originalLength);
        out.bytes(frame);
        return this;
    }

    /** A record header only, with any lengths (the data, if any, follows through {@link #raw}). */
    public PcapTestWriter recordHeader(final long seconds, final long fraction, final long capturedLength,
        final long originalLength)
    {
        out.u32(seconds).u32(fraction).u32(capturedLength).u32(originalLength);
        return this;
    }

    public PcapTestWriter raw(final byte[] bytes)
    {
        out.bytes(bytes);
        return this;
    }

    /** Bytes written so far: the file offset of whatever is written next. */
    public int length()
    {
        return out.length();
    }

    public byte[] toByteArray()
    {
        return out.toByteArray();
    }

    public Path writeTo(final Path file) throws IOException
    {
        return Files.write(file, toByteArray());
    }
}
