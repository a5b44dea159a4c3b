package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_II;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_III;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_MPLS;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_TRANSPARENT_ETHERNET;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_VLAN;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_CHECKSUM;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_KEY;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_SEQUENCE;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_GRE;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_UDP;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.erspanII;
import static dev.flowtracker.core.decode.FrameBuilder.erspanIII;
import static dev.flowtracker.core.decode.FrameBuilder.ethernet;
import static dev.flowtracker.core.decode.FrameBuilder.ayiya;
import static dev.flowtracker.core.decode.FrameBuilder.ethernetTagged;
import static dev.flowtracker.core.decode.FrameBuilder.pptpGre;
import static dev.flowtracker.core.decode.FrameBuilder.geneve;
import static dev.flowtracker.core.decode.FrameBuilder.gre;
import static dev.flowtracker.core.decode.FrameBuilder.gtpU;
import static dev.flowtracker.core.decode.FrameBuilder.ipv4;
import static dev.flowtracker.core.decode.FrameBuilder.ipv6;
import static dev.flowtracker.core.decode.FrameBuilder.mpls;
import static dev.flowtracker.core.decode.FrameBuilder.teredo;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;
import static dev.flowtracker.core.decode.FrameBuilder.udp;
import static dev.flowtracker.core.decode.FrameBuilder.vxlan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.wire.LinkType;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Through {@link PacketDecoder}: the tunnels {@link TunnelDecoder} follows (IP in IP, GRE, ERSPAN, VXLAN,
 * Geneve, Teredo, GTP-U, AYIYA) and the tags that lead back to Ethernet (PBB, FabricPath, VN-Tag).
 */
class TunnelDecoderTest extends DecoderTestSupport
{
    // ================================================================ tunnels

    @Test
    void shouldDecodeIpv4InIpv4()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_IPV4, standardIpv4()));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.IP_IN_IP));
    }

    @Test
    void shouldDecodeIpv6InIpv4()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_IPV6, standardIpv6()));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.IP_IN_IP));
    }

    @Test
    void shouldDecodeIpv4InIpv6WithZeroHighAddressHalves()
    {
        final byte[] outer = ipv6(CLIENT_V6_HIGH, 7, SERVER_V6_HIGH, 8).protocol(PROTO_IPV4).payload(standardIpv4())
            .build();
        assertStandardIpv4Segment(decode(ethernet(ETHERTYPE_IPV6, outer), LinkType.EN10MB),
            bits(Encapsulation.IP_IN_IP));
    }

    @Test
    void shouldDecodeTcpInsidePlainGre()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, gre(0, ETHERTYPE_IPV4, standardIpv4())));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE));
    }

    @Test
    void shouldDecodeTcpInsideGreWithChecksumKeyAndSequence()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE,
            gre(GRE_CHECKSUM | GRE_KEY | GRE_SEQUENCE, ETHERTYPE_IPV6, standardIpv6())));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE));
    }

    @ParameterizedTest(name = "flags=0x{0}")
    @ValueSource(ints = {GRE_CHECKSUM, GRE_KEY, GRE_SEQUENCE, GRE_CHECKSUM | GRE_SEQUENCE})
    void shouldSkipEachOptionalGreField(final int flags)
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, gre(flags, ETHERTYPE_IPV4, standardIpv4())));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE));
    }

    @Test
    void shouldDecodeTransparentEthernetBridgingInGre()
    {
        final byte[] inner = ethernetTagged(new int[] {ETHERTYPE_VLAN}, ETHERTYPE_IPV4, standardIpv4());
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, gre(GRE_KEY, ETHERTYPE_TRANSPARENT_ETHERNET, inner)));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE, Encapsulation.VLAN));
    }

    @Test
    void shouldDecodeErspanTypeTwoWithSequenceBit()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE,
            gre(GRE_SEQUENCE, ETHERTYPE_ERSPAN_II, erspanII(ethernetIpv4(standardIpv4())))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE, Encapsulation.ERSPAN));
    }

    @Test
    void shouldDecodeErspanTypeOneWithoutSequenceBitOrHeader()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE,
            gre(0, ETHERTYPE_ERSPAN_II, ethernetIpv4(standardIpv4()))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE, Encapsulation.ERSPAN));
    }

    @ParameterizedTest(name = "platform sub-header={0}")
    @ValueSource(booleans = {false, true})
    void shouldDecodeErspanTypeThree(final boolean platformSubHeader)
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE,
            gre(GRE_SEQUENCE, ETHERTYPE_ERSPAN_III, erspanIII(platformSubHeader, ethernetIpv4(standardIpv4())))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE, Encapsulation.ERSPAN));
    }

    @Test
    void shouldDecodeTcpInsideVxlan()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP,
            udp(51234, 4789, vxlan(0x123456, ethernetIpv4(standardIpv4())))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.VXLAN));
    }

    @Test
    void shouldDecodeVxlanIdentifiedBySourcePort()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP,
            udp(4789, 51234, vxlan(7, ethernet(ETHERTYPE_IPV6, standardIpv6())))));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.VXLAN));
    }

    @Test
    void shouldDecodeTcpInsideVxlanInsideGre()
    {
        final byte[] vxlanPacket = outerIpv4(PROTO_UDP, udp(51234, 4789,
            vxlan(42, ethernetTagged(new int[] {ETHERTYPE_VLAN}, ETHERTYPE_IPV4, standardIpv4()))));
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, gre(0, ETHERTYPE_IPV4, vxlanPacket)));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB),
            bits(Encapsulation.GRE, Encapsulation.VXLAN, Encapsulation.VLAN));
    }

    @Test
    void shouldNotKeyConnectionsByVniOfTunnelsInsideTheCapture()
    {
        // Like tshark: a tunnel's VNI inside a capture is not part of connection identity (mirrors may use a
        // different VNI per direction). Only a mirror receiver sets tunnelId, from its own session.
        final byte[] vxlanFrame = ethernetIpv4(outerIpv4(PROTO_UDP,
            udp(51234, 4789, vxlan(0x123456, ethernetIpv4(standardIpv4())))));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(vxlanFrame, LinkType.EN10MB));
        assertEquals(-1, packet.tunnelId);
        final byte[] geneveFrame = ethernetIpv4(outerIpv4(PROTO_UDP,
            udp(51234, 6081, geneve(0xABCDE, ETHERTYPE_IPV4, 0, standardIpv4()))));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(geneveFrame, LinkType.EN10MB));
        assertEquals(-1, packet.tunnelId);
    }

    @Test
    void shouldDecodeGeneveWithOptionsCarryingEthernet()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP,
            udp(51234, 6081, geneve(0xABCDE, ETHERTYPE_TRANSPARENT_ETHERNET, 3, ethernetIpv4(standardIpv4())))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GENEVE));
    }

    @Test
    void shouldDecodeGeneveCarryingIpDirectly()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP,
            udp(6081, 51234, geneve(1, ETHERTYPE_IPV6, 0, standardIpv6()))));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GENEVE));
    }

    @ParameterizedTest(name = "authentication={0} origin={1}")
    @CsvSource({"false,false", "false,true", "true,false", "true,true"})
    void shouldDecodeTeredo(final boolean authentication, final boolean originIndication)
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP,
            udp(3544, 51234, teredo(authentication, originIndication, standardIpv6()))));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.TEREDO));
    }

    @Test
    void shouldSkipTeredoPortCarryingNonIpv6()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(51234, 3544, bytes(0x45, 1, 2, 3, 4, 5, 6, 7))));
        assertEquals(DecodeEvent.NON_TCP, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldDecodeGtpUser()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(2152, 2152, gtpU(0x0102_0304, false,
            standardIpv4()))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GTP));
    }

    @Test
    void shouldDecodeGtpUserWithExtensionHeaderCarryingIpv6()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(40000, 2152, gtpU(0x0102_0304, true,
            standardIpv6()))));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GTP));
    }

    @Test
    void shouldSkipGtpMessageThatIsNotGpdu()
    {
        final byte[] echo = concat(bytes(0x32, 0x01), u16(4), u32(0), bytes(0, 1, 0, 0));
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(2152, 2152, echo)));
        assertEquals(DecodeEvent.NON_TCP, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldDecodeGreInUdp()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(51234, 4754, gre(0, ETHERTYPE_IPV4,
            standardIpv4()))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE));
    }

    @Test
    void shouldDecodeMplsInsideGre()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, gre(0, ETHERTYPE_MPLS, mpls(1, true,
            standardIpv4()))));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE, Encapsulation.MPLS));
    }

    @Test
    void shouldTrackOutermostTcpWhenTcpCarriesAnotherPacket()
    {
        // A TCP payload that happens to look like IP is never decoded further: the first TCP found wins.
        final byte[] tcpCarryingIp = concat(standardTcp().payload(0).build(), standardIpv4());
        final byte[] frame = ethernetIpv4(ipv4(CLIENT_V4, SERVER_V4).payload(tcpCarryingIp).build());
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(CLIENT_PORT, packet.srcPort);
        assertEquals(IPV4_LENGTH, packet.payloadLength);
    }

    @Test
    void shouldDecodePptpEnhancedGreWithHdlcFramedPpp()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, pptpGre(standardIpv4())));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.GRE));
    }

    @Test
    void shouldDecodeAyiyaCarryingIpv6()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(5072, 5072, ayiya(PROTO_IPV6, standardIpv6()))));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.AYIYA, Encapsulation.IP_IN_IP));
    }

    @Test
    void shouldDecodeProviderBackboneBridgingITag()
    {
        final byte[] frame = ethernet(0x88E7, concat(u32(0x0001_0203), ethernetIpv4(standardIpv4())));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.PBB));
    }

    @Test
    void shouldDecodeCiscoFabricPath()
    {
        // The inner frame ends with its own 4-byte FCS.
        final byte[] frame = ethernet(0x8903, concat(u16(0x0040), ethernetIpv4(standardIpv4()), new byte[4]));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.FABRICPATH));
    }

    @Test
    void shouldDecodeCiscoVnTag()
    {
        final byte[] frame = ethernet(0x8926, concat(u32(0x8001_0002), u16(ETHERTYPE_IPV4), standardIpv4()));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.VNTAG));
    }

    @Test
    void shouldKeepOuterFragmentationWhenDecodingIntoTunnel()
    {
        final byte[] outer = ipv4(OUTER_A_V4, OUTER_B_V4).protocol(PROTO_IPV4).moreFragments()
            .payload(standardIpv4()).build();
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernetIpv4(outer), LinkType.EN10MB));
        assertTrue(packet.ipFragmented);
    }
}
