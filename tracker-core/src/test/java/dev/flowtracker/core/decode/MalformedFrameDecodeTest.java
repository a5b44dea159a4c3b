package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ARP;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_III;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_MPLS;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_PPPOE_SESSION;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_VLAN;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_KEY;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_SEQUENCE;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_GRE;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_ICMPV6;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_UDP;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.ethernet;
import static dev.flowtracker.core.decode.FrameBuilder.ethernetTagged;
import static dev.flowtracker.core.decode.FrameBuilder.gre;
import static dev.flowtracker.core.decode.FrameBuilder.ipv4;
import static dev.flowtracker.core.decode.FrameBuilder.ipv6;
import static dev.flowtracker.core.decode.FrameBuilder.mpls;
import static dev.flowtracker.core.decode.FrameBuilder.pseudowireControlWord;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;
import static dev.flowtracker.core.decode.FrameBuilder.udp;
import static dev.flowtracker.core.decode.FrameBuilder.vxlan;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flowtracker.core.wire.LinkType;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Through {@link PacketDecoder}: every skipped or malformed frame ends in its {@link DecodeEvent}, never an
 * exception, and every nesting bomb stops at its limit.
 */
class MalformedFrameDecodeTest extends DecoderTestSupport
{
    // ================================================================ malformed and skipped frames

    @Test
    void shouldReportEmptyFrame()
    {
        assertEquals(DecodeEvent.FRAME_EMPTY, decode(new byte[0], LinkType.EN10MB));
        assertEquals(DecodeEvent.FRAME_EMPTY, decode(ethernetIpv4(standardIpv4()), 0, 64, LinkType.EN10MB));
        assertEquals(DecodeEvent.FRAME_EMPTY, decoder.decode(MemorySegment.ofArray(new byte[4]), 0, -1, 60,
            LinkType.EN10MB, packet));
    }

    @Test
    void shouldReportTruncatedEthernetHeader()
    {
        assertEquals(DecodeEvent.LINK_HEADER_TRUNCATED, decode(ethernetIpv4(standardIpv4()), 13, 64, LinkType.EN10MB));
    }

    @ParameterizedTest(name = "linktype={0}")
    @ValueSource(ints = {LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.LOOP, LinkType.NFLOG,
        LinkType.FDDI})
    void shouldReportTruncatedLinkHeader(final int linkType)
    {
        assertEquals(DecodeEvent.LINK_HEADER_TRUNCATED, decode(bytes(0, 0, 0), linkType));
    }

    @Test
    void shouldReportTruncatedVlanTag()
    {
        final byte[] frame = ethernet(ETHERTYPE_VLAN, bytes(0x00, 0x64));
        assertEquals(DecodeEvent.VLAN_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportMplsStackWithoutBottomOfStackInFrame()
    {
        final byte[] frame = ethernet(ETHERTYPE_MPLS, mpls(3, false, new byte[0]));
        assertEquals(DecodeEvent.MPLS_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportMplsStackEndingAtFrameEnd()
    {
        final byte[] frame = ethernet(ETHERTYPE_MPLS, mpls(2, true, new byte[0]));
        assertEquals(DecodeEvent.MPLS_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportTruncatedPppoeHeader()
    {
        final byte[] frame = ethernet(ETHERTYPE_PPPOE_SESSION, bytes(0x11, 0, 0, 1, 0, 2));
        assertEquals(DecodeEvent.PPPOE_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportIpv4BadVersion()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).version(5).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV4_BAD_VERSION, decode(ethernetIpv4(ip), LinkType.EN10MB));
    }

    @ParameterizedTest(name = "IHL={0}")
    @ValueSource(ints = {0, 1, 4})
    void shouldReportIpv4HeaderLengthBelowFiveWords(final int ihl)
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).ihl(ihl).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV4_HEADER_LENGTH_INVALID, decode(ethernetIpv4(ip), LinkType.EN10MB));
    }

    @Test
    void shouldReportIpv4TotalLengthBelowHeaderLength()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).options(1, 1, 1, 1).totalLength(22)
            .payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV4_TOTAL_LENGTH_INVALID, decode(ethernetIpv4(ip), LinkType.EN10MB));
    }

    @Test
    void shouldReportTruncatedIpv4Header()
    {
        final byte[] frame = ethernetIpv4(standardIpv4());
        assertEquals(DecodeEvent.IPV4_HEADER_TRUNCATED, decode(frame, 14 + 19, frame.length, LinkType.EN10MB));
    }

    @Test
    void shouldReportIpv4OptionsCutByCapture()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).ihl(15).payload(standardTcp().payload(0).build()).build();
        final byte[] frame = ethernetIpv4(ip);
        assertEquals(DecodeEvent.IPV4_HEADER_TRUNCATED, decode(frame, 14 + 40, 200, LinkType.EN10MB));
    }

    @Test
    void shouldReportTruncatedIpv6Header()
    {
        final byte[] frame = ethernet(ETHERTYPE_IPV6, standardIpv6());
        assertEquals(DecodeEvent.IPV6_HEADER_TRUNCATED, decode(frame, 14 + 39, frame.length, LinkType.EN10MB));
    }

    @Test
    void shouldReportIpv6BadVersion()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).version(4)
            .payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV6_BAD_VERSION, decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB));
    }

    @Test
    void shouldSkipArpAsNonIp()
    {
        final byte[] arp = concat(u16(1), u16(0x0800), bytes(6, 4), u16(1), new byte[20]);
        assertEquals(DecodeEvent.NON_IP, decode(ethernet(ETHERTYPE_ARP, arp), LinkType.EN10MB));
    }

    @Test
    void shouldSkipIeee8023LengthFieldAsNonIp()
    {
        assertEquals(DecodeEvent.NON_IP, decode(ethernet(0x0026, new byte[38]), LinkType.EN10MB));
    }

    @Test
    void shouldSkipUdpThatIsNotATunnel()
    {
        final byte[] frame = ethernetIpv4(ipv4(CLIENT_V4, SERVER_V4).protocol(PROTO_UDP)
            .payload(udp(53000, 53, new byte[30])).build());
        assertEquals(DecodeEvent.NON_TCP, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldSkipIcmpv6AsNonTcp()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).protocol(PROTO_ICMPV6)
            .payload(bytes(128, 0, 0, 0, 0, 1, 0, 1)).build();
        assertEquals(DecodeEvent.NON_TCP, decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB));
    }

    @Test
    void shouldReportTruncatedUdpHeader()
    {
        final byte[] frame = ethernetIpv4(ipv4(CLIENT_V4, SERVER_V4).protocol(PROTO_UDP)
            .payload(bytes(0x12, 0xB5, 0x12, 0xB5)).build());
        assertEquals(DecodeEvent.UDP_HEADER_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportTruncatedVxlanHeader()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(51234, 4789, vxlan(1, new byte[10]))));
        assertEquals(DecodeEvent.TUNNEL_HEADER_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportGreHeaderCutBeforeItsOptionalFields()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, concat(u16(GRE_KEY | GRE_SEQUENCE),
            u16(ETHERTYPE_IPV4), u32(5))));
        assertEquals(DecodeEvent.TUNNEL_HEADER_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportUnsupportedGreVersion()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE, gre(0x0002, ETHERTYPE_IPV4, standardIpv4())));
        assertEquals(DecodeEvent.UNSUPPORTED_ENCAPSULATION, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldReportTruncatedErspanTypeThreeHeader()
    {
        final byte[] frame = ethernetIpv4(outerIpv4(PROTO_GRE,
            gre(GRE_SEQUENCE, ETHERTYPE_ERSPAN_III, bytes(0x20, 0, 0, 1, 0, 0))));
        assertEquals(DecodeEvent.TUNNEL_HEADER_TRUNCATED, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldStopFortyStackedVlanTags()
    {
        final int[] tags = new int[40];
        Arrays.fill(tags, ETHERTYPE_VLAN);
        assertEquals(DecodeEvent.ENCAPSULATION_TOO_DEEP,
            decode(ethernetTagged(tags, ETHERTYPE_IPV4, standardIpv4()), LinkType.EN10MB));
    }

    @Test
    void shouldStopIpInIpFortyDeep()
    {
        byte[] ip = standardIpv4();
        for (int i = 0; i < 40; i++)
        {
            ip = outerIpv4(PROTO_IPV4, ip);
        }
        assertEquals(DecodeEvent.ENCAPSULATION_TOO_DEEP, decode(ethernetIpv4(ip), LinkType.EN10MB));
    }

    @Test
    void shouldStopGreInGreFortyDeep()
    {
        byte[] ip = standardIpv4();
        for (int i = 0; i < 40; i++)
        {
            ip = outerIpv4(PROTO_GRE, gre(0, ETHERTYPE_IPV4, ip));
        }
        assertEquals(DecodeEvent.ENCAPSULATION_TOO_DEEP, decode(ethernetIpv4(ip), LinkType.EN10MB));
    }

    @Test
    void shouldStopVxlanInVxlanFortyDeep()
    {
        byte[] frame = ethernetIpv4(standardIpv4());
        for (int i = 0; i < 40; i++)
        {
            frame = ethernetIpv4(outerIpv4(PROTO_UDP, udp(50000 + i, 4789, vxlan(i, frame))));
        }
        assertEquals(DecodeEvent.ENCAPSULATION_TOO_DEEP, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldStopOverlongMplsLabelStack()
    {
        final byte[] frame = ethernet(ETHERTYPE_MPLS, mpls(40, true, standardIpv4()));
        assertEquals(DecodeEvent.ENCAPSULATION_TOO_DEEP, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldStopMplsPseudowireNestingBomb()
    {
        byte[] frame = ethernetIpv4(standardIpv4());
        for (int i = 0; i < 40; i++)
        {
            frame = ethernet(ETHERTYPE_MPLS, mpls(1, true, pseudowireControlWord(frame)));
        }
        assertEquals(DecodeEvent.ENCAPSULATION_TOO_DEEP, decode(frame, LinkType.EN10MB));
    }
}
