package dev.flowtracker.core.decode;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.core.wire.EtherType;
import dev.flowtracker.core.wire.Tunnels;

/**
 * Tunnels carried by IP: GRE (versions 0 and 1, with ERSPAN types I to III, PPP for PPTP, and any EtherType such
 * as transparent Ethernet bridging) and the UDP-borne ones, told apart by port: VXLAN, Geneve, GRE in UDP, GTP-U
 * (with its extension headers), Teredo (with authentication and origin indication) and AYIYA. Each hands what it
 * carries back to {@link LinkLayerDecoder} (an Ethernet frame or an EtherType) or {@link NetworkLayerDecoder} (an IP
 * header), one level deeper.
 *
 * <p>Static methods over a {@link FrameCursor}: nothing is allocated per packet. Every tunnel header and every
 * length read from it (Geneve options, GRE flags, GTP extensions, Teredo and AYIYA fields) is checked against the
 * captured bytes before anything past it is read ({@link FrameCursor#has}), and nesting is bounded by
 * {@link PacketDecoder#MAX_ENCAPSULATION_DEPTH}. A broken header ends decoding with a {@link DecodeEvent} that the
 * caller counts, never an exception. Holds no state of its own: it runs on the thread of the {@link PacketDecoder}
 * whose cursor it is given.
 */
final class TunnelDecoder
{
    private static final int AYIYA_UDP_PORT = 5072;

    private TunnelDecoder()
    {
    }

    /** A UDP header; only tunnel ports are followed, anything else is {@link DecodeEvent#NON_TCP}. */
    static DecodeEvent decodeUdp(final FrameCursor frame, final long offset, final long end)
    {
        if (!frame.has(offset, Tunnels.UDP_HEADER_LENGTH))
        {
            return DecodeEvent.UDP_HEADER_TRUNCATED;
        }
        final int sourcePort = Bytes.u16(frame.segment, offset);
        final int destinationPort = Bytes.u16(frame.segment, offset + 2);
        final long payload = offset + Tunnels.UDP_HEADER_LENGTH;
        if (!isTunnelPort(sourcePort) && !isTunnelPort(destinationPort))
        {
            return DecodeEvent.NON_TCP;
        }
        if (!frame.deeper())
        {
            return DecodeEvent.ENCAPSULATION_TOO_DEEP;
        }
        if (destinationPort == Tunnels.UDP_PORT_VXLAN || sourcePort == Tunnels.UDP_PORT_VXLAN)
        {
            return decodeVxlan(frame, payload);
        }
        if (destinationPort == Tunnels.UDP_PORT_GENEVE || sourcePort == Tunnels.UDP_PORT_GENEVE)
        {
            return decodeGeneve(frame, payload);
        }
        if (destinationPort == Tunnels.UDP_PORT_GRE || sourcePort == Tunnels.UDP_PORT_GRE)
        {
            return decodeGre(frame, payload);
        }
        if (sourcePort == Tunnels.UDP_PORT_GTP_USER || destinationPort == Tunnels.UDP_PORT_GTP_USER)
        {
            return decodeGtpUser(frame, payload, end);
        }
        if (sourcePort == Tunnels.UDP_PORT_TEREDO || destinationPort == Tunnels.UDP_PORT_TEREDO)
        {
            return decodeTeredo(frame, payload, end);
        }
        if (sourcePort == AYIYA_UDP_PORT || destinationPort == AYIYA_UDP_PORT)
        {
            return decodeAyiya(frame, payload, end);
        }
        return DecodeEvent.NON_TCP;
    }

    private static boolean isTunnelPort(final int port)
    {
        return port == Tunnels.UDP_PORT_VXLAN || port == Tunnels.UDP_PORT_GENEVE || port == Tunnels.UDP_PORT_GRE ||
            port == Tunnels.UDP_PORT_GTP_USER || port == Tunnels.UDP_PORT_TEREDO || port == AYIYA_UDP_PORT;
    }

    private static DecodeEvent decodeVxlan(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, Tunnels.VXLAN_HEADER_LENGTH + LinkLayerDecoder.ETHERNET_HEADER_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        frame.packet.encapsulations |= Encapsulation.VXLAN.bit();
        return LinkLayerDecoder.decodeEthernet(frame, offset + Tunnels.VXLAN_HEADER_LENGTH);
    }

    private static DecodeEvent decodeGeneve(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, Tunnels.GENEVE_HEADER_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int optionsLength = (Bytes.u8(frame.segment, offset) & 0x3F) * 4;
        final int protocol = Bytes.u16(frame.segment, offset + 2);
        final long payload = offset + Tunnels.GENEVE_HEADER_LENGTH + optionsLength;
        if (!frame.has(payload, 1))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        frame.packet.encapsulations |= Encapsulation.GENEVE.bit();
        return LinkLayerDecoder.decodeEtherType(frame, protocol, payload);
    }

    /** A GRE header (IP protocol 47, or GRE in UDP). */
    static DecodeEvent decodeGre(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, Tunnels.GRE_BASE_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int flags = Bytes.u16(frame.segment, offset);
        final int protocol = Bytes.u16(frame.segment, offset + 2);
        final int version = flags & Tunnels.GRE_VERSION_MASK;
        long length = Tunnels.GRE_BASE_LENGTH;
        if (version == 0)
        {
            length += (flags & Tunnels.GRE_CHECKSUM) != 0 ? 4 : 0;
            length += (flags & Tunnels.GRE_KEY) != 0 ? 4 : 0;
            length += (flags & Tunnels.GRE_SEQUENCE) != 0 ? 4 : 0;
        }
        else if (version == 1)
        {
            // Enhanced GRE (PPTP): key always present, optional sequence and acknowledgment numbers.
            length += 4;
            length += (flags & Tunnels.GRE_SEQUENCE) != 0 ? 4 : 0;
            length += (flags & Tunnels.GRE_ACK) != 0 ? 4 : 0;
        }
        else
        {
            return DecodeEvent.UNSUPPORTED_ENCAPSULATION;
        }
        final long payload = offset + length;
        if (!frame.has(payload, 1))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        frame.packet.encapsulations |= Encapsulation.GRE.bit();
        switch (protocol)
        {
            case EtherType.ERSPAN_TYPE_II:
                frame.packet.encapsulations |= Encapsulation.ERSPAN.bit();
                // Type I has no sequence number and no ERSPAN header; type II has both.
                return (flags & Tunnels.GRE_SEQUENCE) != 0 ?
                    LinkLayerDecoder.decodeEthernet(frame, payload + Tunnels.ERSPAN_II_HEADER_LENGTH) :
                    LinkLayerDecoder.decodeEthernet(frame, payload);
            case EtherType.ERSPAN_TYPE_III:
                if (!frame.has(payload, Tunnels.ERSPAN_III_HEADER_LENGTH))
                {
                    return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
                }
                frame.packet.encapsulations |= Encapsulation.ERSPAN.bit();
                final boolean platformSubHeader = (Bytes.u8(frame.segment, payload + 11) & 0x01) != 0;
                return LinkLayerDecoder.decodeEthernet(frame, payload + Tunnels.ERSPAN_III_HEADER_LENGTH +
                    (platformSubHeader ? Tunnels.ERSPAN_III_PLATFORM_SUBHEADER_LENGTH : 0));
            case 0x880B:
                return decodePppWithAddressControl(frame, payload);
            default:
                return LinkLayerDecoder.decodeEtherType(frame, protocol, payload);
        }
    }

    /** PPP in GRE (PPTP) may keep the HDLC address/control bytes 0xFF 0x03 before the protocol. */
    private static DecodeEvent decodePppWithAddressControl(final FrameCursor frame, final long offset)
    {
        if (frame.has(offset, 2) && Bytes.u16(frame.segment, offset) == 0xFF03)
        {
            return LinkLayerDecoder.decodePpp(frame, offset + 2);
        }
        return LinkLayerDecoder.decodePpp(frame, offset);
    }

    private static DecodeEvent decodeGtpUser(final FrameCursor frame, final long offset, final long end)
    {
        if (!frame.has(offset, Tunnels.GTP_V1_HEADER_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int flags = Bytes.u8(frame.segment, offset);
        if ((flags >>> 5) != 1 || Bytes.u8(frame.segment, offset + 1) != Tunnels.GTP_G_PDU)
        {
            return DecodeEvent.NON_TCP;
        }
        long position = offset + Tunnels.GTP_V1_HEADER_LENGTH;
        if ((flags & 0x07) != 0)
        {
            if (!frame.has(position, 4))
            {
                return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
            }
            int nextExtension = (flags & 0x04) != 0 ? Bytes.u8(frame.segment, position + 3) : 0;
            position += 4;
            for (int extensions = 0; nextExtension != 0; extensions++)
            {
                if (extensions == PacketDecoder.MAX_ENCAPSULATION_DEPTH)
                {
                    return DecodeEvent.ENCAPSULATION_TOO_DEEP;
                }
                if (!frame.has(position, 1))
                {
                    return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
                }
                final int length = Bytes.u8(frame.segment, position) * 4;
                if (length == 0 || !frame.has(position, length))
                {
                    return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
                }
                nextExtension = Bytes.u8(frame.segment, position + length - 1);
                position += length;
            }
        }
        if (!frame.has(position, 1) || position >= end)
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        frame.packet.encapsulations |= Encapsulation.GTP.bit();
        return NetworkLayerDecoder.decodeIpByVersion(frame, position, end);
    }

    private static DecodeEvent decodeTeredo(final FrameCursor frame, final long offset, final long end)
    {
        long position = offset;
        if (frame.has(position, 2) && Bytes.u16(frame.segment, position) == 0x0001)
        {
            // Authentication indicator: id and auth lengths, then id, auth value, nonce (8), confirmation (1).
            if (!frame.has(position, 4))
            {
                return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
            }
            position += 4 + Bytes.u8(frame.segment, position + 2) + Bytes.u8(frame.segment, position + 3) + 9;
        }
        if (frame.has(position, 2) && Bytes.u16(frame.segment, position) == 0x0000)
        {
            position += 8; // origin indication
        }
        if (!frame.has(position, 1) || (Bytes.u8(frame.segment, position) >>> 4) != 6)
        {
            return DecodeEvent.NON_TCP;
        }
        frame.packet.encapsulations |= Encapsulation.TEREDO.bit();
        return position < end ? NetworkLayerDecoder.decodeIpv6(frame, position) : DecodeEvent.TUNNEL_HEADER_TRUNCATED;
    }

    private static DecodeEvent decodeAyiya(final FrameCursor frame, final long offset, final long end)
    {
        if (!frame.has(offset, 8))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int identityLength = 1 << (Bytes.u8(frame.segment, offset) >>> 4);
        final int signatureLength = (Bytes.u8(frame.segment, offset + 1) >>> 4) * 4;
        final int nextHeader = Bytes.u8(frame.segment, offset + 3);
        final long payload = offset + 8 + identityLength + signatureLength;
        if (!frame.has(payload, 1) || payload >= end)
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        frame.packet.encapsulations |= Encapsulation.AYIYA.bit();
        return NetworkLayerDecoder.decodeIpPayload(frame, nextHeader, payload, end);
    }
}
