package dev.flowtracker.core.decode;

import java.io.ByteArrayOutputStream;

import static dev.flowtracker.core.decode.FrameBuilder.ACK;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.filled;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;

/** A TCP header (checksum and urgent pointer zero) with options and payload. */
final class TcpSegment
{
    private int srcPort = 40000;
    private int dstPort = 443;
    private int seq;
    private int ack;
    private int flags = ACK;
    private int window = 65535;
    private final ByteArrayOutputStream options = new ByteArrayOutputStream();
    private byte[] payload = new byte[0];
    private int dataOffsetWords = -1;

    TcpSegment ports(final int source, final int destination)
    {
        this.srcPort = source;
        this.dstPort = destination;
        return this;
    }

    TcpSegment seq(final int value)
    {
        this.seq = value;
        return this;
    }

    TcpSegment ack(final int value)
    {
        this.ack = value;
        return this;
    }

    TcpSegment flags(final int value)
    {
        this.flags = value;
        return this;
    }

    TcpSegment window(final int value)
    {
        this.window = value;
        return this;
    }

    TcpSegment payload(final int length)
    {
        this.payload = filled(length, 0x61);
        return this;
    }

    /** Data offset in 32-bit words as written on the wire, whatever the real header length. */
    TcpSegment dataOffset(final int words)
    {
        this.dataOffsetWords = words;
        return this;
    }

    TcpSegment nop()
    {
        options.write(1);
        return this;
    }

    TcpSegment endOfOptions()
    {
        options.write(0);
        return this;
    }

    TcpSegment mss(final int value)
    {
        options.writeBytes(concat(bytes(2, 4), u16(value)));
        return this;
    }

    TcpSegment windowScale(final int shift)
    {
        options.writeBytes(bytes(3, 3, shift));
        return this;
    }

    TcpSegment sackPermitted()
    {
        options.writeBytes(bytes(4, 2));
        return this;
    }

    /** SACK blocks as left/right edge pairs. */
    TcpSegment sack(final int... edges)
    {
        options.writeBytes(bytes(5, 2 + 4 * edges.length));
        for (final int edge : edges)
        {
            options.writeBytes(u32(edge));
        }
        return this;
    }

    TcpSegment timestamps(final int value, final int echoReply)
    {
        options.writeBytes(concat(bytes(8, 10), u32(value), u32(echoReply)));
        return this;
    }

    /** RFC 7413 Fast Open, kind 34. */
    TcpSegment fastOpen(final byte[] cookie)
    {
        options.writeBytes(concat(bytes(34, 2 + cookie.length), cookie));
        return this;
    }

    /** Pre-assignment Fast Open: experimental kind 254 with the 0xF989 magic (RFC 6994 ExID). */
    TcpSegment experimentalFastOpen(final byte[] cookie)
    {
        options.writeBytes(concat(bytes(254, 4 + cookie.length), u16(0xF989), cookie));
        return this;
    }

    TcpSegment rawOptions(final int... values)
    {
        options.writeBytes(bytes(values));
        return this;
    }

    byte[] build()
    {
        final byte[] optionBytes = options.toByteArray();
        final int padded = (optionBytes.length + 3) & ~3;
        final int words = dataOffsetWords >= 0 ? dataOffsetWords : (20 + padded) / 4;
        return concat(
            u16(srcPort), u16(dstPort), u32(seq), u32(ack),
            bytes((words << 4) | ((flags >>> 8) & 1), flags), u16(window),
            u16(0), u16(0),
            optionBytes, new byte[padded - optionBytes.length],
            payload);
    }
}
