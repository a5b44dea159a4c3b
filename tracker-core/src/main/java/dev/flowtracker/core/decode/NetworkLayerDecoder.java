package dev.flowtracker.core.decode;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.core.wire.Ipv4;
import dev.flowtracker.core.wire.Ipv6;
import dev.flowtracker.core.wire.Tunnels;

/**
 * The network layer: IPv4 (options, fragments, TSO's zero total length) and IPv6 with its extension headers
 * (hop-by-hop, routing, destination options, mobility, authentication, fragment), then what the IP header says it
 * carries: TCP ({@link TcpHeaderDecoder}), IP in IP (back here), GRE and UDP ({@link TunnelDecoder}). It fills the
 * addresses and IP length of the innermost IP header that carries the TCP header, and notes the outermost fragment.
 *
 * <p>Static methods over a {@link FrameCursor}: nothing is allocated per packet. Header lengths, total and payload
 * lengths and extension lengths read from the frame are checked against the captured bytes before any read
 * ({@link FrameCursor#has}); an IP length beyond the frame is clamped to it (a warning), and the extension chain
 * is bounded by {@link PacketDecoder#MAX_IPV6_EXTENSION_HEADERS}. A broken header ends decoding with a
 * {@link DecodeEvent} that the caller counts, never an exception. Holds no state of its own: it runs on the thread
 * of the {@link PacketDecoder} whose cursor it is given.
 */
final class NetworkLayerDecoder
{
    private NetworkLayerDecoder()
    {
    }

    /** An IP header of either version, told apart by its first nibble; nothing past {@code limit} is read. */
    static DecodeEvent decodeIpByVersion(final FrameCursor frame, final long offset, final long limit)
    {
        if (!frame.has(offset, 1) || offset >= limit)
        {
            return DecodeEvent.LINK_HEADER_TRUNCATED;
        }
        return switch (Bytes.u8(frame.segment, offset) >>> 4)
        {
            case 4 -> decodeIpv4(frame, offset);
            case 6 -> decodeIpv6(frame, offset);
            default -> DecodeEvent.NON_IP;
        };
    }

    static DecodeEvent decodeIpv4(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, Ipv4.MIN_HEADER_LENGTH))
        {
            return DecodeEvent.IPV4_HEADER_TRUNCATED;
        }
        if (Ipv4.version(frame.segment, offset) != 4)
        {
            return DecodeEvent.IPV4_BAD_VERSION;
        }
        final int headerLength = Ipv4.headerLength(frame.segment, offset);
        if (headerLength < Ipv4.MIN_HEADER_LENGTH)
        {
            return DecodeEvent.IPV4_HEADER_LENGTH_INVALID;
        }
        if (!frame.has(offset, headerLength))
        {
            return DecodeEvent.IPV4_HEADER_TRUNCATED;
        }
        long totalLength = Ipv4.totalLength(frame.segment, offset);
        final long onWire = frame.wireEnd - offset;
        if (totalLength == 0)
        {
            // TSO/BIG TCP captures leave the length 0: the frame is the datagram.
            totalLength = onWire;
        }
        if (totalLength < headerLength)
        {
            return DecodeEvent.IPV4_TOTAL_LENGTH_INVALID;
        }
        final DecodedPacket packet = frame.packet;
        if (totalLength > onWire)
        {
            frame.warn(DecodeEvent.IP_LENGTH_EXCEEDS_FRAME);
            packet.ipLengthExceedsFrame = true;
            totalLength = onWire;
        }
        final int fragmentOffset = Ipv4.fragmentOffset(frame.segment, offset);
        final boolean moreFragments = Ipv4.moreFragments(frame.segment, offset);
        if (fragmentOffset != 0 || moreFragments)
        {
            frame.recordFragment(0, Ipv4.source(frame.segment, offset), 0, Ipv4.destination(frame.segment, offset),
                (Bytes.u16(frame.segment, offset + 4) << 8) | Ipv4.protocol(frame.segment, offset), fragmentOffset * 8,
                totalLength - headerLength, moreFragments);
        }
        if (fragmentOffset != 0)
        {
            return DecodeEvent.IPV4_FRAGMENT_TRAILING;
        }
        packet.ipVersion = 4;
        packet.srcHigh = 0;
        packet.dstHigh = 0;
        packet.srcLow = Ipv4.source(frame.segment, offset);
        packet.dstLow = Ipv4.destination(frame.segment, offset);
        packet.ipLength = (int)Math.min(Integer.MAX_VALUE, totalLength);
        packet.ipFragmented |= moreFragments; // an outer fragment cuts inner ones too
        if (frame.verifyChecksums)
        {
            packet.ipChecksum = ChecksumVerifier.ipv4Header(frame.segment, offset, headerLength);
        }
        return decodeIpPayload(
            frame, Ipv4.protocol(frame.segment, offset), offset + headerLength, offset + totalLength);
    }

    static DecodeEvent decodeIpv6(final FrameCursor frame, final long offset)
    {
        if (!frame.has(offset, Ipv6.HEADER_LENGTH))
        {
            return DecodeEvent.IPV6_HEADER_TRUNCATED;
        }
        if ((Bytes.u8(frame.segment, offset) >>> 4) != 6)
        {
            return DecodeEvent.IPV6_BAD_VERSION;
        }
        final long onWire = frame.wireEnd - offset - Ipv6.HEADER_LENGTH;
        long payloadLength = Ipv6.payloadLength(frame.segment, offset);
        if (payloadLength == 0 || payloadLength > onWire)
        {
            // 0: a jumbogram (RFC 2675) or a TSO capture; either way the frame bounds the datagram.
            if (payloadLength > onWire)
            {
                frame.warn(DecodeEvent.IP_LENGTH_EXCEEDS_FRAME);
            }
            payloadLength = Math.max(0, onWire);
        }
        final long end = offset + Ipv6.HEADER_LENGTH + payloadLength;
        int nextHeader = Ipv6.nextHeader(frame.segment, offset);
        long position = offset + Ipv6.HEADER_LENGTH;
        boolean fragmented = false;
        for (int extensions = 0; ; extensions++)
        {
            final long extensionLength;
            switch (nextHeader)
            {
                case Ipv6.EXT_HOP_BY_HOP, Ipv6.EXT_ROUTING, Ipv6.EXT_DESTINATION_OPTIONS, Ipv6.EXT_MOBILITY:
                    if (!frame.has(position, 2))
                    {
                        return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
                    }
                    extensionLength = (Bytes.u8(frame.segment, position + 1) + 1L) * 8;
                    break;
                case Ipv6.EXT_AUTHENTICATION:
                    if (!frame.has(position, 2))
                    {
                        return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
                    }
                    extensionLength = (Bytes.u8(frame.segment, position + 1) + 2L) * 4;
                    break;
                case Ipv6.EXT_FRAGMENT:
                    if (!frame.has(position, 8))
                    {
                        return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
                    }
                    final int offsetAndFlags = Bytes.u16(frame.segment, position + 2);
                    frame.recordFragment(Ipv6.sourceHigh(frame.segment, offset), Ipv6.sourceLow(frame.segment, offset),
                        Ipv6.destinationHigh(frame.segment, offset), Ipv6.destinationLow(frame.segment, offset),
                        Bytes.i32(frame.segment, position + 4), (offsetAndFlags >>> 3) * 8, end - position - 8,
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
            if (extensions == PacketDecoder.MAX_IPV6_EXTENSION_HEADERS)
            {
                return DecodeEvent.IPV6_EXTENSION_CHAIN_TOO_LONG;
            }
            if (!frame.has(position, extensionLength) || position + extensionLength > end)
            {
                return DecodeEvent.IPV6_EXTENSION_TRUNCATED;
            }
            nextHeader = Bytes.u8(frame.segment, position);
            position += extensionLength;
        }
        final DecodedPacket packet = frame.packet;
        packet.ipVersion = 6;
        packet.srcHigh = Ipv6.sourceHigh(frame.segment, offset);
        packet.srcLow = Ipv6.sourceLow(frame.segment, offset);
        packet.dstHigh = Ipv6.destinationHigh(frame.segment, offset);
        packet.dstLow = Ipv6.destinationLow(frame.segment, offset);
        packet.ipLength = (int)Math.min(Integer.MAX_VALUE, end - offset);
        packet.ipFragmented |= fragmented;
        return decodeIpPayload(frame, nextHeader, position, end);
    }

    /** What an IP header carries, from its protocol (next header); {@code end} is where its payload ends. */
    static DecodeEvent decodeIpPayload(final FrameCursor frame, final int protocol, final long offset, final long end)
    {
        switch (protocol)
        {
            case Tunnels.IP_PROTOCOL_TCP:
                return TcpHeaderDecoder.decodeTcp(frame, offset, end);
            case Tunnels.IP_PROTOCOL_IPV4:
                frame.packet.encapsulations |= Encapsulation.IP_IN_IP.bit();
                return frame.deeper() ? decodeIpv4(frame, offset) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            case Tunnels.IP_PROTOCOL_IPV6:
                frame.packet.encapsulations |= Encapsulation.IP_IN_IP.bit();
                return frame.deeper() ? decodeIpv6(frame, offset) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            case Tunnels.IP_PROTOCOL_GRE:
                return frame.deeper() ? TunnelDecoder.decodeGre(frame, offset) : DecodeEvent.ENCAPSULATION_TOO_DEEP;
            case Tunnels.IP_PROTOCOL_UDP:
                return TunnelDecoder.decodeUdp(frame, offset, end);
            default:
                return DecodeEvent.NON_TCP;
        }
    }
}
