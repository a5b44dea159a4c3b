package dev.flowtracker.core.decode;

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
 * <p>The layers are decoded by static methods, one class per layer, over this decoder's {@link FrameCursor}:
 * <pre>
 *   {@link LinkLayerDecoder}     link types, EtherTypes, VLAN, MPLS, PPPoE/PPP, PBB, FabricPath, VN-Tag
 *   {@link NetworkLayerDecoder}  IPv4, IPv6 and its extension headers, what an IP header carries
 *   {@link TunnelDecoder}        GRE/ERSPAN, and VXLAN, Geneve, GTP-U, Teredo, AYIYA over UDP
 *   {@link TcpHeaderDecoder}     the TCP header, then {@link TcpOptions} and {@link ChecksumVerifier}
 * </pre>
 * Tunnels lead back to the link or network layer, one level deeper, up to {@link #MAX_ENCAPSULATION_DEPTH}.
 *
 * <p>Not thread safe: one decoder per decoding thread.
 */
public final class PacketDecoder
{
    /** Tunnels, tags and label stacks crossed before giving up: stops encapsulation bombs. */
    public static final int MAX_ENCAPSULATION_DEPTH = 16;
    public static final int MAX_IPV6_EXTENSION_HEADERS = 16;

    private final FrameCursor frame = new FrameCursor();
    private boolean verifyChecksums;

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
        frame.start(segment, offset, capturedLength, wireLength, out, verifyChecksums && !checksumsPending);
        if (capturedLength <= 0)
        {
            return DecodeEvent.FRAME_EMPTY;
        }
        return LinkLayerDecoder.decodeLink(frame, linkType, offset);
    }
}
