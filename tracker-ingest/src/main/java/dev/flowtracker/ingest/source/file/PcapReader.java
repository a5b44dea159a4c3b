package dev.flowtracker.ingest.source.file;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Classic libpcap files: both byte orders, microsecond and nanosecond magic. Records are handed out in place.
 * <pre>
 * File header (24 bytes)                   Record header (16 bytes), then incl_len bytes of frame
 * +--------+-------+-------+--------+      +---------+----------+----------+----------+
 * | magic  | major | minor | (8 B)  |      | ts_sec  | ts_frac  | incl_len | orig_len |
 * +--------+-------+-------+--------+      +---------+----------+----------+----------+
 * | snaplen        | linktype       |
 * +----------------+----------------+
 * </pre>
 * Owned by the reading thread.
 */
public final class PcapReader implements CaptureReader
{
    public static final int MAGIC_MICROSECONDS = 0xA1B2C3D4;
    public static final int MAGIC_NANOSECONDS = 0xA1B23C4D;
    public static final int FILE_HEADER_LENGTH = 24;
    public static final int RECORD_HEADER_LENGTH = 16;
    /** Largest record accepted (Wireshark's limit for standard link types); above it the file is corrupt. */
    public static final int MAX_RECORD_LENGTH = 262_144;

    private final String name;
    private final CaptureInput input;
    private final boolean bigEndian;
    private final long fractionToNanos;
    private final int linkType;
    private long position = FILE_HEADER_LENGTH;
    /** Every frame read, in turn. */
    private final FrameDescriptor frame = new FrameDescriptor();

    public PcapReader(final String name, final CaptureInput input) throws IOException
    {
        this.name = name;
        this.input = input;
        final long header = input.require(0, FILE_HEADER_LENGTH);
        if (header < 0)
        {
            throw new CaptureFormatException(name, 0, "file too short for a pcap header");
        }
        final MemorySegment segment = input.segment();
        final int magicBigEndian = Bytes.i32(segment, header, true);
        final int magicLittleEndian = Bytes.i32(segment, header, false);
        if (magicBigEndian == MAGIC_MICROSECONDS || magicBigEndian == MAGIC_NANOSECONDS)
        {
            bigEndian = true;
        }
        else if (magicLittleEndian == MAGIC_MICROSECONDS || magicLittleEndian == MAGIC_NANOSECONDS)
        {
            bigEndian = false;
        }
        else
        {
            throw new CaptureFormatException(name, 0, "not a pcap file (bad magic)");
        }
        final int magic = bigEndian ? magicBigEndian : magicLittleEndian;
        fractionToNanos = magic == MAGIC_NANOSECONDS ? 1 : 1000;
        final int major = Bytes.u16(segment, header + 4, bigEndian);
        if (major != 2)
        {
            throw new CaptureFormatException(name, 4, "unsupported pcap version " + major);
        }
        // The upper 16 bits of the link-type field carry FCS information, not the type (as libpcap reads it).
        linkType = (int)(Bytes.u32(segment, header + 20, bigEndian) & 0xFFFF);
    }

    public int linkType()
    {
        return linkType;
    }

    @Override
    public int read(final FrameSink sink, final int limit) throws IOException
    {
        int delivered = 0;
        while (delivered < limit)
        {
            final long header = input.require(position, RECORD_HEADER_LENGTH);
            if (header < 0)
            {
                if (input.isEndOfInput(position))
                {
                    return delivered;
                }
                throw new CaptureFormatException(name, position, "file cut short in the middle of a record header");
            }
            MemorySegment segment = input.segment();
            final long seconds = Bytes.u32(segment, header, bigEndian);
            final long fraction = Bytes.u32(segment, header + 4, bigEndian);
            final long capturedLength = Bytes.u32(segment, header + 8, bigEndian);
            final long wireLength = Bytes.u32(segment, header + 12, bigEndian);
            // Fixed bound, whatever the header's snaplen says: a corrupt length must not size a buffer.
            if (capturedLength > MAX_RECORD_LENGTH)
            {
                throw new CaptureFormatException(name, position,
                    "corrupt record: captured length " + capturedLength + " exceeds the maximum of " +
                    MAX_RECORD_LENGTH);
            }
            final long data = input.require(position + RECORD_HEADER_LENGTH, (int)capturedLength);
            if (data < 0)
            {
                throw new CaptureFormatException(name, position, "file cut short in the middle of a packet");
            }
            segment = input.segment();
            final long timestampNanos = seconds * 1_000_000_000L + fraction * fractionToNanos;
            final int wire = (int)Math.min(Integer.MAX_VALUE, Math.max(wireLength, capturedLength));
            position += RECORD_HEADER_LENGTH + capturedLength;
            sink.onFrame(frame.wrap(segment, data, (int)capturedLength, wire)
                .linkType(linkType).timestampNanos(timestampNanos).interfaceId(0));
            delivered++;
        }
        return delivered;
    }

    @Override
    public long progressPosition()
    {
        return input.progressPosition(position);
    }

    @Override
    public long progressTotal()
    {
        return input.progressTotal();
    }

    @Override
    public String releaseFailure()
    {
        return input.releaseFailure();
    }

    @Override
    public void close() throws IOException
    {
        input.close();
    }
}
