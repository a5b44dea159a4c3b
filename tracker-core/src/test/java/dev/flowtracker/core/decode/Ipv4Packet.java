package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.PROTO_TCP;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;

/**
 * An IPv4 header (identification 0x1234, TTL 64, checksum zero) with options and payload, for {@link FrameBuilder}'s
 * frames; version, header length, total length and fragment fields can be set for malformed-input tests. Built by
 * {@link FrameBuilder#ipv4}.
 */
final class Ipv4Packet
{
    private final int source;
    private final int destination;
    private int protocol = PROTO_TCP;
    private int version = 4;
    private int ihlOverride = -1;
    private int totalLengthOverride = -1;
    private boolean moreFragments;
    private int fragmentOffset;
    private byte[] options = new byte[0];
    private byte[] payload = new byte[0];

    Ipv4Packet(final int source, final int destination)
    {
        this.source = source;
        this.destination = destination;
    }

    Ipv4Packet protocol(final int value)
    {
        this.protocol = value;
        return this;
    }

    Ipv4Packet version(final int value)
    {
        this.version = value;
        return this;
    }

    Ipv4Packet ihl(final int words)
    {
        this.ihlOverride = words;
        return this;
    }

    Ipv4Packet totalLength(final int value)
    {
        this.totalLengthOverride = value;
        return this;
    }

    Ipv4Packet moreFragments()
    {
        this.moreFragments = true;
        return this;
    }

    /** Fragment offset in 8-byte units. */
    Ipv4Packet fragmentOffset(final int units)
    {
        this.fragmentOffset = units;
        return this;
    }

    /** IP options, padded to a 4-byte multiple with end-of-list. */
    Ipv4Packet options(final int... values)
    {
        final byte[] raw = bytes(values);
        this.options = java.util.Arrays.copyOf(raw, (raw.length + 3) & ~3);
        return this;
    }

    Ipv4Packet payload(final byte[] value)
    {
        this.payload = value;
        return this;
    }

    byte[] build()
    {
        final int headerLength = 20 + options.length;
        final int ihl = ihlOverride >= 0 ? ihlOverride : headerLength / 4;
        final int total = totalLengthOverride >= 0 ? totalLengthOverride : headerLength + payload.length;
        return concat(
            bytes((version << 4) | (ihl & 0x0F), 0), u16(total),
            u16(0x1234), u16((moreFragments ? 0x2000 : 0) | (fragmentOffset & 0x1FFF)),
            bytes(64, protocol), u16(0),
            u32(source), u32(destination),
            options, payload);
    }
}
