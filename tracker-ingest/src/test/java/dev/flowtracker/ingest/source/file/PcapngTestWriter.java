package dev.flowtracker.ingest.source.file;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes pcapng files for tests: sections in either byte order, Interface Description Blocks with link type, snaplen
 * and options (if_tsresol, if_tsoffset, custom ones), Enhanced, Simple and obsolete Packet Blocks, blocks of any
 * other type, and deliberately corrupt blocks. Options are encoded in the byte order of the section being written.
 */
final class PcapngTestWriter
{
    static final int SECTION_HEADER = 0x0A0D0D0A;
    static final int INTERFACE_DESCRIPTION = 1;
    static final int PACKET = 2;
    static final int SIMPLE_PACKET = 3;
    static final int NAME_RESOLUTION = 4;
    static final int INTERFACE_STATISTICS = 5;
    static final int ENHANCED_PACKET = 6;
    static final int DECRYPTION_SECRETS = 0x0A;
    static final int CUSTOM_COPYABLE = 0x00000BAD;
    static final int CUSTOM_NOT_COPYABLE = 0x40000BAD;
    static final int BYTE_ORDER_MAGIC = 0x1A2B3C4D;

    static final int OPT_COMMENT = 1;
    static final int OPT_CUSTOM_STRING = 2988;
    static final int OPT_CUSTOM_BINARY = 2989;
    static final int OPT_CUSTOM_STRING_NO_COPY = 19372;
    static final int IF_NAME = 2;
    static final int IF_TSRESOL = 9;
    static final int IF_TSOFFSET = 14;
    static final int EPB_FLAGS = 2;
    /** A private enterprise number for custom options and blocks. */
    static final long PEN = 32473;

    /** One option, written in the byte order of its section. */
    @FunctionalInterface
    interface Option
    {
        void writeTo(EndianBuffer out);
    }

    private final EndianBuffer out = new EndianBuffer(false);

    // ---- options ----

    /** An option with the given code and raw value, padded to 32 bits. */
    static Option option(final int code, final byte[] value)
    {
        return withDeclaredLength(code, value.length, value);
    }

    /** An option whose length field says {@code declaredLength} whatever the value's true size (corrupt files). */
    static Option withDeclaredLength(final int code, final int declaredLength, final byte[] value)
    {
        return out -> out.u16(code).u16(declaredLength).bytes(value).pad4();
    }

    static Option comment(final String text)
    {
        return option(OPT_COMMENT, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A custom option (2988, 2989, 19372, 19373): private enterprise number, then data. */
    static Option custom(final int code, final long enterpriseNumber, final byte[] data)
    {
        return out -> out.u16(code).u16(4 + data.length).u32(enterpriseNumber).bytes(data).pad4();
    }

    static Option tsresol(final int value)
    {
        return option(IF_TSRESOL, new byte[] {(byte)value});
    }

    static Option tsoffset(final long seconds)
    {
        return out -> out.u16(IF_TSOFFSET).u16(8).u64(seconds);
    }

    static Option epbFlags(final long flags)
    {
        return out -> out.u16(EPB_FLAGS).u16(4).u32(flags);
    }

    static Option endOfOptions()
    {
        return out -> out.u16(0).u16(0);
    }

    // ---- blocks ----

    /** A Section Header Block, version 1.0, section length unknown; later blocks use its byte order. */
    PcapngTestWriter section(final boolean bigEndian, final Option... options)
    {
        return section(bigEndian, 1, 0, options);
    }

    PcapngTestWriter section(final boolean bigEndian, final int major, final int minor, final Option... options)
    {
        out.order(bigEndian);
        final EndianBuffer body = body();
        body.u32(BYTE_ORDER_MAGIC).u16(major).u16(minor).u64(-1L);
        options(body, options);
        return block(SECTION_HEADER, body.toByteArray());
    }

    /** A Section Header Block (in the current byte order) whose byte-order magic field holds {@code magic}. */
    PcapngTestWriter sectionWithByteOrderMagic(final int magic)
    {
        final EndianBuffer body = body();
        body.u32(magic).u16(1).u16(0).u64(-1L);
        return block(SECTION_HEADER, body.toByteArray());
    }

    PcapngTestWriter interfaceDescription(final int linkType, final long snaplen, final Option... options)
    {
        final EndianBuffer body = body();
        body.u16(linkType).u16(0).u32(snaplen);
        options(body, options);
        return block(INTERFACE_DESCRIPTION, body.toByteArray());
    }

    PcapngTestWriter enhanced(final int interfaceId, final long timestamp, final byte[] frame)
    {
        return enhanced(interfaceId, timestamp, frame, frame.length);
    }

    PcapngTestWriter enhanced(final int interfaceId, final long timestamp, final byte[] frame,
        final long originalLength, final Option... options)
    {
        return enhancedRaw(interfaceId, timestamp, frame.length, originalLength, frame, options);
    }

    /** An Enhanced Packet Block whose captured-length field may disagree with the data it holds. */
    PcapngTestWriter enhancedRaw(final int interfaceId, final long timestamp, final long capturedLength,
        final long originalLength, final byte[] data, final Option... options)
    {
        final EndianBuffer body = body();
        body.u32(interfaceId).u32(timestamp >>> 32).u32(timestamp).u32(capturedLength).u32(originalLength);
        body.bytes(data).pad4();
        options(body, options);
        return block(ENHANCED_PACKET, body.toByteArray());
    }

    /** A Simple Packet Block: original length, then {@code stored} (padded). */
    PcapngTestWriter simple(final long originalLength, final byte[] stored)
    {
        final EndianBuffer body = body();
        body.u32(originalLength).bytes(stored).pad4();
        return block(SIMPLE_PACKET, body.toByteArray());
    }

    /** An obsolete Packet Block (type 2). */
    PcapngTestWriter obsoletePacket(final int interfaceId, final int drops, final long timestamp, final byte[] frame,
        final long originalLength, final Option... options)
    {
        final EndianBuffer body = body();
        body.u16(interfaceId).u16(drops).u32(timestamp >>> 32).u32(timestamp).u32(frame.length).u32(originalLength);
        body.bytes(frame).pad4();
        options(body, options);
        return block(PACKET, body.toByteArray());
    }

    /** A well-formed block of any type, its body padded to 32 bits. */
    PcapngTestWriter block(final int type, final byte[] body)
    {
        final int padded = (body.length + 3) & ~3;
        return rawBlock(type, 12L + padded, body, 12L + padded);
    }

    /** A custom block: private enterprise number, then data. */
    PcapngTestWriter customBlock(final int type, final byte[] data)
    {
        final EndianBuffer body = body();
        body.u32(PEN).bytes(data);
        return block(type, body.toByteArray());
    }

    /** A block with the given length fields around the body (padded to 32 bits), whether or not they fit. */
    PcapngTestWriter rawBlock(final int type, final long leadingLength, final byte[] body, final long trailingLength)
    {
        out.u32(type).u32(leadingLength).bytes(body).pad4().u32(trailingLength);
        return this;
    }

    PcapngTestWriter raw(final byte[] bytes)
    {
        out.bytes(bytes);
        return this;
    }

    /** Bytes written so far: the file offset of the next block. */
    int length()
    {
        return out.length();
    }

    byte[] toByteArray()
    {
        return out.toByteArray();
    }

    Path writeTo(final Path file) throws IOException
    {
        return Files.write(file, toByteArray());
    }

    private EndianBuffer body()
    {
        return new EndianBuffer(out.bigEndian());
    }

    private static void options(final EndianBuffer body, final Option[] options)
    {
        if (options.length == 0)
        {
            return;
        }
        for (final Option option : options)
        {
            option.writeTo(body);
        }
        endOfOptions().writeTo(body);
    }
}
