package dev.flowtracker.core.decode;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

import static dev.flowtracker.core.decode.FrameBuilder.PROTO_AH;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_DESTINATION_OPTIONS;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_FRAGMENT;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_HOP_BY_HOP;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_ROUTING;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_TCP;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;
import static dev.flowtracker.core.decode.FrameBuilder.u64;

/**
 * An IPv6 header with a chain of extension headers (hop-by-hop, routing, destination options, fragment,
 * authentication, or any other) and its payload, for {@link FrameBuilder}'s frames; version and payload length can
 * be set for malformed-input tests. Built by {@link FrameBuilder#ipv6}.
 */
final class Ipv6Packet
{
    private final long srcHigh;
    private final long srcLow;
    private final long dstHigh;
    private final long dstLow;
    private int protocol = PROTO_TCP;
    private int payloadLengthOverride = -1;
    private int version = 6;
    /** Extension headers: each entry is {type, bytes with a placeholder next-header byte 0}. */
    private final List<Object[]> extensions = new ArrayList<>();
    private byte[] payload = new byte[0];

    Ipv6Packet(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow)
    {
        this.srcHigh = srcHigh;
        this.srcLow = srcLow;
        this.dstHigh = dstHigh;
        this.dstLow = dstLow;
    }

    Ipv6Packet protocol(final int value)
    {
        this.protocol = value;
        return this;
    }

    Ipv6Packet version(final int value)
    {
        this.version = value;
        return this;
    }

    Ipv6Packet payloadLength(final int value)
    {
        this.payloadLengthOverride = value;
        return this;
    }

    Ipv6Packet payload(final byte[] value)
    {
        this.payload = value;
        return this;
    }

    /** Hop-by-hop options, {@code (units + 1) * 8} bytes of PadN. */
    Ipv6Packet hopByHop(final int units)
    {
        return extension(PROTO_HOP_BY_HOP, optionsHeader(units));
    }

    Ipv6Packet destinationOptions(final int units)
    {
        return extension(PROTO_DESTINATION_OPTIONS, optionsHeader(units));
    }

    /** Routing header type 4 (segment routing) with segments left 0, {@code (units + 1) * 8} bytes. */
    Ipv6Packet routing(final int units)
    {
        final byte[] header = new byte[(units + 1) * 8];
        header[1] = (byte)units;
        header[2] = 4;
        return extension(PROTO_ROUTING, header);
    }

    /** Fragment header; {@code offset} in 8-byte units. */
    Ipv6Packet fragment(final int offset, final boolean more)
    {
        final byte[] header = concat(bytes(0, 0), u16((offset << 3) | (more ? 1 : 0)), u32(0xCAFE));
        return extension(PROTO_FRAGMENT, header);
    }

    /** Authentication header with an ICV of {@code icvWords} 32-bit words. */
    Ipv6Packet authentication(final int icvWords)
    {
        final int length = 12 + 4 * icvWords;
        final byte[] header = new byte[length];
        header[1] = (byte)(length / 4 - 2);
        return extension(PROTO_AH, header);
    }

    Ipv6Packet extension(final int type, final byte[] header)
    {
        extensions.add(new Object[] {type, header});
        return this;
    }

    byte[] build()
    {
        final ByteArrayOutputStream chain = new ByteArrayOutputStream();
        for (int i = 0; i < extensions.size(); i++)
        {
            final byte[] header = ((byte[])extensions.get(i)[1]).clone();
            header[0] = (byte)(i + 1 < extensions.size() ? (int)extensions.get(i + 1)[0] : protocol);
            chain.writeBytes(header);
        }
        final byte[] body = concat(chain.toByteArray(), payload);
        final int first = extensions.isEmpty() ? protocol : (int)extensions.get(0)[0];
        final int length = payloadLengthOverride >= 0 ? payloadLengthOverride : body.length;
        return concat(
            bytes(version << 4, 0, 0, 0), u16(length), bytes(first, 64),
            u64(srcHigh), u64(srcLow), u64(dstHigh), u64(dstLow),
            body);
    }

    private static byte[] optionsHeader(final int units)
    {
        final int length = (units + 1) * 8;
        final byte[] header = new byte[length];
        header[1] = (byte)units;
        header[2] = 1; // PadN
        header[3] = (byte)(length - 4);
        return header;
    }
}
