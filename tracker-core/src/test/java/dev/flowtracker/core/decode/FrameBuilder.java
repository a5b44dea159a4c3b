package dev.flowtracker.core.decode;

import java.io.ByteArrayOutputStream;

/**
 * Test-side assembly of captured frames, inside out: build the TCP segment, wrap it in IP, wrap that in tunnels
 * and link-layer headers. Every wrapper returns a fresh array; fields that matter for malformed-input tests can be
 * overridden on the builders ({@link TcpSegment}, {@link Ipv4Packet}, {@link Ipv6Packet}), anything else can be
 * patched in the returned bytes.
 */
final class FrameBuilder
{
    static final int ETHERTYPE_IPV4 = 0x0800;
    static final int ETHERTYPE_IPV6 = 0x86DD;
    static final int ETHERTYPE_ARP = 0x0806;
    static final int ETHERTYPE_VLAN = 0x8100;
    static final int ETHERTYPE_QINQ = 0x88A8;
    static final int ETHERTYPE_QINQ_LEGACY = 0x9100;
    static final int ETHERTYPE_MPLS = 0x8847;
    static final int ETHERTYPE_PPPOE_SESSION = 0x8864;
    static final int ETHERTYPE_TRANSPARENT_ETHERNET = 0x6558;
    static final int ETHERTYPE_ERSPAN_II = 0x88BE;
    static final int ETHERTYPE_ERSPAN_III = 0x22EB;

    static final int PROTO_HOP_BY_HOP = 0;
    static final int PROTO_IPV4 = 4;
    static final int PROTO_TCP = 6;
    static final int PROTO_UDP = 17;
    static final int PROTO_IPV6 = 41;
    static final int PROTO_ROUTING = 43;
    static final int PROTO_FRAGMENT = 44;
    static final int PROTO_GRE = 47;
    static final int PROTO_AH = 51;
    static final int PROTO_ICMPV6 = 58;
    static final int PROTO_DESTINATION_OPTIONS = 60;

    static final int GRE_CHECKSUM = 0x8000;
    static final int GRE_KEY = 0x2000;
    static final int GRE_SEQUENCE = 0x1000;

    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;

    private FrameBuilder()
    {
    }

    // ---------------------------------------------------------------- byte helpers

    static byte[] concat(final byte[]... parts)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (final byte[] part : parts)
        {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    static byte[] bytes(final int... values)
    {
        final byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++)
        {
            out[i] = (byte)values[i];
        }
        return out;
    }

    static byte[] u16(final int value)
    {
        return bytes(value >>> 8, value);
    }

    static byte[] u32(final int value)
    {
        return bytes(value >>> 24, value >>> 16, value >>> 8, value);
    }

    static byte[] u64(final long value)
    {
        return concat(u32((int)(value >>> 32)), u32((int)value));
    }

    static void putU16(final byte[] frame, final int offset, final int value)
    {
        frame[offset] = (byte)(value >>> 8);
        frame[offset + 1] = (byte)value;
    }

    static byte[] filled(final int length, final int value)
    {
        final byte[] out = new byte[length];
        java.util.Arrays.fill(out, (byte)value);
        return out;
    }

    // ---------------------------------------------------------------- TCP

    static TcpSegment tcp()
    {
        return new TcpSegment();
    }

    // ---------------------------------------------------------------- IPv4

    static Ipv4Packet ipv4(final int source, final int destination)
    {
        return new Ipv4Packet(source, destination);
    }

    // ---------------------------------------------------------------- IPv6

    static Ipv6Packet ipv6(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow)
    {
        return new Ipv6Packet(srcHigh, srcLow, dstHigh, dstLow);
    }

    // ---------------------------------------------------------------- link layers

    static byte[] ethernet(final int etherType, final byte[] payload)
    {
        return concat(bytes(0x02, 0, 0, 0, 0, 0x02), bytes(0x02, 0, 0, 0, 0, 0x01), u16(etherType), payload);
    }

    /** An Ethernet frame with the given tag protocol identifiers, outermost first, then {@code etherType}. */
    static byte[] ethernetTagged(final int[] tagTypes, final int etherType, final byte[] payload)
    {
        byte[] inner = concat(u16(etherType), payload);
        for (int i = tagTypes.length - 1; i >= 0; i--)
        {
            inner = concat(u16(tagTypes[i]), u16(100 + i), inner);
        }
        return concat(bytes(0x02, 0, 0, 0, 0, 0x02), bytes(0x02, 0, 0, 0, 0, 0x01), inner);
    }

    /** An MPLS label stack of {@code labels} entries; the last one has bottom-of-stack set when asked. */
    static byte[] mpls(final int labels, final boolean bottomOfStack, final byte[] payload)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < labels; i++)
        {
            final int label = 1000 + i;
            final boolean last = i == labels - 1;
            out.writeBytes(u32((label << 12) | (last && bottomOfStack ? 0x100 : 0) | 64));
        }
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** RFC 4385 pseudowire control word (first nibble 0) before an Ethernet frame. */
    static byte[] pseudowireControlWord(final byte[] ethernetFrame)
    {
        return concat(u32(0x0000_0001), ethernetFrame);
    }

    static final int PPP_IPV4 = 0x0021;
    static final int PPP_IPV6 = 0x0057;

    /** PPPoE session header and PPP protocol, 2 bytes or compressed to 1 (RFC 1661 protocol-field compression). */
    static byte[] pppoe(final int pppProtocol, final boolean compressed, final byte[] payload)
    {
        final byte[] protocol = compressed ? bytes(pppProtocol) : u16(pppProtocol);
        return concat(bytes(0x11, 0x00), u16(0x0042), u16(protocol.length + payload.length), protocol, payload);
    }

    static byte[] sll(final int protocol, final byte[] payload)
    {
        return concat(u16(0), u16(1), u16(6), bytes(0x02, 0, 0, 0, 0, 0x01, 0, 0), u16(protocol), payload);
    }

    static byte[] sll2(final int protocol, final byte[] payload)
    {
        return concat(u16(protocol), u16(0), u32(2), u16(1), bytes(0, 6), bytes(0x02, 0, 0, 0, 0, 0x01, 0, 0),
            payload);
    }

    /** DLT_NULL: the address family as a 32-bit value in the capturing host's byte order. */
    static byte[] nullLink(final int family, final boolean littleEndian, final byte[] payload)
    {
        final byte[] header = littleEndian ? bytes(family, family >>> 8, family >>> 16, family >>> 24) : u32(family);
        return concat(header, payload);
    }

    /** DLT_LOOP: the address family in network byte order. */
    static byte[] loop(final int family, final byte[] payload)
    {
        return concat(u32(family), payload);
    }

    /** NFLOG: family, version, resource id, then little-endian TLVs (a prefix TLV, then the payload TLV 9). */
    static byte[] nflog(final int family, final byte[] payload)
    {
        final byte[] prefix = concat(bytes(4 + 5, 0, 10, 0), bytes('t', 'e', 's', 't', 0), new byte[3]);
        final int length = 4 + payload.length;
        final byte[] payloadTlv = concat(bytes(length, length >>> 8, 9, 0), payload,
            new byte[((length + 3) & ~3) - length]);
        return concat(bytes(family, 0, 0, 1), prefix, payloadTlv);
    }

    /** FDDI: frame control, destination, source, then 802.2 LLC/SNAP carrying an EtherType. */
    static byte[] fddi(final int etherType, final byte[] payload)
    {
        return concat(bytes(0x50), bytes(0, 0, 0, 0, 0, 2), bytes(0, 0, 0, 0, 0, 1),
            bytes(0xAA, 0xAA, 0x03, 0, 0, 0), u16(etherType), payload);
    }

    // ---------------------------------------------------------------- tunnels

    static byte[] udp(final int source, final int destination, final byte[] payload)
    {
        return concat(u16(source), u16(destination), u16(8 + payload.length), u16(0), payload);
    }

    /** A version 0 GRE header; optional checksum, key and sequence words follow the flags given. */
    static byte[] gre(final int flags, final int protocol, final byte[] payload)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(u16(flags));
        out.writeBytes(u16(protocol));
        if ((flags & GRE_CHECKSUM) != 0)
        {
            out.writeBytes(u32(0xC5C5_0000));
        }
        if ((flags & GRE_KEY) != 0)
        {
            out.writeBytes(u32(0x0000_0777));
        }
        if ((flags & GRE_SEQUENCE) != 0)
        {
            out.writeBytes(u32(42));
        }
        out.writeBytes(payload);
        return out.toByteArray();
    }

    /** Enhanced GRE (version 1, PPTP): key, sequence and acknowledgment, then HDLC-framed PPP carrying IPv4. */
    static byte[] pptpGre(final byte[] ipv4Packet)
    {
        return concat(u16(0x2000 | 0x1000 | 0x0080 | 1), u16(0x880B), u16(ipv4Packet.length + 4), u16(0x0007),
            u32(17), u32(16), bytes(0xFF, 0x03), u16(PPP_IPV4), ipv4Packet);
    }

    /** AYIYA: 2-byte identity, 20-byte SHA-1 signature, then the packet of IP protocol {@code nextHeader}. */
    static byte[] ayiya(final int nextHeader, final byte[] packet)
    {
        return concat(bytes(0x11, 0x52, 0x11, nextHeader), u32(0x6000_0000), bytes(0xAB, 0xCD), new byte[20], packet);
    }

    /** ERSPAN type II header (8 bytes): version 1, VLAN, session id, index. */
    static byte[] erspanII(final byte[] ethernetFrame)
    {
        return concat(u16(0x1000 | 7), u16(0x0055), u32(0x0000_0001), ethernetFrame);
    }

    /** ERSPAN type III header (12 bytes), plus the 8-byte platform sub-header when the O bit is set. */
    static byte[] erspanIII(final boolean platformSubHeader, final byte[] ethernetFrame)
    {
        final byte[] header = concat(u16(0x2000 | 7), u16(0x0055), u32(0x1122_3344), u16(0), bytes(0x00,
            platformSubHeader ? 0x01 : 0x00));
        return platformSubHeader ?
            concat(header, u32(0x0800_0000), u32(0x5566_7788), ethernetFrame) : concat(header, ethernetFrame);
    }

    static byte[] vxlan(final int vni, final byte[] ethernetFrame)
    {
        return concat(bytes(0x08, 0, 0, 0), u32(vni << 8), ethernetFrame);
    }

    /** Geneve with {@code optionWords} 32-bit words of options (one TLV option filling them). */
    static byte[] geneve(final int vni, final int protocol, final int optionWords, final byte[] payload)
    {
        final byte[] options = new byte[optionWords * 4];
        if (optionWords > 0)
        {
            options[0] = 0x01;
            options[1] = 0x02;
            options[2] = 0x03;
            options[3] = (byte)(optionWords - 1);
        }
        return concat(bytes(optionWords & 0x3F, 0), u16(protocol), u32(vni << 8), options, payload);
    }

    /** Teredo: optional authentication indicator and origin indication before the IPv6 packet. */
    static byte[] teredo(final boolean authentication, final boolean originIndication, final byte[] ipv6Packet)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (authentication)
        {
            out.writeBytes(concat(u16(0x0001), bytes(3, 2), bytes('i', 'd', '!'), bytes(0xAA, 0xBB),
                u64(0x0102_0304_0506_0708L), bytes(0)));
        }
        if (originIndication)
        {
            out.writeBytes(concat(u16(0x0000), u16(0xFFFF ^ 3544), u32(~0x0A00_0001)));
        }
        out.writeBytes(ipv6Packet);
        return out.toByteArray();
    }

    /** GTPv1-U G-PDU; with {@code extension}, the E flag and one PDU session container extension header. */
    static byte[] gtpU(final int teid, final boolean extension, final byte[] ipPacket)
    {
        if (!extension)
        {
            return concat(bytes(0x30, 0xFF), u16(ipPacket.length), u32(teid), ipPacket);
        }
        final byte[] optional = concat(u16(0), bytes(0, 0x85));
        final byte[] container = bytes(1, 0x10, 0x09, 0x00);
        return concat(bytes(0x34, 0xFF), u16(optional.length + container.length + ipPacket.length), u32(teid),
            optional, container, ipPacket);
    }
}
