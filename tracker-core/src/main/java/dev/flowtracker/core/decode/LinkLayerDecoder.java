package dev.flowtracker.core.decode;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.core.wire.EtherType;
import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.core.wire.Tunnels;

/**
 * The link layer of a frame and what rides on EtherTypes: Ethernet, Linux cooked captures (SLL, SLL2), BSD
 * loopback (NULL, LOOP), NFLOG, FDDI with LLC/SNAP, and the tags and stacks between an EtherType and the IP header
 * (802.1Q/802.1ad VLAN and QinQ, MPLS label stacks with or without a pseudowire control word, PPPoE sessions and
 * PPP, 802.1ah PBB, Cisco FabricPath and VN-Tag). It hands IP headers to {@link NetworkLayerDecoder}.
 *
 * <p>Static methods over a {@link FrameCursor}: nothing is allocated per packet. Every header and every length
 * read from the frame (tag, label, TLV) is checked against the captured bytes ({@link FrameCursor#has}) before it
 * is read, stacks and TLV walks are bounded, and a broken header ends decoding with a {@link DecodeEvent} that the
 * caller counts, never an exception. Holds no state of its own: it runs on the thread of the {@link PacketDecoder}
 * whose cursor it is given.
 */
final class LinkLayerDecoder
{
    static final int ETHERNET_HEADER_LENGTH = 14;
    private static final int MAX_MPLS_LABELS = 16;
    private static final int SLL_HEADER_LENGTH = 16;
    private static final int SLL2_HEADER_LENGTH = 20;
    private static final int NULL_HEADER_LENGTH = 4;
    private static final int NFLOG_HEADER_LENGTH = 4;
    private static final int NFLOG_TLV_PAYLOAD = 9;
    private static final int FDDI_HEADER_LENGTH = 13;
    private static final int LLC_SNAP_LENGTH = 8;

    private LinkLayerDecoder()
    {
    }

    /** Decodes the frame from its first byte at {@code offset}, by its LINKTYPE_. */
    static DecodeEvent decodeLink(final FrameCursor frame, final int linkType, final long offset)
    {
        return switch (linkType)
        {
            case LinkType.EN10MB -> decodeEthernet(frame, offset);
            case LinkType.RAW, LinkType.RAW_DLT_12, LinkType.RAW_DLT_14 ->
                NetworkLayerDecoder.decodeIpByVersion(frame, offset, frame.capturedEnd);
            case LinkType.IPV4 -> NetworkLayerDecoder.decodeIpv4(frame, offset);
            case LinkType.IPV6 -> NetworkLayerDecoder.decodeIpv6(frame, offset);
            case LinkType.LINUX_SLL -> decodeSll(frame, offset);
            case LinkType.LINUX_SLL2 -> decodeSll2(frame, offset);
            case LinkType.NULL -> decodeNull(frame, offset, false);
            case LinkType.LOOP -> decodeNull(frame, offset, true);
            case LinkType.NFLOG -> decodeNflog(frame, offset);
            case LinkType.FDDI -> decodeFddi(frame, offset);
            default -> DecodeEvent.UNSUPPORTED_LINK_TYPE;
        };
    }

    static DecodeEvent decodeEthernet(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, ETHERNET_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return decodeEtherType(frame, Bytes.u16(frame.segment, offset + 12), offset + ETHERNET_HEADER_LENGTH);
    }

    static DecodeEvent decodeEtherType(final FrameCursor frame, final int etherType, final long offset)
    {
        if (!frame.deeper())
        {
            return DecodeEvent.ENCAPSULATION_TOO_DEEP;
        }
        switch (etherType)
        {
            case EtherType.IPV4:
                return NetworkLayerDecoder.decodeIpv4(frame, offset);
            case EtherType.IPV6:
                return NetworkLayerDecoder.decodeIpv6(frame, offset);
            case EtherType.VLAN_8021Q, EtherType.VLAN_8021AD, EtherType.VLAN_QINQ_LEGACY:
                if (!frame.has(offset, 4))
                {
                    return DecodeEvent.VLAN_TRUNCATED;
                }
                frame.packet.encapsulations |= Encapsulation.VLAN.bit();
                return decodeEtherType(frame, Bytes.u16(frame.segment, offset + 2), offset + 4);
            case EtherType.MPLS_UNICAST, EtherType.MPLS_MULTICAST:
                return decodeMpls(frame, offset);
            case EtherType.PPPOE_SESSION:
                return decodePppoe(frame, offset);
            case EtherType.PBB_ITAG:
                frame.packet.encapsulations |= Encapsulation.PBB.bit();
                return frame.has(offset, 4) ? decodeEthernet(frame, offset + 4) : DecodeEvent.LINK_HEADER_TRUNCATED;
            case EtherType.CISCO_FABRICPATH:
                frame.packet.encapsulations |= Encapsulation.FABRICPATH.bit();
                if (!frame.has(offset, 2))
                {
                    return DecodeEvent.LINK_HEADER_TRUNCATED;
                }
                // The inner frame keeps its 4-byte FCS at the end of the outer one (as tshark's dissector reads it).
                frame.wireEnd -= 4;
                frame.capturedEnd = Math.min(frame.capturedEnd, frame.wireEnd);
                return decodeEthernet(frame, offset + 2);
            case EtherType.VNTAG:
                if (!frame.has(offset, 6))
                {
                    return DecodeEvent.LINK_HEADER_TRUNCATED;
                }
                frame.packet.encapsulations |= Encapsulation.VNTAG.bit();
                return decodeEtherType(frame, Bytes.u16(frame.segment, offset + 4), offset + 6);
            case EtherType.TRANSPARENT_ETHERNET:
                return decodeEthernet(frame, offset);
            default:
                return DecodeEvent.NON_IP;
        }
    }

    private static DecodeEvent decodeMpls(final FrameCursor frame, final long offset)
    {
        frame.packet.encapsulations |= Encapsulation.MPLS.bit();
        long position = offset;
        for (int labels = 0; ; labels++)
        {
            if (labels == MAX_MPLS_LABELS)
            {
                return DecodeEvent.ENCAPSULATION_TOO_DEEP;
            }
            if (!frame.has(position, Tunnels.MPLS_LABEL_LENGTH))
            {
                return DecodeEvent.MPLS_TRUNCATED;
            }
            final boolean bottomOfStack = (Bytes.u8(frame.segment, position + 2) & 0x01) != 0;
            position += Tunnels.MPLS_LABEL_LENGTH;
            if (bottomOfStack)
            {
                break;
            }
        }
        if (!frame.has(position, 1))
        {
            return DecodeEvent.MPLS_TRUNCATED;
        }
        // MPLS does not say what it carries; the first nibble does: IP versions, or 0 for a pseudowire
        // control word before an Ethernet frame, anything else an Ethernet frame without control word.
        final int nibble = Bytes.u8(frame.segment, position) >>> 4;
        return switch (nibble)
        {
            case 4 -> NetworkLayerDecoder.decodeIpv4(frame, position);
            case 6 -> NetworkLayerDecoder.decodeIpv6(frame, position);
            case 0 -> frame.deeper() ? decodeEthernet(frame, position + 4) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            default -> frame.deeper() ? decodeEthernet(frame, position) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
        };
    }

    private static DecodeEvent decodePppoe(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, Tunnels.PPPOE_SESSION_HEADER_LENGTH + 1))
        {
            return DecodeEvent.PPPOE_TRUNCATED;
        }
        frame.packet.encapsulations |= Encapsulation.PPPOE.bit();
        // The innermost layers must end inside this one, so the tightest end seen going inwards wins.
        frame.linkPayloadEnd = Math.min(frame.linkPayloadEnd, offset + Tunnels.PPPOE_SESSION_HEADER_LENGTH +
            Bytes.u16(frame.segment, offset + Tunnels.PPPOE_LENGTH_OFFSET));
        return decodePpp(frame, offset + Tunnels.PPPOE_SESSION_HEADER_LENGTH);
    }

    /** PPP (in PPPoE, or in GRE for PPTP) from its protocol field. */
    static DecodeEvent decodePpp(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, 1))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        // Protocol-field compression (RFC 1661): an odd first byte is the whole, one-byte protocol.
        final int first = Bytes.u8(frame.segment, offset);
        if ((first & 1) != 0)
        {
            return decodePppProtocol(frame, first, offset + 1);
        }
        if (!frame.has(offset, 2))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        return decodePppProtocol(frame, Bytes.u16(frame.segment, offset), offset + 2);
    }

    private static DecodeEvent decodePppProtocol(final FrameCursor frame, final int protocol, final long offset)
    {
        return switch (protocol)
        {
            case Tunnels.PPP_PROTOCOL_IPV4 -> NetworkLayerDecoder.decodeIpv4(frame, offset);
            case Tunnels.PPP_PROTOCOL_IPV6 -> NetworkLayerDecoder.decodeIpv6(frame, offset);
            default -> DecodeEvent.NON_IP;
        };
    }

    /** FDDI: frame control, two 6-byte addresses, then 802.2 LLC; only SNAP (AA AA 03) carries an EtherType. */
    private static DecodeEvent decodeFddi(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, FDDI_HEADER_LENGTH + LLC_SNAP_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        final long llc = offset + FDDI_HEADER_LENGTH;
        if (Bytes.u16(frame.segment, llc) != 0xAAAA || Bytes.u8(frame.segment, llc + 2) != 0x03)
        {
            return DecodeEvent.NON_IP;
        }
        return decodeEtherType(frame, Bytes.u16(frame.segment, llc + 6), llc + LLC_SNAP_LENGTH);
    }

    private static DecodeEvent decodeSll(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, SLL_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return decodeEtherType(frame, Bytes.u16(frame.segment, offset + 14), offset + SLL_HEADER_LENGTH);
    }

    private static DecodeEvent decodeSll2(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, SLL2_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return decodeEtherType(frame, Bytes.u16(frame.segment, offset), offset + SLL2_HEADER_LENGTH);
    }

    private static DecodeEvent decodeNull(final FrameCursor frame, final long offset, final boolean networkOrder)
    {
        if (!frame.has(offset, NULL_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        // DLT_NULL stores the family in the capturing host's byte order: accept either.
        long family = Bytes.u32(frame.segment, offset, networkOrder);
        if (!networkOrder && family > 0xFFFF)
        {
            family = Bytes.u32(frame.segment, offset, true);
        }
        final long payload = offset + NULL_HEADER_LENGTH;
        if (family == 2)
        {
            return NetworkLayerDecoder.decodeIpv4(frame, payload);
        }
        if (family == 10 || family == 24 || family == 28 || family == 30)
        {
            return NetworkLayerDecoder.decodeIpv6(frame, payload);
        }
        return DecodeEvent.NON_IP;
    }

    private static DecodeEvent decodeNflog(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, NFLOG_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        frame.packet.encapsulations |= Encapsulation.NFLOG.bit();
        final int family = Bytes.u8(frame.segment, offset);
        long position = offset + NFLOG_HEADER_LENGTH;
        // TLVs in host order (little-endian writers in practice); lengths include the 4-byte TLV header.
        while (frame.has(position, 4))
        {
            final int length = Bytes.u16(frame.segment, position, false);
            final int type = Bytes.u16(frame.segment, position + 2, false) & 0x7FFF;
            if (length < 4)
            {
                return DecodeEvent.LINK_HEADER_TRUNCATED;
            }
            if (type == NFLOG_TLV_PAYLOAD)
            {
                final long payload = position + 4;
                return family == 10 ? NetworkLayerDecoder.decodeIpv6(frame, payload) :
                    family == 2 ? NetworkLayerDecoder.decodeIpv4(frame, payload) : DecodeEvent.NON_IP;
            }
            position += (length + 3) & ~3;
        }
        return DecodeEvent.NON_IP;
    }
}
