package dev.flowtracker.ingest.source.afpacket;

/**
 * The kernel-side filter that keeps only TCP, so the kernel drops everything else before it reaches the ring: a
 * classic BPF program over the Ethernet frame, attached with {@code SO_ATTACH_FILTER}.
 *
 * <p>Passes TCP over IPv4 (fragments included: non-first fragments still say protocol 6, and the decoder reassembles
 * them) and over IPv6 (directly, after a fragment header, or after one hop-by-hop, routing or destination-options
 * header, possibly followed by a fragment header), with zero, one or two 802.1Q/802.1ad/0x9100 tags in the frame.
 *
 * <p>VLAN tags: on receive the kernel takes the outer tag out of the frame before packet sockets see it (it is then
 * only in the packet's metadata, which {@link BlockRing} puts back for the decoder). The filter sees the frame as
 * stored, so a frame whose tag was taken out looks untagged to it, and one whose tag stayed in (a frame sent from this
 * host, an inner QinQ tag) is matched by the tag checks: both layouts pass, without the {@code SKF_AD_VLAN_TAG_PRESENT}
 * ancillary load.
 *
 * <p>Not passed (use no filter for these links): TCP inside MPLS, PPPoE, GRE, VXLAN or Geneve, and IPv6 with more
 * than one extension header before TCP.
 *
 * <pre>
 *          ldh [12]                     ; EtherType
 *          jeq #0x8100/#0x88a8/#0x9100 -> tag1
 *          ldx #14 ; ja l3
 *   tag1:  ldh [16] ; jeq tag -> tag2 ; ldx #18 ; ja l3
 *   tag2:  ldh [20] ; ldx #22
 *   l3:    jeq #0x0800 -> ipv4 ; jeq #0x86dd -> ipv6 ; ret #0
 *   ipv4:  ldb [x+9] ; jeq #6 -> accept ; ret #0
 *   ipv6:  ldb [x+6] ; jeq #6 -> accept ; jeq #44 -> frag ; jeq #0/#43/#60 -> ext ; ret #0
 *   ext:   ldb [x+40] ; st M[0] ; ldb [x+41] ; add #1 ; lsh #3 ; add x ; tax   ; X += (hdr ext len + 1) * 8
 *          ld M[0] ; jeq #6 -> accept ; jeq #44 -> frag ; ret #0
 *   frag:  ldb [x+40] ; jeq #6 -> accept ; ret #0
 *   accept: ret #-1                     ; the whole packet
 * </pre>
 */
final class TcpOnlyFilter
{
    private static final int ETHERTYPE_OFFSET = 12;
    private static final int ETHERNET_HEADER_LENGTH = 14;
    private static final int[] VLAN_TPIDS = {0x8100, 0x88A8, 0x9100};
    private static final int ETHERTYPE_IPV4 = 0x0800;
    private static final int ETHERTYPE_IPV6 = 0x86DD;
    private static final int IPV4_PROTOCOL_OFFSET = 9;
    private static final int IPV6_NEXT_HEADER_OFFSET = 6;
    private static final int IPV6_HEADER_LENGTH = 40;
    private static final int PROTOCOL_TCP = 6;
    private static final int IPV6_HOP_BY_HOP = 0;
    private static final int IPV6_ROUTING = 43;
    private static final int IPV6_FRAGMENT = 44;
    private static final int IPV6_DESTINATION_OPTIONS = 60;
    /** {@code ret} value that keeps the whole packet. */
    private static final int WHOLE_PACKET = -1;

    private static final ClassicBpf.Program PROGRAM = assemble();

    private TcpOnlyFilter()
    {
    }

    static ClassicBpf.Program program()
    {
        return PROGRAM;
    }

    private static ClassicBpf.Program assemble()
    {
        final ClassicBpf bpf = new ClassicBpf();
        bpf.loadHalf(ETHERTYPE_OFFSET);
        jumpIfTag(bpf, "tag1");
        bpf.loadXConstant(ETHERNET_HEADER_LENGTH).jump("l3");
        bpf.label("tag1").loadHalf(ETHERTYPE_OFFSET + Tpacket3.VLAN_TAG_LENGTH);
        jumpIfTag(bpf, "tag2");
        bpf.loadXConstant(ETHERNET_HEADER_LENGTH + Tpacket3.VLAN_TAG_LENGTH).jump("l3");
        bpf.label("tag2").loadHalf(ETHERTYPE_OFFSET + 2 * Tpacket3.VLAN_TAG_LENGTH)
            .loadXConstant(ETHERNET_HEADER_LENGTH + 2 * Tpacket3.VLAN_TAG_LENGTH);

        bpf.label("l3")
            .jumpIfEqual(ETHERTYPE_IPV4, "ipv4", null)
            .jumpIfEqual(ETHERTYPE_IPV6, "ipv6", "drop");

        bpf.label("ipv4")
            .loadByteIndirect(IPV4_PROTOCOL_OFFSET)
            .jumpIfEqual(PROTOCOL_TCP, "accept", "drop");

        bpf.label("ipv6")
            .loadByteIndirect(IPV6_NEXT_HEADER_OFFSET)
            .jumpIfEqual(PROTOCOL_TCP, "accept", null)
            .jumpIfEqual(IPV6_FRAGMENT, "frag", null)
            .jumpIfEqual(IPV6_HOP_BY_HOP, "ext", null)
            .jumpIfEqual(IPV6_ROUTING, "ext", null)
            .jumpIfEqual(IPV6_DESTINATION_OPTIONS, "ext", "drop");

        // One extension header: remember its next header, move X past it (its length is in 8-byte units, not
        // counting the first 8), then look at what follows as if the IPv6 header had said it.
        bpf.label("ext")
            .loadByteIndirect(IPV6_HEADER_LENGTH)
            .store(0)
            .loadByteIndirect(IPV6_HEADER_LENGTH + 1)
            .addConstant(1)
            .shiftLeft(3)
            .addX()
            .moveAToX()
            .loadMemory(0)
            .jumpIfEqual(PROTOCOL_TCP, "accept", null)
            .jumpIfEqual(IPV6_FRAGMENT, "frag", "drop");

        // A fragment header's first byte is the next header.
        bpf.label("frag")
            .loadByteIndirect(IPV6_HEADER_LENGTH)
            .jumpIfEqual(PROTOCOL_TCP, "accept", "drop");

        bpf.label("accept").ret(WHOLE_PACKET);
        bpf.label("drop").ret(0);
        return bpf.build();
    }

    private static void jumpIfTag(final ClassicBpf bpf, final String tagged)
    {
        for (final int tpid : VLAN_TPIDS)
        {
            bpf.jumpIfEqual(tpid, tagged, null);
        }
    }
}
