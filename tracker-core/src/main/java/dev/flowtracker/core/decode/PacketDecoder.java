package dev.flowtracker.core.decode;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.core.wire.Checksums;
import dev.flowtracker.core.wire.EtherType;
import dev.flowtracker.core.wire.Ipv4;
import dev.flowtracker.core.wire.Ipv6;
import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.core.wire.Tcp;
import dev.flowtracker.core.wire.Tunnels;

import java.lang.foreign.MemorySegment;

/**
 * Walks one captured frame from its link-layer header down to the first TCP header, through VLAN/QinQ, MPLS, PPPoE,
 * IP-in-IP, GRE (with ERSPAN II/III and transparent Ethernet bridging), VXLAN, Geneve, Teredo, GTP-U and AYIYA,
 * and fills a {@link DecodedPacket}. The outermost TCP found going inwards is the one tracked.
 *
 * <p>Nothing here allocates or throws on bad input: every length read from the frame is checked against the
 * captured bytes first, and a broken header ends decoding with a {@link DecodeEvent}. Wire lengths (payload
 * lengths, IP lengths) come from the IP headers, so snaplen-truncated frames still report their true sizes.
 *
 * <p>Not thread safe: one decoder per decoding thread.
 */
public final class PacketDecoder
{
    /** Tunnels, tags and label stacks crossed before giving up: stops encapsulation bombs. */
    public static final int MAX_ENCAPSULATION_DEPTH = 16;
    public static final int MAX_IPV6_EXTENSION_HEADERS = 16;
    private static final int MAX_MPLS_LABELS = 16;

    private static final int ETHERNET_HEADER_LENGTH = 14;
    private static final int SLL_HEADER_LENGTH = 16;
    private static final int SLL2_HEADER_LENGTH = 20;
    private static final int NULL_HEADER_LENGTH = 4;
    private static final int NFLOG_HEADER_LENGTH = 4;
    private static final int NFLOG_TLV_PAYLOAD = 9;
    private static final int AYIYA_UDP_PORT = 5072;
    private static final int FDDI_HEADER_LENGTH = 13;
    private static final int LLC_SNAP_LENGTH = 8;
    /** tshark reads TCP bytes 0-15 (ports to window) before it assigns a stream; we need the same minimum. */
    private static final int TCP_FIXED_FIELDS_LENGTH = 16;

    private MemorySegment segment;
    /** End of the captured bytes: no read may cross it. */
    private long capturedEnd;
    /** End of the frame as it was on the wire (may lie beyond the captured bytes). */
    private long wireEnd;
    /**
     * Where a link layer with its own length (PPPoE) says its payload ends, or Long.MAX_VALUE. It only shortens what
     * tshark's sequence analysis sees ({@link DecodedPacket#payloadBeyondLinkLength}); lengths still come from IP.
     */
    private long linkPayloadEnd;
    private DecodedPacket packet;
    private int depth;
    private boolean verifyChecksums;
    private boolean verifyFrameChecksums; // for the frame being decoded: off when its checksums are pending

    /**
     * Whether to verify IPv4 header and TCP checksums (off by default: it reads every payload byte). Results land
     * in {@link DecodedPacket#ipChecksum} and {@link DecodedPacket#tcpChecksum}; nothing is dropped here.
     */
    public void verifyChecksums(final boolean verify)
    {
        this.verifyChecksums = verify;
    }

    /**
     * Decodes one frame.
     *
     * @param segment        memory holding the frame.
     * @param offset         where the frame starts in the segment.
     * @param capturedLength bytes of the frame present in the segment.
     * @param wireLength     the frame's length on the wire (pcap origlen), at least {@code capturedLength}.
     * @param linkType       the LINKTYPE_ of the frame.
     * @param out            receives the segment's fields; its capture metadata is left untouched.
     * @return {@link DecodeEvent#TCP_SEGMENT} when {@code out} holds a TCP segment, otherwise why not.
     */
    public DecodeEvent decode(
        final MemorySegment segment,
        final long offset,
        final int capturedLength,
        final int wireLength,
        final int linkType,
        final DecodedPacket out)
    {
        return decode(segment, offset, capturedLength, wireLength, linkType, out, false);
    }

    /** As above; with {@code checksumsPending} (left to the sender's network card) they are not verified. */
    public DecodeEvent decode(final MemorySegment segment, final long offset, final int capturedLength,
        final int wireLength, final int linkType, final DecodedPacket out, final boolean checksumsPending)
    {
        this.verifyFrameChecksums = verifyChecksums && !checksumsPending;
        this.segment = segment;
        this.capturedEnd = offset + Math.max(0, capturedLength);
        this.wireEnd = offset + Math.max(capturedLength, wireLength);
        this.linkPayloadEnd = Long.MAX_VALUE;
        this.packet = out;
        this.depth = 0;
        out.resetDecodedFields();
        if (capturedLength <= 0)
        {
            return DecodeEvent.FRAME_EMPTY;
        }
        return decodeLink(linkType, offset);
    }

    private DecodeEvent decodeLink(final int linkType, final long offset)
    {
        return switch (linkType)
        {
            case LinkType.EN10MB -> decodeEthernet(offset);
            case LinkType.RAW, LinkType.RAW_DLT_12, LinkType.RAW_DLT_14 -> decodeIpByVersion(offset, capturedEnd);
            case LinkType.IPV4 -> decodeIpv4(offset);
            case LinkType.IPV6 -> decodeIpv6(offset);
            case LinkType.LINUX_SLL -> decodeSll(offset);
            case LinkType.LINUX_SLL2 -> decodeSll2(offset);
            case LinkType.NULL -> decodeNull(offset, false);
            case LinkType.LOOP -> decodeNull(offset, true);
            case LinkType.NFLOG -> decodeNflog(offset);
            case LinkType.FDDI -> decodeFddi(offset);
            default -> DecodeEvent.UNSUPPORTED_LINK_TYPE;
        };
    }

    private boolean has(final long offset, final long length)
    {
        return offset >= 0 && length >= 0 && offset + length <= capturedEnd;
    }

    /** Notes the outermost fragmented IP layer, so a defragmenter can tell when its datagram is complete. */
    private void recordFragment(
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int id,
        final int fragmentOffset, final long length, final boolean more)
    {
        final DecodedPacket p = packet;
        if (p.fragmentLength >= 0)
        {
            return;
        }
        p.fragmentSrcHigh = srcHigh;
        p.fragmentSrcLow = srcLow;
        p.fragmentDstHigh = dstHigh;
        p.fragmentDstLow = dstLow;
        p.fragmentId = id;
        p.fragmentOffset = fragmentOffset;
        p.fragmentLength = (int)Math.max(0, Math.min(Integer.MAX_VALUE, length));
        p.fragmentMore = more;
    }

    /** Keeps the first warning of a frame: it is the outermost, and usually the cause of later ones. */
    private void warn(final DecodeEvent warning)
    {
        if (packet.warning == null)
        {
            packet.warning = warning;
        }
    }

    private boolean deeper()
    {
        return ++depth <= MAX_ENCAPSULATION_DEPTH;
    }

    private DecodeEvent decodeEthernet(final long offset)
    {
        if (!has(offset, ETHERNET_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return decodeEtherType(Bytes.u16(segment, offset + 12), offset + ETHERNET_HEADER_LENGTH);
    }

    private DecodeEvent decodeEtherType(final int etherType, final long offset)
    {
        if (!deeper())
        {
            return DecodeEvent.ENCAPSULATION_TOO_DEEP;
        }
        switch (etherType)
        {
            case EtherType.IPV4:
                return decodeIpv4(offset);
            case EtherType.IPV6:
                return decodeIpv6(offset);
            case EtherType.VLAN_8021Q, EtherType.VLAN_8021AD, EtherType.VLAN_QINQ_LEGACY:
                if (!has(offset, 4))
                {
                    return DecodeEvent.VLAN_TRUNCATED;
                }
                packet.encapsulations |= Encapsulation.VLAN.bit();
                return decodeEtherType(Bytes.u16(segment, offset + 2), offset + 4);
            case EtherType.MPLS_UNICAST, EtherType.MPLS_MULTICAST:
                return decodeMpls(offset);
            case EtherType.PPPOE_SESSION:
                return decodePppoe(offset);
            case EtherType.PBB_ITAG:
                packet.encapsulations |= Encapsulation.PBB.bit();
                return has(offset, 4) ? decodeEthernet(offset + 4) : DecodeEvent.LINK_HEADER_TRUNCATED;
            case EtherType.CISCO_FABRICPATH:
                packet.encapsulations |= Encapsulation.FABRICPATH.bit();
                if (!has(offset, 2))
                {
                    return DecodeEvent.LINK_HEADER_TRUNCATED;
                }
                // The inner frame keeps its 4-byte FCS at the end of the outer one (as tshark's dissector reads it).
                wireEnd -= 4;
                capturedEnd = Math.min(capturedEnd, wireEnd);
                return decodeEthernet(offset + 2);
            case EtherType.VNTAG:
                if (!has(offset, 6))
                {
                    return DecodeEvent.LINK_HEADER_TRUNCATED;
                }
                packet.encapsulations |= Encapsulation.VNTAG.bit();
                return decodeEtherType(Bytes.u16(segment, offset + 4), offset + 6);
            case EtherType.TRANSPARENT_ETHERNET:
                return decodeEthernet(offset);
            default:
                return DecodeEvent.NON_IP;
        }
    }

    private DecodeEvent decodeMpls(final long offset)
    {
        packet.encapsulations |= Encapsulation.MPLS.bit();
        long position = offset;
        for (int labels = 0; ; labels++)
        {
            if (labels == MAX_MPLS_LABELS)
            {
                return DecodeEvent.ENCAPSULATION_TOO_DEEP;
            }
            if (!has(position, Tunnels.MPLS_LABEL_LENGTH))
            {
                return DecodeEvent.MPLS_TRUNCATED;
            }
            final boolean bottomOfStack = (Bytes.u8(segment, position + 2) & 0x01) != 0;
            position += Tunnels.MPLS_LABEL_LENGTH;
            if (bottomOfStack)
            {
                break;
            }
        }
        if (!has(position, 1))
        {
            return DecodeEvent.MPLS_TRUNCATED;
        }
        // MPLS does not say what it carries; the first nibble does: IP versions, or 0 for a pseudowire
        // control word before an Ethernet frame, anything else an Ethernet frame without control word.
        final int nibble = Bytes.u8(segment, position) >>> 4;
        return switch (nibble)
        {
            case 4 -> decodeIpv4(position);
            case 6 -> decodeIpv6(position);
            case 0 -> deeper() ? decodeEthernet(position + 4) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            default -> deeper() ? decodeEthernet(position) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
        };
    }

    private DecodeEvent decodePppoe(final long offset)
    {
        if (!has(offset, Tunnels.PPPOE_SESSION_HEADER_LENGTH + 1))
        {
            return DecodeEvent.PPPOE_TRUNCATED;
        }
        packet.encapsulations |= Encapsulation.PPPOE.bit();
        // The innermost layers must end inside this one, so the tightest end seen going inwards wins.
        linkPayloadEnd = Math.min(linkPayloadEnd,
            offset + Tunnels.PPPOE_SESSION_HEADER_LENGTH + Bytes.u16(segment, offset + Tunnels.PPPOE_LENGTH_OFFSET));
        return decodePpp(offset + Tunnels.PPPOE_SESSION_HEADER_LENGTH);
    }

    private DecodeEvent decodePppProtocol(final int protocol, final long offset)
    {
        return switch (protocol)
        {
            case Tunnels.PPP_PROTOCOL_IPV4 -> decodeIpv4(offset);
            case Tunnels.PPP_PROTOCOL_IPV6 -> decodeIpv6(offset);
            default -> DecodeEvent.NON_IP;
        };
    }

    /** FDDI: frame control, two 6-byte addresses, then 802.2 LLC; only SNAP (AA AA 03) carries an EtherType. */
    private DecodeEvent decodeFddi(final long offset)
    {
        if (!has(offset, FDDI_HEADER_LENGTH + LLC_SNAP_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        final long llc = offset + FDDI_HEADER_LENGTH;
        if (Bytes.u16(segment, llc) != 0xAAAA || Bytes.u8(segment, llc + 2) != 0x03)
        {
            return DecodeEvent.NON_IP;
        }
        return decodeEtherType(Bytes.u16(segment, llc + 6), llc + LLC_SNAP_LENGTH);
    }

    private DecodeEvent decodeSll(final long offset)
    {
        if (!has(offset, SLL_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return decodeEtherType(Bytes.u16(segment, offset + 14), offset + SLL_HEADER_LENGTH);
    }

    private DecodeEvent decodeSll2(final long offset)
    {
        if (!has(offset, SLL2_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return decodeEtherType(Bytes.u16(segment, offset), offset + SLL2_HEADER_LENGTH);
    }

    private DecodeEvent decodeNull(final long offset, final boolean networkOrder)
    {
        if (!has(offset, NULL_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        // DLT_NULL stores the family in the capturing host's byte order: accept either.
        long family = Bytes.u32(segment, offset, networkOrder);
        if (!networkOrder && family > 0xFFFF)
        {
            family = Bytes.u32(segment, offset, true);
        }
        final long payload = offset + NULL_HEADER_LENGTH;
        if (family == 2)
        {
            return decodeIpv4(payload);
        }
        if (family == 10 || family == 24 || family == 28 || family == 30)
        {
            return decodeIpv6(payload);
        }
        return DecodeEvent.NON_IP;
    }

    private DecodeEvent decodeNflog(final long offset)
    {
        if (!has(offset, NFLOG_HEADER_LENGTH))
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        packet.encapsulations |= Encapsulation.NFLOG.bit();
        final int family = Bytes.u8(segment, offset);
        long position = offset + NFLOG_HEADER_LENGTH;
        // TLVs in host order (little-endian writers in practice); lengths include the 4-byte TLV header.
        while (has(position, 4))
        {
            final int length = Bytes.u16(segment, position, false);
            final int type = Bytes.u16(segment, position + 2, false) & 0x7FFF;
            if (length < 4)
            {
                return DecodeEvent.LINK_HEADER_TRUNCATED;
            }
            if (type == NFLOG_TLV_PAYLOAD)
            {
                final long payload = position + 4;
                return family == 10 ? decodeIpv6(payload) : family == 2 ? decodeIpv4(payload) : DecodeEvent.NON_IP;
            }
            position += (length + 3) & ~3;
        }
        return DecodeEvent.NON_IP;
    }

    private DecodeEvent decodeIpByVersion(final long offset, final long limit)
    {
        if (!has(offset, 1) || offset >= limit)
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return switch (Bytes.u8(segment, offset) >>> 4)
        {
            case 4 -> decodeIpv4(offset);
            case 6 -> decodeIpv6(offset);
            default -> DecodeEvent.NON_IP;
        };
    }

    private DecodeEvent decodeIpv4(final long offset)
    {
        if (!has(offset, Ipv4.MIN_HEADER_LENGTH))
        {
            return DecodeEvent.IPV4_HEADER_TRUNCATED;
        }
        if (Ipv4.version(segment, offset) != 4)
        {
            return DecodeEvent.IPV4_BAD_VERSION;
        }
        final int headerLength = Ipv4.headerLength(segment, offset);
        if (headerLength < Ipv4.MIN_HEADER_LENGTH)
        {
            return DecodeEvent.IPV4_HEADER_LENGTH_INVALID;
        }
        if (!has(offset, headerLength))
        {
            return DecodeEvent.IPV4_HEADER_TRUNCATED;
        }
        long totalLength = Ipv4.totalLength(segment, offset);
        final long onWire = wireEnd - offset;
        if (totalLength == 0)
        {
            // TSO/BIG TCP captures leave the length 0: the frame is the datagram.
            totalLength = onWire;
        }
        if (totalLength < headerLength)
        {
            return DecodeEvent.IPV4_TOTAL_LENGTH_INVALID;
        }
        if (totalLength > onWire)
        {
            warn(DecodeEvent.IP_LENGTH_EXCEEDS_FRAME);
            packet.ipLengthExceedsFrame = true;
            totalLength = onWire;
        }
        final int fragmentOffset = Ipv4.fragmentOffset(segment, offset);
        final boolean moreFragments = Ipv4.moreFragments(segment, offset);
        if (fragmentOffset != 0 || moreFragments)
        {
            recordFragment(0, Ipv4.source(segment, offset), 0, Ipv4.destination(segment, offset),
                (Bytes.u16(segment, offset + 4) << 8) | Ipv4.protocol(segment, offset), fragmentOffset * 8,
                totalLength - headerLength, moreFragments);
        }
        if (fragmentOffset != 0)
        {
            return DecodeEvent.IPV4_FRAGMENT_TRAILING;
        }
        packet.ipVersion = 4;
        packet.srcHigh = 0;
        packet.dstHigh = 0;
        packet.srcLow = Ipv4.source(segment, offset);
        packet.dstLow = Ipv4.destination(segment, offset);
        packet.ipLength = (int)Math.min(Integer.MAX_VALUE, totalLength);
        packet.ipFragmented |= moreFragments; // an outer fragment cuts inner ones too
        if (verifyFrameChecksums)
        {
            packet.ipChecksum = Checksums.fold(Checksums.add(segment, offset, headerLength, 0)) == 0xFFFF ?
                DecodedPacket.CHECKSUM_GOOD : DecodedPacket.CHECKSUM_BAD;
        }
        return decodeIpPayload(Ipv4.protocol(segment, offset), offset + headerLength, offset + totalLength);
    }

    private DecodeEvent decodeIpv6(final long offset)
    {
        if (!has(offset, Ipv6.HEADER_LENGTH))
        {
            return DecodeEvent.IPV6_HEADER_TRUNCATED;
        }
        if ((Bytes.u8(segment, offset) >>> 4) != 6)
        {
            return DecodeEvent.IPV6_BAD_VERSION;
        }
        final long onWire = wireEnd - offset - Ipv6.HEADER_LENGTH;
        long payloadLength = Ipv6.payloadLength(segment, offset);
        if (payloadLength == 0 || payloadLength > onWire)
        {
            // 0: a jumbogram (RFC 2675) or a TSO capture; either way the frame bounds the datagram.
            if (payloadLength > onWire)
            {
                warn(DecodeEvent.IP_LENGTH_EXCEEDS_FRAME);
            }
            payloadLength = Math.max(0, onWire);
        }
        final long end = offset + Ipv6.HEADER_LENGTH + payloadLength;
        int nextHeader = Ipv6.nextHeader(segment, offset);
        long position = offset + Ipv6.HEADER_LENGTH;
        boolean fragmented = false;
        for (int extensions = 0; ; extensions++)
        {
            final long extensionLength;
            switch (nextHeader)
            {
                case Ipv6.EXT_HOP_BY_HOP, Ipv6.EXT_ROUTING, Ipv6.EXT_DESTINATION_OPTIONS, Ipv6.EXT_MOBILITY:
                    if (!has(position, 2))
                    {
                        return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
                    }
                    extensionLength = (Bytes.u8(segment, position + 1) + 1L) * 8;
                    break;
                case Ipv6.EXT_AUTHENTICATION:
                    if (!has(position, 2))
                    {
                        return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
                    }
                    extensionLength = (Bytes.u8(segment, position + 1) + 2L) * 4;
                    break;
                case Ipv6.EXT_FRAGMENT:
                    if (!has(position, 8))
                    {
                        return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
                    }
                    final int offsetAndFlags = Bytes.u16(segment, position + 2);
                    recordFragment(Ipv6.sourceHigh(segment, offset), Ipv6.sourceLow(segment, offset),
                        Ipv6.destinationHigh(segment, offset), Ipv6.destinationLow(segment, offset),
                        Bytes.i32(segment, position + 4), (offsetAndFlags >>> 3) * 8, end - position - 8,
                        (offsetAndFlags & 1) != 0);
                    if ((offsetAndFlags >>> 3) != 0)
                    {
                        return DecodeEvent.IPV6_FRAGMENT_TRAILING;
                    }
                    fragmented |= (offsetAndFlags & 1) != 0;
                    extensionLength = 8;
                    break;
                default:
                    extensionLength = -1;
                    break;
            }
            if (extensionLength < 0)
            {
                break;
            }
            if (extensions == MAX_IPV6_EXTENSION_HEADERS)
            {
                return DecodeEvent.IPV6_EXTENSION_CHAIN_TOO_LONG;
            }
            if (!has(position, extensionLength) || position + extensionLength > end)
            {
                return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
            }
            nextHeader = Bytes.u8(segment, position);
            position += extensionLength;
        }
        packet.ipVersion = 6;
        packet.srcHigh = Ipv6.sourceHigh(segment, offset);
        packet.srcLow = Ipv6.sourceLow(segment, offset);
        packet.dstHigh = Ipv6.destinationHigh(segment, offset);
        packet.dstLow = Ipv6.destinationLow(segment, offset);
        packet.ipLength = (int)Math.min(Integer.MAX_VALUE, end - offset);
        packet.ipFragmented |= fragmented;
        return decodeIpPayload(nextHeader, position, end);
    }

    private DecodeEvent decodeIpPayload(final int protocol, final long offset, final long end)
    {
        switch (protocol)
        {
            case Tunnels.IP_PROTOCOL_TCP:
                return decodeTcp(offset, end);
            case Tunnels.IP_PROTOCOL_IPV4:
                packet.encapsulations |= Encapsulation.IP_IN_IP.bit();
                return deeper() ? decodeIpv4(offset) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            case Tunnels.IP_PROTOCOL_IPV6:
                packet.encapsulations |= Encapsulation.IP_IN_IP.bit();
                return deeper() ? decodeIpv6(offset) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            case Tunnels.IP_PROTOCOL_GRE:
                return deeper() ? decodeGre(offset) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            case Tunnels.IP_PROTOCOL_UDP:
                return decodeUdp(offset, end);
            default:
                return DecodeEvent.NON_TCP;
        }
    }

    private DecodeEvent decodeUdp(final long offset, final long end)
    {
        if (!has(offset, Tunnels.UDP_HEADER_LENGTH))
        {
            return DecodeEvent.UDP_HEADER_TRUNCATED;
        }
        final int sourcePort = Bytes.u16(segment, offset);
        final int destinationPort = Bytes.u16(segment, offset + 2);
        final long payload = offset + Tunnels.UDP_HEADER_LENGTH;
        if (!isTunnelPort(sourcePort) && !isTunnelPort(destinationPort))
        {
            return DecodeEvent.NON_TCP;
        }
        if (!deeper())
        {
            return DecodeEvent.ENCAPSULATION_TOO_DEEP;
        }
        if (destinationPort == Tunnels.UDP_PORT_VXLAN || sourcePort == Tunnels.UDP_PORT_VXLAN)
        {
            return decodeVxlan(payload);
        }
        if (destinationPort == Tunnels.UDP_PORT_GENEVE || sourcePort == Tunnels.UDP_PORT_GENEVE)
        {
            return decodeGeneve(payload);
        }
        if (destinationPort == Tunnels.UDP_PORT_GRE || sourcePort == Tunnels.UDP_PORT_GRE)
        {
            return decodeGre(payload);
        }
        if (sourcePort == Tunnels.UDP_PORT_GTP_USER || destinationPort == Tunnels.UDP_PORT_GTP_USER)
        {
            return decodeGtpUser(payload, end);
        }
        if (sourcePort == Tunnels.UDP_PORT_TEREDO || destinationPort == Tunnels.UDP_PORT_TEREDO)
        {
            return decodeTeredo(payload, end);
        }
        if (sourcePort == AYIYA_UDP_PORT || destinationPort == AYIYA_UDP_PORT)
        {
            return decodeAyiya(payload, end);
        }
        return DecodeEvent.NON_TCP;
    }

    private static boolean isTunnelPort(final int port)
    {
        return port == Tunnels.UDP_PORT_VXLAN || port == Tunnels.UDP_PORT_GENEVE || port == Tunnels.UDP_PORT_GRE ||
            port == Tunnels.UDP_PORT_GTP_USER || port == Tunnels.UDP_PORT_TEREDO || port == AYIYA_UDP_PORT;
    }

    private DecodeEvent decodeVxlan(final long offset)
    {
        if (!has(offset, Tunnels.VXLAN_HEADER_LENGTH + ETHERNET_HEADER_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        packet.encapsulations |= Encapsulation.VXLAN.bit();
        return decodeEthernet(offset + Tunnels.VXLAN_HEADER_LENGTH);
    }

    private DecodeEvent decodeGeneve(final long offset)
    {
        if (!has(offset, Tunnels.GENEVE_HEADER_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int optionsLength = (Bytes.u8(segment, offset) & 0x3F) * 4;
        final int protocol = Bytes.u16(segment, offset + 2);
        final long payload = offset + Tunnels.GENEVE_HEADER_LENGTH + optionsLength;
        if (!has(payload, 1))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        packet.encapsulations |= Encapsulation.GENEVE.bit();
        return decodeEtherType(protocol, payload);
    }

    private DecodeEvent decodeGre(final long offset)
    {
        if (!has(offset, Tunnels.GRE_BASE_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int flags = Bytes.u16(segment, offset);
        final int protocol = Bytes.u16(segment, offset + 2);
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
        if (!has(payload, 1))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        packet.encapsulations |= Encapsulation.GRE.bit();
        switch (protocol)
        {
            case EtherType.ERSPAN_TYPE_II:
                packet.encapsulations |= Encapsulation.ERSPAN.bit();
                // Type I has no sequence number and no ERSPAN header; type II has both.
                return (flags & Tunnels.GRE_SEQUENCE) != 0 ?
                    decodeEthernet(payload + Tunnels.ERSPAN_II_HEADER_LENGTH) : decodeEthernet(payload);
            case EtherType.ERSPAN_TYPE_III:
                if (!has(payload, Tunnels.ERSPAN_III_HEADER_LENGTH))
                {
                    return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
                }
                packet.encapsulations |= Encapsulation.ERSPAN.bit();
                final boolean platformSubHeader = (Bytes.u8(segment, payload + 11) & 0x01) != 0;
                return decodeEthernet(payload + Tunnels.ERSPAN_III_HEADER_LENGTH +
                    (platformSubHeader ? Tunnels.ERSPAN_III_PLATFORM_SUBHEADER_LENGTH : 0));
            case 0x880B:
                return decodePppWithAddressControl(payload);
            default:
                return decodeEtherType(protocol, payload);
        }
    }

    /** PPP in GRE (PPTP) may keep the HDLC address/control bytes 0xFF 0x03 before the protocol. */
    private DecodeEvent decodePppWithAddressControl(final long offset)
    {
        if (has(offset, 2) && Bytes.u16(segment, offset) == 0xFF03)
        {
            return decodePpp(offset + 2);
        }
        return decodePpp(offset);
    }

    private DecodeEvent decodePpp(final long offset)
    {
        if (!has(offset, 1))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        // Protocol-field compression (RFC 1661): an odd first byte is the whole, one-byte protocol.
        final int first = Bytes.u8(segment, offset);
        if ((first & 1) != 0)
        {
            return decodePppProtocol(first, offset + 1);
        }
        if (!has(offset, 2))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        return decodePppProtocol(Bytes.u16(segment, offset), offset + 2);
    }

    private DecodeEvent decodeGtpUser(final long offset, final long end)
    {
        if (!has(offset, Tunnels.GTP_V1_HEADER_LENGTH))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int flags = Bytes.u8(segment, offset);
        if ((flags >>> 5) != 1 || Bytes.u8(segment, offset + 1) != Tunnels.GTP_G_PDU)
        {
            return DecodeEvent.NON_TCP;
        }
        long position = offset + Tunnels.GTP_V1_HEADER_LENGTH;
        if ((flags & 0x07) != 0)
        {
            if (!has(position, 4))
            {
                return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
            }
            int nextExtension = (flags & 0x04) != 0 ? Bytes.u8(segment, position + 3) : 0;
            position += 4;
            for (int extensions = 0; nextExtension != 0; extensions++)
            {
                if (extensions == MAX_ENCAPSULATION_DEPTH)
                {
                    return DecodeEvent.ENCAPSULATION_TOO_DEEP;
                }
                if (!has(position, 1))
                {
                    return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
                }
                final int length = Bytes.u8(segment, position) * 4;
                if (length == 0 || !has(position, length))
                {
                    return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
                }
                nextExtension = Bytes.u8(segment, position + length - 1);
                position += length;
            }
        }
        if (!has(position, 1) || position >= end)
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        packet.encapsulations |= Encapsulation.GTP.bit();
        return decodeIpByVersion(position, end);
    }

    private DecodeEvent decodeTeredo(final long offset, final long end)
    {
        long position = offset;
        if (has(position, 2) && Bytes.u16(segment, position) == 0x0001)
        {
            // Authentication indicator: id and auth lengths, then id, auth value, nonce (8), confirmation (1).
            if (!has(position, 4))
            {
                return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
            }
            position += 4 + Bytes.u8(segment, position + 2) + Bytes.u8(segment, position + 3) + 9;
        }
        if (has(position, 2) && Bytes.u16(segment, position) == 0x0000)
        {
            position += 8; // origin indication
        }
        if (!has(position, 1) || (Bytes.u8(segment, position) >>> 4) != 6)
        {
            return DecodeEvent.NON_TCP;
        }
        packet.encapsulations |= Encapsulation.TEREDO.bit();
        return position < end ? decodeIpv6(position) : DecodeEvent.TUNNEL_HEADER_TRUNCATED;
    }

    private DecodeEvent decodeAyiya(final long offset, final long end)
    {
        if (!has(offset, 8))
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        final int identityLength = 1 << (Bytes.u8(segment, offset) >>> 4);
        final int signatureLength = (Bytes.u8(segment, offset + 1) >>> 4) * 4;
        final int nextHeader = Bytes.u8(segment, offset + 3);
        final long payload = offset + 8 + identityLength + signatureLength;
        if (!has(payload, 1) || payload >= end)
        {
            return DecodeEvent.TUNNEL_HEADER_TRUNCATED;
        }
        packet.encapsulations |= Encapsulation.AYIYA.bit();
        return decodeIpPayload(nextHeader, payload, end);
    }

    private DecodeEvent decodeTcp(final long offset, final long end)
    {
        // Both bounds: bytes after the IP length (Ethernet padding) are not TCP, even when captured.
        if (!has(offset, TCP_FIXED_FIELDS_LENGTH) || offset + TCP_FIXED_FIELDS_LENGTH > end)
        {
            return DecodeEvent.TCP_HEADER_TRUNCATED;
        }
        final int headerLength = Tcp.headerLength(segment, offset);
        final boolean complete;
        if (headerLength < Tcp.MIN_HEADER_LENGTH)
        {
            warn(DecodeEvent.TCP_DATA_OFFSET_TOO_SMALL);
            complete = false;
        }
        else if (offset + headerLength > end)
        {
            warn(DecodeEvent.TCP_SHORT_SEGMENT);
            complete = false;
        }
        else
        {
            complete = true;
        }
        final DecodedPacket p = packet;
        p.srcPort = Tcp.sourcePort(segment, offset);
        p.dstPort = Tcp.destinationPort(segment, offset);
        p.seq = Tcp.sequence(segment, offset);
        p.ack = Tcp.acknowledgment(segment, offset);
        p.flags = Tcp.flags(segment, offset);
        p.window = Tcp.window(segment, offset);
        p.tcpHeaderLength = headerLength;
        p.tcpHeaderComplete = complete;
        p.tcpCapturedLength = (int)Math.max(0, Math.min(end, capturedEnd) - offset);
        if (!complete)
        {
            return DecodeEvent.TCP_SEGMENT;
        }
        p.payloadLength = (int)Math.min(Integer.MAX_VALUE, end - offset - headerLength);
        if (linkPayloadEnd < end)
        {
            // tshark trusts the shorter link length over the IP length: the rest is not payload to its analysis.
            p.payloadBeyondLinkLength =
                (int)Math.min(p.payloadLength, end - Math.max(linkPayloadEnd, offset + headerLength));
        }
        if (verifyFrameChecksums && end <= capturedEnd && !p.ipFragmented)
        {
            p.tcpChecksum = tcpChecksum(offset, end - offset);
        }
        p.capturedPayloadLength = (int)Math.max(0, Math.min(end, capturedEnd) - offset - headerLength);
        if (offset + headerLength > capturedEnd)
        {
            warn(DecodeEvent.TCP_HEADER_CUT_BY_SNAPLEN);
        }
        if (headerLength > Tcp.MIN_HEADER_LENGTH)
        {
            TcpOptions.parse(segment, offset + Tcp.MIN_HEADER_LENGTH, Math.min(offset + headerLength, capturedEnd), p);
        }
        return DecodeEvent.TCP_SEGMENT;
    }

    /** The TCP checksum over the pseudo header and the whole segment (which the caller knows was captured). */
    private int tcpChecksum(final long offset, final long length)
    {
        final DecodedPacket p = packet;
        long sum = Checksums.add(segment, offset, length, 0);
        if (p.ipVersion == 4)
        {
            sum = Checksums.addInt(p.srcLow, sum);
            sum = Checksums.addInt(p.dstLow, sum);
        }
        else
        {
            sum = Checksums.addLong(p.srcHigh, Checksums.addLong(p.srcLow, sum));
            sum = Checksums.addLong(p.dstHigh, Checksums.addLong(p.dstLow, sum));
        }
        sum = Checksums.addInt(length, sum) + Tunnels.IP_PROTOCOL_TCP;
        return Checksums.fold(sum) == 0xFFFF ? DecodedPacket.CHECKSUM_GOOD : DecodedPacket.CHECKSUM_BAD;
    }
}
