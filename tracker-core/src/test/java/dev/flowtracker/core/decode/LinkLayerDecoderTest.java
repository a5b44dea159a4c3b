package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_MPLS;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_PPPOE_SESSION;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_QINQ;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_QINQ_LEGACY;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_VLAN;
import static dev.flowtracker.core.decode.FrameBuilder.PPP_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PPP_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.ethernet;
import static dev.flowtracker.core.decode.FrameBuilder.ethernetTagged;
import static dev.flowtracker.core.decode.FrameBuilder.mpls;
import static dev.flowtracker.core.decode.FrameBuilder.pppoe;
import static dev.flowtracker.core.decode.FrameBuilder.pseudowireControlWord;
import static dev.flowtracker.core.decode.FrameBuilder.putU16;
import static dev.flowtracker.core.decode.FrameBuilder.sll;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.flowtracker.core.wire.LinkType;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Through {@link PacketDecoder}: what {@link LinkLayerDecoder} walks between the link header and IP:
 * VLAN tags, MPLS label stacks and pseudowires, PPPoE sessions.
 */
class LinkLayerDecoderTest extends DecoderTestSupport
{
    // ================================================================ tags, label stacks, PPPoE

    @ParameterizedTest(name = "tpid=0x{0}")
    @ValueSource(ints = {ETHERTYPE_VLAN, ETHERTYPE_QINQ, ETHERTYPE_QINQ_LEGACY})
    void shouldDecodeTcpBehindOneVlanTag(final int tpid)
    {
        final byte[] frame = ethernetTagged(new int[] {tpid}, ETHERTYPE_IPV4, standardIpv4());
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.VLAN));
    }

    @Test
    void shouldDecodeTcpBehindQinQTags()
    {
        final byte[] frame = ethernetTagged(new int[] {ETHERTYPE_QINQ, ETHERTYPE_VLAN}, ETHERTYPE_IPV6, standardIpv6());
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.VLAN));
    }

    @Test
    void shouldDecodeTcpBehindEightStackedTags()
    {
        final int[] tags = new int[8];
        Arrays.fill(tags, ETHERTYPE_VLAN);
        tags[0] = ETHERTYPE_QINQ_LEGACY;
        assertStandardIpv4Segment(decode(ethernetTagged(tags, ETHERTYPE_IPV4, standardIpv4()), LinkType.EN10MB),
            bits(Encapsulation.VLAN));
    }

    @Test
    void shouldDecodeTcpBehindVlanOnLinuxCooked()
    {
        final byte[] frame = sll(ETHERTYPE_VLAN, concat(u16(100), u16(ETHERTYPE_IPV4), standardIpv4()));
        assertStandardIpv4Segment(decode(frame, LinkType.LINUX_SLL), bits(Encapsulation.VLAN));
    }

    @ParameterizedTest(name = "ethertype=0x{0}")
    @ValueSource(ints = {ETHERTYPE_MPLS, 0x8848})
    void shouldDecodeIpv4AfterMplsLabelStack(final int etherType)
    {
        final byte[] frame = ethernet(etherType, mpls(3, true, standardIpv4()));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.MPLS));
    }

    @Test
    void shouldDecodeIpv6AfterMplsLabel()
    {
        final byte[] frame = ethernet(ETHERTYPE_MPLS, mpls(1, true, standardIpv6()));
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.MPLS));
    }

    @Test
    void shouldDecodeEthernetPseudowireWithControlWordAfterMpls()
    {
        final byte[] inner = ethernetTagged(new int[] {ETHERTYPE_VLAN}, ETHERTYPE_IPV4, standardIpv4());
        final byte[] frame = ethernet(ETHERTYPE_MPLS, mpls(2, true, pseudowireControlWord(inner)));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.MPLS, Encapsulation.VLAN));
    }

    @Test
    void shouldDecodeEthernetPseudowireWithoutControlWordAfterMpls()
    {
        final byte[] inner = ethernetIpv4(standardIpv4());
        inner[0] = (byte)0xA0; // destination MAC whose first nibble is neither 0, 4 nor 6
        final byte[] frame = ethernet(ETHERTYPE_MPLS, mpls(2, true, inner));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.MPLS));
    }

    @Test
    void shouldDecodePppoeSessionWithTwoByteProtocol()
    {
        assertStandardIpv4Segment(decode(ethernet(ETHERTYPE_PPPOE_SESSION, pppoe(PPP_IPV4, false, standardIpv4())),
            LinkType.EN10MB), bits(Encapsulation.PPPOE));
        assertStandardIpv6Segment(decode(ethernet(ETHERTYPE_PPPOE_SESSION, pppoe(PPP_IPV6, false, standardIpv6())),
            LinkType.EN10MB), bits(Encapsulation.PPPOE));
    }

    @Test
    void shouldDecodePppoeSessionWithCompressedProtocol()
    {
        assertStandardIpv4Segment(decode(ethernet(ETHERTYPE_PPPOE_SESSION, pppoe(PPP_IPV4, true, standardIpv4())),
            LinkType.EN10MB), bits(Encapsulation.PPPOE));
        assertStandardIpv6Segment(decode(ethernet(ETHERTYPE_PPPOE_SESSION, pppoe(PPP_IPV6, true, standardIpv6())),
            LinkType.EN10MB), bits(Encapsulation.PPPOE));
    }

    @Test
    void shouldSkipPppoeSessionCarryingLcp()
    {
        final byte[] frame = ethernet(ETHERTYPE_PPPOE_SESSION, pppoe(0xC021, false, bytes(1, 1, 0, 4)));
        assertEquals(DecodeEvent.NON_IP, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldCutOnlyTheAnalysisPayloadWherePppoeLengthEndsBeforeTheIpDatagram()
    {
        // A pure ACK whose IPv4 total length claims 6 bytes of data that the PPPoE length leaves out, as in
        // zeek/pppoe-over-qinq.pcap: tshark analyses 0 bytes, Zeek counts the IP length.
        final byte[] session = pppoe(PPP_IPV4, false, ipv4WithTcp(standardTcp().payload(6)));
        putU16(session, 4, 2 + 20 + 20);
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernet(ETHERTYPE_PPPOE_SESSION, session), LinkType.EN10MB));
        assertAll(
            () -> assertEquals(20 + 20 + 6, packet.ipLength, "ipLength"),
            () -> assertEquals(6, packet.payloadLength, "payloadLength"),
            () -> assertEquals(6, packet.payloadBeyondLinkLength, "payloadBeyondLinkLength"),
            () -> assertEquals(0, packet.analysisPayloadLength(), "analysisPayloadLength"),
            () -> assertFalse(packet.ipLengthExceedsFrame, "ipLengthExceedsFrame"),
            () -> assertNull(packet.warning, "warning"));
    }

    @Test
    void shouldKeepTheWholeAnalysisPayloadWhenPppoeLengthCoversTheDatagram()
    {
        // Ethernet padding after a short datagram is outside both lengths.
        final byte[] frame = concat(ethernet(ETHERTYPE_PPPOE_SESSION, pppoe(PPP_IPV4, false, standardIpv4())),
            new byte[6]);
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.PPPOE));
        assertEquals(0, packet.payloadBeyondLinkLength);
        assertEquals(PAYLOAD, packet.analysisPayloadLength());
    }

    @Test
    void shouldForgetThePppoeLengthOfThePreviousFrame()
    {
        final byte[] session = pppoe(PPP_IPV4, false, standardIpv4());
        putU16(session, 4, 2 + 20 + 20);
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernet(ETHERTYPE_PPPOE_SESSION, session), LinkType.EN10MB));
        assertEquals(0, packet.analysisPayloadLength());

        assertStandardIpv4Segment(decode(ethernetIpv4(standardIpv4()), LinkType.EN10MB), 0);
        assertEquals(PAYLOAD, packet.analysisPayloadLength());
    }

    @Test
    void shouldDecodeTcpBehindVlanAndMplsAndPppoeTogether()
    {
        final byte[] frame = ethernetTagged(new int[] {ETHERTYPE_VLAN}, ETHERTYPE_PPPOE_SESSION,
            pppoe(PPP_IPV4, false, standardIpv4()));
        assertStandardIpv4Segment(decode(frame, LinkType.EN10MB), bits(Encapsulation.VLAN, Encapsulation.PPPOE));
    }
}
