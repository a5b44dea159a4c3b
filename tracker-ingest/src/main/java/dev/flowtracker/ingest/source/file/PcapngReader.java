package dev.flowtracker.ingest.source.file;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * pcapng files: any number of sections (each with its own byte order), Interface Description Blocks with their
 * link type, {@code if_tsresol} and {@code if_tsoffset}, and Enhanced, Simple and (obsolete) Packet Blocks.
 * Other blocks are skipped by their length. Every length is checked against its block before use.
 * <pre>
 * Every block:
 * +---------------------------------------------------------------+
 * |                          Block Type                           |
 * |                      Block Total Length                       |
 * /                          Block Body                           /
 * |                      Block Total Length                       |
 * +---------------------------------------------------------------+
 * </pre>
 * Owned by the reading thread.
 */
public final class PcapngReader implements CaptureReader
{
    public static final int SECTION_HEADER_BLOCK = 0x0A0D0D0A;
    public static final int INTERFACE_DESCRIPTION_BLOCK = 1;
    public static final int PACKET_BLOCK = 2;
    public static final int SIMPLE_PACKET_BLOCK = 3;
    public static final int ENHANCED_PACKET_BLOCK = 6;
    public static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;
    /** Largest block accepted; larger lengths mean a corrupt file (Wireshark uses a similar bound). */
    public static final int MAX_BLOCK_LENGTH = 16 * 1024 * 1024 + 1024;

    private static final int MIN_BLOCK_LENGTH = 12;
    private static final int OPTION_END = 0;
    private static final int OPTION_IF_TSRESOL = 9;
    private static final int OPTION_IF_TSOFFSET = 14;
    private static final int MAX_INTERFACES = 65_536;

    private final String name;
    private final CaptureInput input;
    private boolean bigEndian;
    private long position;
    /** Every frame read, in turn. */
    private final FrameDescriptor frame = new FrameDescriptor();

    // Per interface of the current section.
    private int interfaceCount;
    private int[] linkTypes = new int[8];
    private int[] snapLengths = new int[8];
    /** Timestamp unit: units per second, as a power of ten (decimal) or of two (binary). */
    private int[] resolutionExponents = new int[8];
    private boolean[] binaryResolution = new boolean[8];
    private long[] offsetSeconds = new long[8];

    public PcapngReader(final String name, final CaptureInput input) throws IOException
    {
        this.name = name;
        this.input = input;
        final long first = input.require(0, MIN_BLOCK_LENGTH);
        if (first < 0 || Bytes.i32(input.segment(), first, true) != SECTION_HEADER_BLOCK)
        {
            throw new CaptureFormatException(name, 0, "not a pcapng file (no section header block)");
        }
    }

    @Override
    public int read(final FrameSink sink, final int limit) throws IOException
    {
        int delivered = 0;
        while (delivered < limit)
        {
            final long blockStart = position;
            final long header = input.require(blockStart, 8);
            if (header < 0)
            {
                if (input.isEndOfInput(blockStart))
                {
                    return delivered;
                }
                throw new CaptureFormatException(name, blockStart, "file cut short in the middle of a block header");
            }
            final int typeBigEndian = Bytes.i32(input.segment(), header, true);
            if (typeBigEndian == SECTION_HEADER_BLOCK)
            {
                readSectionHeader(blockStart);
                continue;
            }
            final int type = Bytes.i32(input.segment(), header, bigEndian);
            final long blockLength = Bytes.u32(input.segment(), header + 4, bigEndian);
            checkBlockLength(blockStart, blockLength);
            final long block = input.require(blockStart, (int)blockLength);
            if (block < 0)
            {
                throw new CaptureFormatException(name, blockStart, "file cut short in the middle of a block");
            }
            checkTrailingLength(block, blockStart, blockLength);
            position = blockStart + blockLength;
            switch (type)
            {
                case INTERFACE_DESCRIPTION_BLOCK -> readInterface(block, blockStart, blockLength);
                case ENHANCED_PACKET_BLOCK ->
                {
                    deliverPacket(sink, block, blockStart, blockLength, true);
                    delivered++;
                }
                case SIMPLE_PACKET_BLOCK ->
                {
                    deliverSimple(sink, block, blockStart, blockLength);
                    delivered++;
                }
                case PACKET_BLOCK ->
                {
                    deliverPacket(sink, block, blockStart, blockLength, false);
                    delivered++;
                }
                default ->
                {
                    // Unknown or uninteresting block (name resolution, statistics, ...): skipped by length.
                }
            }
        }
        return delivered;
    }

    private void readSectionHeader(final long blockStart) throws IOException
    {
        final long header = input.require(blockStart, MIN_BLOCK_LENGTH + 16);
        if (header < 0)
        {
            throw new CaptureFormatException(name, blockStart, "file cut short in a section header block");
        }
        final MemorySegment segment = input.segment();
        if (Bytes.i32(segment, header + 8, true) == BYTE_ORDER_MAGIC)
        {
            bigEndian = true;
        }
        else if (Bytes.i32(segment, header + 8, false) == BYTE_ORDER_MAGIC)
        {
            bigEndian = false;
        }
        else
        {
            throw new CaptureFormatException(name, blockStart + 8, "bad byte-order magic in section header block");
        }
        final int major = Bytes.u16(segment, header + 12, bigEndian);
        if (major != 1)
        {
            throw new CaptureFormatException(name, blockStart + 12, "unsupported pcapng version " + major);
        }
        final long blockLength = Bytes.u32(segment, header + 4, bigEndian);
        checkBlockLength(blockStart, blockLength);
        if (blockLength < 28)
        {
            throw new CaptureFormatException(name, blockStart, "section header block too short (" + blockLength + ")");
        }
        final long block = input.require(blockStart, (int)blockLength);
        if (block < 0)
        {
            throw new CaptureFormatException(name, blockStart, "file cut short in a section header block");
        }
        checkTrailingLength(block, blockStart, blockLength);
        walkOptions(block, blockStart, 24, blockLength, -1);
        position = blockStart + blockLength;
        interfaceCount = 0;
    }

    private void readInterface(final long block, final long blockStart, final long blockLength) throws IOException
    {
        if (blockLength < 20)
        {
            throw new CaptureFormatException(name, blockStart, "interface description block too short");
        }
        if (interfaceCount == MAX_INTERFACES)
        {
            throw new CaptureFormatException(name, blockStart, "more than " + MAX_INTERFACES + " interfaces");
        }
        if (interfaceCount == linkTypes.length)
        {
            final int grown = interfaceCount * 2;
            linkTypes = Arrays.copyOf(linkTypes, grown);
            snapLengths = Arrays.copyOf(snapLengths, grown);
            resolutionExponents = Arrays.copyOf(resolutionExponents, grown);
            binaryResolution = Arrays.copyOf(binaryResolution, grown);
            offsetSeconds = Arrays.copyOf(offsetSeconds, grown);
        }
        final MemorySegment segment = input.segment();
        final int id = interfaceCount++;
        linkTypes[id] = Bytes.u16(segment, block + 8, bigEndian);
        snapLengths[id] = (int)Math.min(Integer.MAX_VALUE, Bytes.u32(segment, block + 12, bigEndian));
        resolutionExponents[id] = 6;
        binaryResolution[id] = false;
        offsetSeconds[id] = 0;
        walkOptions(block, blockStart, 16, blockLength, id);
    }

    /** Checks that every option fits its block; records the interface options that matter. */
    private void walkOptions(
        final long block, final long blockStart, final int optionsStart, final long blockLength, final int interfaceId)
        throws CaptureFormatException
    {
        final MemorySegment segment = input.segment();
        final long end = blockLength - 4;
        long option = optionsStart;
        while (option + 4 <= end)
        {
            final int code = Bytes.u16(segment, block + option, bigEndian);
            final int length = Bytes.u16(segment, block + option + 2, bigEndian);
            if (code == OPTION_END)
            {
                return;
            }
            final long valueEnd = option + 4 + length;
            if (valueEnd > end)
            {
                throw new CaptureFormatException(name, blockStart + option,
                    "option " + code + " of length " + length + " runs past the end of its block");
            }
            if (interfaceId >= 0 && code == OPTION_IF_TSRESOL && length >= 1)
            {
                final int value = Bytes.u8(segment, block + option + 4);
                binaryResolution[interfaceId] = (value & 0x80) != 0;
                resolutionExponents[interfaceId] = value & 0x7F;
            }
            else if (interfaceId >= 0 && code == OPTION_IF_TSOFFSET && length >= 8)
            {
                final long high = Bytes.u32(segment, block + option + 4, bigEndian);
                final long low = Bytes.u32(segment, block + option + 8, bigEndian);
                offsetSeconds[interfaceId] = bigEndian ? (high << 32) | low : (low << 32) | high;
            }
            option = option + 4 + ((length + 3) & ~3);
        }
    }

    /**
     * Enhanced Packet Block (4-byte interface id) and the obsolete Packet Block (2-byte interface id, 2-byte drop
     * count) share the rest of their layout: timestamp high/low, captured length, wire length, data.
     */
    private void deliverPacket(
        final FrameSink sink, final long block, final long blockStart, final long blockLength,
        final boolean enhanced) throws CaptureFormatException
    {
        final String kind = enhanced ? "enhanced packet block" : "packet block";
        if (blockLength < 32)
        {
            throw new CaptureFormatException(name, blockStart, kind + " too short");
        }
        final MemorySegment segment = input.segment();
        final long interfaceId = enhanced ?
            Bytes.u32(segment, block + 8, bigEndian) : Bytes.u16(segment, block + 8, bigEndian);
        final long timestamp =
            (Bytes.u32(segment, block + 12, bigEndian) << 32) | Bytes.u32(segment, block + 16, bigEndian);
        final long capturedLength = Bytes.u32(segment, block + 20, bigEndian);
        final long wireLength = Bytes.u32(segment, block + 24, bigEndian);
        checkInterface(blockStart, interfaceId);
        if (28 + capturedLength > blockLength - 4)
        {
            throw new CaptureFormatException(name, blockStart,
                "captured length " + capturedLength + " larger than its " + kind);
        }
        final int id = (int)interfaceId;
        sink.onFrame(frame.wrap(segment, block + 28, (int)capturedLength, wireLength(wireLength, capturedLength))
            .linkType(linkTypes[id]).timestampNanos(toNanos(id, timestamp)).interfaceId(id));
    }

    private void deliverSimple(
        final FrameSink sink, final long block, final long blockStart, final long blockLength)
        throws CaptureFormatException
    {
        if (blockLength < 16)
        {
            throw new CaptureFormatException(name, blockStart, "simple packet block too short");
        }
        checkInterface(blockStart, 0);
        final MemorySegment segment = input.segment();
        final long wireLength = Bytes.u32(segment, block + 8, bigEndian);
        // A simple packet block holds min(wire length, snaplen) bytes; it has no timestamp.
        final long room = blockLength - 16;
        long capturedLength = Math.min(wireLength, room);
        if (snapLengths[0] > 0)
        {
            capturedLength = Math.min(capturedLength, snapLengths[0]);
        }
        sink.onFrame(frame.wrap(segment, block + 12, (int)capturedLength, wireLength(wireLength, capturedLength))
            .linkType(linkTypes[0]).timestampNanos(0).interfaceId(0));
    }

    /** Wire length as an int: never below the captured length, never negative for lengths of 2^31 or more. */
    private static int wireLength(final long wireLength, final long capturedLength)
    {
        return (int)Math.min(Integer.MAX_VALUE, Math.max(wireLength, capturedLength));
    }

    private void checkInterface(final long blockStart, final long interfaceId) throws CaptureFormatException
    {
        if (interfaceId >= interfaceCount)
        {
            throw new CaptureFormatException(name, blockStart,
                "packet for interface " + interfaceId + " but only " + interfaceCount + " interfaces described");
        }
    }

    private void checkBlockLength(final long blockStart, final long blockLength) throws CaptureFormatException
    {
        if (blockLength < MIN_BLOCK_LENGTH || blockLength > MAX_BLOCK_LENGTH || (blockLength & 3) != 0)
        {
            throw new CaptureFormatException(name, blockStart, "corrupt block: invalid block length " + blockLength);
        }
    }

    private void checkTrailingLength(final long block, final long blockStart, final long blockLength)
        throws CaptureFormatException
    {
        final long trailing = Bytes.u32(input.segment(), block + blockLength - 4, bigEndian);
        if (trailing != blockLength)
        {
            throw new CaptureFormatException(name, blockStart,
                "corrupt block: trailing length " + trailing + " differs from leading length " + blockLength);
        }
    }

    private long toNanos(final int interfaceId, final long units)
    {
        final int exponent = resolutionExponents[interfaceId];
        final long offsetNanos = offsetSeconds[interfaceId] * 1_000_000_000L;
        if (binaryResolution[interfaceId])
        {
            if (exponent >= 63)
            {
                return offsetNanos;
            }
            final long whole = units >>> exponent;
            final long fraction = units & ((1L << exponent) - 1);
            return offsetNanos + whole * 1_000_000_000L +
                Math.multiplyHigh(fraction << (63 - exponent), 2_000_000_000L);
        }
        if (exponent <= 9)
        {
            return offsetNanos + units * POWERS_OF_TEN[9 - exponent];
        }
        return offsetNanos + (exponent - 9 < POWERS_OF_TEN.length ? units / POWERS_OF_TEN[exponent - 9] : 0);
    }

    private static final long[] POWERS_OF_TEN = {
        1L, 10L, 100L, 1_000L, 10_000L, 100_000L, 1_000_000L, 10_000_000L, 100_000_000L, 1_000_000_000L,
        10_000_000_000L, 100_000_000_000L, 1_000_000_000_000L, 10_000_000_000_000L, 100_000_000_000_000L,
        1_000_000_000_000_000L, 10_000_000_000_000_000L, 100_000_000_000_000_000L, 1_000_000_000_000_000_000L};

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
