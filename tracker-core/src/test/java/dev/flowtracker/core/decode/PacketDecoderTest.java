package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ACK;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ARP;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_II;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_III;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_MPLS;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_PPPOE_SESSION;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_QINQ;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_QINQ_LEGACY;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_TRANSPARENT_ETHERNET;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_VLAN;
import static dev.flowtracker.core.decode.FrameBuilder.FIN;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_CHECKSUM;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_KEY;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_SEQUENCE;
import static dev.flowtracker.core.decode.FrameBuilder.PPP_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PPP_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_GRE;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_ICMPV6;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_UDP;
import static dev.flowtracker.core.decode.FrameBuilder.PSH;
import static dev.flowtracker.core.decode.FrameBuilder.RST;
import static dev.flowtracker.core.decode.FrameBuilder.SYN;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.erspanII;
import static dev.flowtracker.core.decode.FrameBuilder.erspanIII;
import static dev.flowtracker.core.decode.FrameBuilder.ethernet;
import static dev.flowtracker.core.decode.FrameBuilder.ayiya;
import static dev.flowtracker.core.decode.FrameBuilder.ethernetTagged;
import static dev.flowtracker.core.decode.FrameBuilder.pptpGre;
import static dev.flowtracker.core.decode.FrameBuilder.fddi;
import static dev.flowtracker.core.decode.FrameBuilder.geneve;
import static dev.flowtracker.core.decode.FrameBuilder.gre;
import static dev.flowtracker.core.decode.FrameBuilder.gtpU;
import static dev.flowtracker.core.decode.FrameBuilder.ipv4;
import static dev.flowtracker.core.decode.FrameBuilder.ipv6;
import static dev.flowtracker.core.decode.FrameBuilder.loop;
import static dev.flowtracker.core.decode.FrameBuilder.mpls;
import static dev.flowtracker.core.decode.FrameBuilder.nflog;
import static dev.flowtracker.core.decode.FrameBuilder.nullLink;
import static dev.flowtracker.core.decode.FrameBuilder.pppoe;
import static dev.flowtracker.core.decode.FrameBuilder.pseudowireControlWord;
import static dev.flowtracker.core.decode.FrameBuilder.putU16;
import static dev.flowtracker.core.decode.FrameBuilder.sll;
import static dev.flowtracker.core.decode.FrameBuilder.sll2;
import static dev.flowtracker.core.decode.FrameBuilder.tcp;
import static dev.flowtracker.core.decode.FrameBuilder.teredo;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;
import static dev.flowtracker.core.decode.FrameBuilder.udp;
import static dev.flowtracker.core.decode.FrameBuilder.vxlan;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.flowtracker.core.wire.LinkType;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PacketDecoderTest
{
    // Inner (tracked) endpoints. The server address has its top bit set to catch sign extension.
    private static final int CLIENT_V4 = 0x0A00_0001; // 10.0.0.1
    private static final int SERVER_V4 = 0xC0A8_0102; // 192.168.1.2
    // Outer (tunnel) endpoints: must never show up in the decoded packet.
    private static final int OUTER_A_V4 = 0xAC10_0001;
    private static final int OUTER_B_V4 = 0xAC10_0002;
    private static final long CLIENT_V6_HIGH = 0x2001_0DB8_0000_0000L;
    private static final long CLIENT_V6_LOW = 0x0000_0000_0000_0001L;
    private static final long SERVER_V6_HIGH = 0xFD00_0000_0000_00ABL;
    private static final long SERVER_V6_LOW = 0x8000_0000_0000_0002L;

    private static final int CLIENT_PORT = 40000;
    private static final int SERVER_PORT = 443;
    private static final int SEQ = 0x89AB_CDEF;
    private static final int ACK_NUMBER = 0x1234_5678;
    private static final int WINDOW = 0xF00D;
    private static final int PAYLOAD = 10;
    private static final int IPV4_LENGTH = 20 + 20 + PAYLOAD;
    private static final int IPV6_LENGTH = 40 + 20 + PAYLOAD;

    private final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket packet = new DecodedPacket();

    // ================================================================ helpers

    private static FrameBuilder.TcpSegment standardTcp()
    {
        return tcp().ports(CLIENT_PORT, SERVER_PORT).seq(SEQ).ack(ACK_NUMBER).flags(PSH | ACK).window(WINDOW)
            .payload(PAYLOAD);
    }

    private static byte[] standardIpv4()
    {
        return ipv4(CLIENT_V4, SERVER_V4).payload(standardTcp().build()).build();
    }

    private static byte[] standardIpv6()
    {
        return ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).payload(standardTcp().build())
            .build();
    }

    private static byte[] ipv4WithTcp(final FrameBuilder.TcpSegment segment)
    {
        return ipv4(CLIENT_V4, SERVER_V4).payload(segment.build()).build();
    }

    private static byte[] outerIpv4(final int protocol, final byte[] payload)
    {
        return ipv4(OUTER_A_V4, OUTER_B_V4).protocol(protocol).payload(payload).build();
    }

    private static byte[] ethernetIpv4(final byte[] ipPacket)
    {
        return ethernet(ETHERTYPE_IPV4, ipPacket);
    }

    private static int bits(final Encapsulation... layers)
    {
        int bits = 0;
        for (final Encapsulation layer : layers)
        {
            bits |= layer.bit();
        }
        return bits;
    }

    private DecodeEvent decode(final byte[] frame, final int linkType)
    {
        return decode(frame, frame.length, frame.length, linkType);
    }

    /** Decodes from an array holding exactly the captured bytes, so any read past them throws. */
    private DecodeEvent decode(final byte[] frame, final int capturedLength, final int wireLength, final int linkType)
    {
        final byte[] captured = Arrays.copyOf(frame, capturedLength);
        return decoder.decode(MemorySegment.ofArray(captured), 0, capturedLength, wireLength, linkType, packet);
    }

    private void assertStandardTcpFields()
    {
        assertAll(
            () -> assertEquals(CLIENT_PORT, packet.srcPort, "srcPort"),
            () -> assertEquals(SERVER_PORT, packet.dstPort, "dstPort"),
            () -> assertEquals(SEQ, packet.seq, "seq"),
            () -> assertEquals(ACK_NUMBER, packet.ack, "ack"),
            () -> assertEquals(PSH | ACK, packet.flags, "flags"),
            () -> assertEquals(WINDOW, packet.window, "window"),
            () -> assertEquals(20, packet.tcpHeaderLength, "tcpHeaderLength"),
            () -> assertEquals(PAYLOAD, packet.payloadLength, "payloadLength"),
            () -> assertEquals(PAYLOAD, packet.capturedPayloadLength, "capturedPayloadLength"),
            () -> assertFalse(packet.ipFragmented, "ipFragmented"),
            () -> assertNull(packet.warning, "warning"));
    }

    private void assertStandardIpv4Segment(final DecodeEvent event, final int encapsulations)
    {
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertAll(
            () -> assertEquals(4, packet.ipVersion, "ipVersion"),
            () -> assertEquals(0L, packet.srcHigh, "srcHigh"),
            () -> assertEquals(0x0A00_0001L, packet.srcLow, "srcLow"),
            () -> assertEquals(0L, packet.dstHigh, "dstHigh"),
            () -> assertEquals(0xC0A8_0102L, packet.dstLow, "dstLow"),
            () -> assertEquals(IPV4_LENGTH, packet.ipLength, "ipLength"),
            () -> assertEquals(encapsulations, packet.encapsulations, "encapsulations"));
        assertStandardTcpFields();
    }

    private void assertStandardIpv6Segment(final DecodeEvent event, final int encapsulations)
    {
        assertStandardIpv6Segment(event, encapsulations, IPV6_LENGTH);
    }

    private void assertStandardIpv6Segment(final DecodeEvent event, final int encapsulations, final int ipLength)
    {
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertAll(
            () -> assertEquals(6, packet.ipVersion, "ipVersion"),
            () -> assertEquals(CLIENT_V6_HIGH, packet.srcHigh, "srcHigh"),
            () -> assertEquals(CLIENT_V6_LOW, packet.srcLow, "srcLow"),
            () -> assertEquals(SERVER_V6_HIGH, packet.dstHigh, "dstHigh"),
            () -> assertEquals(SERVER_V6_LOW, packet.dstLow, "dstLow"),
            () -> assertEquals(ipLength, packet.ipLength, "ipLength"),
            () -> assertEquals(encapsulations, packet.encapsulations, "encapsulations"));
        assertStandardTcpFields();
    }

    // ================================================================ link types

    @Test
    void shouldDecodeTcpOverIpv4InEthernet()
    {
        assertStandardIpv4Segment(decode(ethernetIpv4(standardIpv4()), LinkType.EN10MB), 0);
    }

    @Test
    void shouldDecodeTcpOverIpv6InEthernet()
    {
        assertStandardIpv6Segment(decode(ethernet(ETHERTYPE_IPV6, standardIpv6()), LinkType.EN10MB), 0);
    }

    @Test
    void shouldDecodeLinuxCookedV1()
    {
        assertStandardIpv4Segment(decode(sll(ETHERTYPE_IPV4, standardIpv4()), LinkType.LINUX_SLL), 0);
        assertStandardIpv6Segment(decode(sll(ETHERTYPE_IPV6, standardIpv6()), LinkType.LINUX_SLL), 0);
    }

    @Test
    void shouldDecodeLinuxCookedV2()
    {
        assertStandardIpv4Segment(decode(sll2(ETHERTYPE_IPV4, standardIpv4()), LinkType.LINUX_SLL2), 0);
        assertStandardIpv6Segment(decode(sll2(ETHERTYPE_IPV6, standardIpv6()), LinkType.LINUX_SLL2), 0);
    }

    @ParameterizedTest(name = "little-endian={0}")
    @ValueSource(booleans = {true, false})
    void shouldDecodeNullLinkIpv4InEitherHostByteOrder(final boolean littleEndian)
    {
        assertStandardIpv4Segment(decode(nullLink(2, littleEndian, standardIpv4()), LinkType.NULL), 0);
    }

    @ParameterizedTest(name = "family={0} little-endian={1}")
    @CsvSource({"10,true", "24,true", "28,true", "30,true", "24,false", "28,false", "30,false"})
    void shouldDecodeNullLinkIpv6ForEveryBsdAndLinuxFamily(final int family, final boolean littleEndian)
    {
        assertStandardIpv6Segment(decode(nullLink(family, littleEndian, standardIpv6()), LinkType.NULL), 0);
    }

    @Test
    void shouldSkipNullLinkWithUnknownFamily()
    {
        assertEquals(DecodeEvent.NON_IP, decode(nullLink(7, true, standardIpv4()), LinkType.NULL));
    }

    @Test
    void shouldDecodeLoopIpv4InNetworkByteOrder()
    {
        assertStandardIpv4Segment(decode(loop(2, standardIpv4()), LinkType.LOOP), 0);
    }

    @ParameterizedTest(name = "family={0}")
    @ValueSource(ints = {24, 28, 30})
    void shouldDecodeLoopIpv6(final int family)
    {
        assertStandardIpv6Segment(decode(loop(family, standardIpv6()), LinkType.LOOP), 0);
    }

    @ParameterizedTest(name = "linktype={0}")
    @ValueSource(ints = {LinkType.RAW, LinkType.RAW_DLT_12, LinkType.RAW_DLT_14})
    void shouldDecodeRawIpOfEitherVersion(final int linkType)
    {
        assertStandardIpv4Segment(decode(standardIpv4(), linkType), 0);
        assertStandardIpv6Segment(decode(standardIpv6(), linkType), 0);
    }

    @Test
    void shouldSkipRawFrameThatIsNotIp()
    {
        assertEquals(DecodeEvent.NON_IP, decode(bytes(0x50, 0, 0, 0), LinkType.RAW));
    }

    @Test
    void shouldDecodeIpv4LinkType()
    {
        assertStandardIpv4Segment(decode(standardIpv4(), LinkType.IPV4), 0);
    }

    @Test
    void shouldDecodeIpv6LinkType()
    {
        assertStandardIpv6Segment(decode(standardIpv6(), LinkType.IPV6), 0);
    }

    @Test
    void shouldRejectIpv6PacketOnIpv4LinkTypeAsBadVersion()
    {
        assertEquals(DecodeEvent.IPV4_BAD_VERSION, decode(standardIpv6(), LinkType.IPV4));
        assertEquals(DecodeEvent.IPV6_BAD_VERSION, decode(concat(standardIpv4(), new byte[40]), LinkType.IPV6));
    }

    @Test
    void shouldDecodeNflogPayloadTlv()
    {
        assertStandardIpv4Segment(decode(nflog(2, standardIpv4()), LinkType.NFLOG), bits(Encapsulation.NFLOG));
        assertStandardIpv6Segment(decode(nflog(10, standardIpv6()), LinkType.NFLOG), bits(Encapsulation.NFLOG));
    }

    @Test
    void shouldSkipNflogWithoutPayloadTlv()
    {
        final byte[] frame = concat(bytes(2, 0, 0, 1), bytes(8, 0, 10, 0), bytes('a', 'b', 'c', 0));
        assertEquals(DecodeEvent.NON_IP, decode(frame, LinkType.NFLOG));
    }

    @Test
    void shouldFlagNflogTlvShorterThanItsHeader()
    {
        final byte[] frame = concat(bytes(2, 0, 0, 1), bytes(2, 0, 9, 0), standardIpv4());
        assertEquals(DecodeEvent.LINK_HEADER_TRUNCATED, decode(frame, LinkType.NFLOG));
    }

    @Test
    void shouldDecodeFddiWithLlcSnap()
    {
        assertStandardIpv4Segment(decode(fddi(ETHERTYPE_IPV4, standardIpv4()), LinkType.FDDI), 0);
        assertStandardIpv6Segment(decode(fddi(ETHERTYPE_IPV6, standardIpv6()), LinkType.FDDI), 0);
    }

    @Test
    void shouldSkipFddiWithoutSnap()
    {
        final byte[] frame = fddi(ETHERTYPE_IPV4, standardIpv4());
        frame[13] = 0x42; // LLC DSAP: spanning tree, not SNAP
        frame[14] = 0x42;
        assertEquals(DecodeEvent.NON_IP, decode(frame, LinkType.FDDI));
    }

    @ParameterizedTest(name = "linktype={0}")
    @ValueSource(ints = {-1, 2, 105, 127, 147, 9999})
    void shouldReportUnsupportedLinkType(final int linkType)
    {
        assertEquals(DecodeEvent.UNSUPPORTED_LINK_TYPE, decode(ethernetIpv4(standardIpv4()), linkType));
    }

    @Test
    void shouldDecodeEveryLinkTypeItDeclaresSupported()
    {
        final byte[] frame = ethernetIpv4(standardIpv4());
        for (int linkType = -5; linkType < 1000; linkType++)
        {
            final boolean unsupported = decode(frame, linkType) == DecodeEvent.UNSUPPORTED_LINK_TYPE;
            assertEquals(!LinkType.isSupported(linkType), unsupported, "linktype " + linkType);
        }
    }

    @Test
    void shouldDecodeFrameAtNonZeroOffsetWithoutReadingPastCapturedLength()
    {
        final byte[] frame = ethernetIpv4(standardIpv4());
        final byte[] buffer = concat(new byte[7], frame, bytes(0xFF, 0xFF, 0xFF, 0xFF));
        final DecodeEvent event = decoder.decode(
            MemorySegment.ofArray(buffer), 7, frame.length, frame.length, LinkType.EN10MB, packet);
        assertStandardIpv4Segment(event, 0);
    }

    @Test
    void shouldClearFieldsOfPreviousFrameWhenReusingPacket()
    {
        final byte[] withOptions = ethernetIpv4(ipv4WithTcp(standardTcp().mss(1460).windowScale(7).sackPermitted()
            .timestamps(1, 2).sack(10, 20)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(withOptions, LinkType.EN10MB));
        final byte[] vxlan = ethernetIpv4(outerIpv4(PROTO_UDP, udp(50000, 4789,
            vxlan(5, ethernetIpv4(ipv4WithTcp(standardTcp().rawOptions(2, 0)))))));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(vxlan, LinkType.EN10MB));

        assertStandardIpv4Segment(decode(ethernetIpv4(standardIpv4()), LinkType.EN10MB), 0);
        assertAll(
            () -> assertEquals(-1, packet.mss),
            () -> assertEquals(-1, packet.windowScale),
            () -> assertFalse(packet.sackPermitted),
            () -> assertFalse(packet.hasTimestamps),
            () -> assertEquals(0, packet.sackBlockCount),
            () -> assertEquals(-1, packet.tunnelId));
    }

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

    // ================================================================ IPv4 / IPv6 headers

    @Test
    void shouldSkipIpv4OptionsUsingHeaderLength()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).options(0x94, 0x04, 0x00, 0x00, 0x07, 0x07, 0x04, 0x00)
            .payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernetIpv4(ip), LinkType.EN10MB));
        assertEquals(IPV4_LENGTH + 8, packet.ipLength);
        assertStandardTcpFields();
    }

    @Test
    void shouldMarkFirstIpv4FragmentAsFragmented()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).moreFragments().payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernetIpv4(ip), LinkType.EN10MB));
        assertTrue(packet.ipFragmented);
        assertEquals(PAYLOAD, packet.payloadLength);
    }

    @Test
    void shouldSkipNonFirstIpv4Fragment()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).fragmentOffset(185).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV4_FRAGMENT_TRAILING, decode(ethernetIpv4(ip), LinkType.EN10MB));
        final byte[] middle = ipv4(CLIENT_V4, SERVER_V4).moreFragments().fragmentOffset(1)
            .payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV4_FRAGMENT_TRAILING, decode(ethernetIpv4(middle), LinkType.EN10MB));
    }

    @Test
    void shouldWalkIpv6ExtensionHeaderChain()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW)
            .hopByHop(0).routing(2).destinationOptions(1).authentication(3).destinationOptions(0)
            .payload(standardTcp().build()).build();
        final int extensions = 8 + 24 + 16 + 24 + 8;
        assertStandardIpv6Segment(decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB), 0, IPV6_LENGTH + extensions);
    }

    @Test
    void shouldMarkFirstIpv6FragmentAsFragmented()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW)
            .hopByHop(0).fragment(0, true).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB));
        assertTrue(packet.ipFragmented);
        assertEquals(IPV6_LENGTH + 16, packet.ipLength);
        assertEquals(PAYLOAD, packet.payloadLength);
    }

    @Test
    void shouldNotMarkAtomicIpv6FragmentAsFragmented()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW)
            .fragment(0, false).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB));
        assertFalse(packet.ipFragmented);
    }

    @Test
    void shouldSkipTrailingIpv6Fragment()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW)
            .fragment(181, false).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV6_FRAGMENT_TRAILING, decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB));
    }

    @Test
    void shouldAcceptSixteenIpv6ExtensionHeaders()
    {
        final FrameBuilder.Ipv6Packet ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW);
        for (int i = 0; i < PacketDecoder.MAX_IPV6_EXTENSION_HEADERS; i++)
        {
            ip.destinationOptions(0);
        }
        final byte[] frame = ethernet(ETHERTYPE_IPV6, ip.payload(standardTcp().build()).build());
        assertStandardIpv6Segment(decode(frame, LinkType.EN10MB), 0, IPV6_LENGTH + 16 * 8);
    }

    @Test
    void shouldRejectIpv6ExtensionChainLongerThanSixteen()
    {
        final FrameBuilder.Ipv6Packet ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW);
        for (int i = 0; i < 17; i++)
        {
            ip.destinationOptions(0);
        }
        final byte[] frame = ethernet(ETHERTYPE_IPV6, ip.payload(standardTcp().build()).build());
        assertEquals(DecodeEvent.IPV6_EXTENSION_CHAIN_TOO_LONG, decode(frame, LinkType.EN10MB));
    }

    @Test
    void shouldRejectIpv6ExtensionHeaderRunningPastCapturedBytes()
    {
        final byte[] header = new byte[8];
        header[1] = 30; // claims 248 bytes
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW)
            .extension(FrameBuilder.PROTO_HOP_BY_HOP, header).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV6_EXTENSION_TRUNCATED, decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB));
    }

    @Test
    void shouldRejectIpv6ExtensionHeaderRunningPastPayloadLength()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW)
            .routing(2).payloadLength(16).payload(standardTcp().build()).build();
        assertEquals(DecodeEvent.IPV6_EXTENSION_TRUNCATED, decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB));
    }

    @Test
    void shouldRejectIpv6ExtensionHeaderCutBeforeItsLengthByte()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).hopByHop(0).build();
        assertEquals(DecodeEvent.IPV6_EXTENSION_TRUNCATED,
            decode(ethernet(ETHERTYPE_IPV6, ip), 14 + 41, 14 + 48, LinkType.EN10MB));
    }

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

    // ================================================================ TCP header and options

    @Test
    void shouldParseFlagsIncludingNonce()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().flags(0x100 | 0x80 | 0x40 | SYN | FIN | RST)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(0x1C7, packet.flags);
    }

    @Test
    void shouldReportAbsentOptionsAsUnset()
    {
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(ethernetIpv4(standardIpv4()), LinkType.EN10MB));
        assertAll(
            () -> assertEquals(-1, packet.mss),
            () -> assertEquals(-1, packet.windowScale),
            () -> assertFalse(packet.sackPermitted),
            () -> assertFalse(packet.hasTimestamps),
            () -> assertFalse(packet.fastOpen),
            () -> assertEquals(0, packet.sackBlockCount));
    }

    @Test
    void shouldParseSynOptions()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().flags(SYN)
            .mss(1460).sackPermitted().timestamps(0xDEAD_BEEF, 0).nop().windowScale(7)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertAll(
            () -> assertEquals(40, packet.tcpHeaderLength),
            () -> assertEquals(PAYLOAD, packet.payloadLength),
            () -> assertEquals(1460, packet.mss),
            () -> assertEquals(7, packet.windowScale),
            () -> assertTrue(packet.sackPermitted),
            () -> assertTrue(packet.hasTimestamps),
            () -> assertEquals(0xDEAD_BEEF, packet.tsVal),
            () -> assertEquals(0, packet.tsEcr),
            () -> assertFalse(packet.fastOpen),
            () -> assertNull(packet.warning));
    }

    @Test
    void shouldParseSackBlocksAfterTimestamps()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().nop().nop().timestamps(5, 6)
            .nop().nop().sack(0x1000, 0x2000, 0xFFFF_F000, 0x10)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(2, packet.sackBlockCount);
        assertArrayEquals(new int[] {0x1000, 0x2000, 0xFFFF_F000, 0x10},
            Arrays.copyOf(packet.sackBlocks, 4));
        assertEquals(5, packet.tsVal);
        assertEquals(6, packet.tsEcr);
    }

    @Test
    void shouldParseFourSackBlocks()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().nop().nop().sack(1, 2, 3, 4, 5, 6, 7, 8)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(4, packet.sackBlockCount);
        assertArrayEquals(new int[] {1, 2, 3, 4, 5, 6, 7, 8}, packet.sackBlocks);
        assertNull(packet.warning);
    }

    @Test
    void shouldRecognizeFastOpenOption()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().flags(SYN).mss(1400)
            .fastOpen(bytes(1, 2, 3, 4, 5, 6, 7, 8))));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertTrue(packet.fastOpen);
        assertEquals(1400, packet.mss);
    }

    @Test
    void shouldRecognizeEmptyFastOpenCookieRequest()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().flags(SYN).fastOpen(new byte[0])));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertTrue(packet.fastOpen);
    }

    @Test
    void shouldRecognizeExperimentalFastOpenOption()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().flags(SYN)
            .experimentalFastOpen(bytes(9, 9, 9, 9, 9, 9, 9, 9))));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertTrue(packet.fastOpen);
    }

    @Test
    void shouldIgnoreExperimentalOptionWithOtherExperimentId()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().rawOptions(254, 6, 0x12, 0x34, 0, 0)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertFalse(packet.fastOpen);
        assertNull(packet.warning);
    }

    @Test
    void shouldStopParsingOptionsAtEndOfList()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().mss(1200).endOfOptions()
            .rawOptions(0, 0, 3, 0, 0xFF, 0xFF, 0xFF)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(1200, packet.mss);
        assertEquals(-1, packet.windowScale);
        assertNull(packet.warning);
    }

    @Test
    void shouldIgnoreUnknownOptionsAndWrongLengthKnownOptions()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp()
            .rawOptions(99, 4, 0, 0).rawOptions(2, 3, 0x05).rawOptions(3, 4, 14, 0).windowScale(9)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(-1, packet.mss);
        assertEquals(9, packet.windowScale);
        assertNull(packet.warning);
    }

    @ParameterizedTest(name = "option length {0}")
    @ValueSource(ints = {0, 1})
    void shouldFlagOptionWithLengthBelowTwoButKeepSegment(final int length)
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().mss(1460).rawOptions(3, length, 7)
            .sackPermitted()));
        final DecodeEvent event = decode(frame, LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertEquals(DecodeEvent.TCP_OPTION_MALFORMED, packet.warning);
        assertEquals(1460, packet.mss, "options before the bad one are kept");
        assertEquals(-1, packet.windowScale);
        assertFalse(packet.sackPermitted, "options after the bad one are not read");
        assertEquals(PAYLOAD, packet.payloadLength);
    }

    @Test
    void shouldFlagOptionOverrunningHeaderButKeepSegment()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().windowScale(4).nop().rawOptions(8, 10, 0, 0)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(DecodeEvent.TCP_OPTION_MALFORMED, packet.warning);
        assertEquals(4, packet.windowScale);
        assertFalse(packet.hasTimestamps);
    }

    @Test
    void shouldFlagOptionKindInLastHeaderByte()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().nop().nop().nop().rawOptions(2)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(DecodeEvent.TCP_OPTION_MALFORMED, packet.warning);
    }

    @Test
    void shouldRejectTcpWithFewerThanSixteenCapturedBytes()
    {
        final byte[] frame = ethernetIpv4(standardIpv4());
        assertEquals(DecodeEvent.TCP_HEADER_TRUNCATED, decode(frame, 14 + 20 + 15, frame.length, LinkType.EN10MB));
        assertEquals(DecodeEvent.TCP_HEADER_TRUNCATED, decode(frame, 14 + 20, frame.length, LinkType.EN10MB));
    }

    /** Found by PacketDecoderFuzzTest: the ports-to-window fields were read from the padding after the datagram. */
    @Test
    void shouldRejectTcpWhoseFixedFieldsRunPastTheIpLengthIntoPadding()
    {
        final byte[] datagram = ipv4(CLIENT_V4, SERVER_V4).totalLength(20 + 8).payload(standardTcp().build()).build();
        final byte[] frame = ethernetIpv4(datagram);
        assertEquals(DecodeEvent.TCP_HEADER_TRUNCATED, decode(frame, LinkType.EN10MB));
        assertEquals(DecodeEvent.TCP_HEADER_TRUNCATED, decode(frame, 14 + 20 + 15, frame.length, LinkType.EN10MB));
        final byte[] sixteen = ethernetIpv4(ipv4(CLIENT_V4, SERVER_V4).totalLength(20 + 16)
            .payload(standardTcp().build()).build());
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(sixteen, LinkType.EN10MB), "16 bytes inside the datagram do");
        assertEquals(DecodeEvent.TCP_SHORT_SEGMENT, packet.warning);
    }

    @Test
    void shouldTrackButNotTrustTcpDataOffsetBelowFive()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().dataOffset(4)));
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(DecodeEvent.TCP_DATA_OFFSET_TOO_SMALL, packet.warning);
        assertFalse(packet.tcpHeaderComplete);
        assertEquals(0, packet.payloadLength);
    }

    @Test
    void shouldTrackButNotTrustTcpDataOffsetBeyondIpPayload()
    {
        final byte[] segment = standardTcp().payload(0).dataOffset(15).build(); // 60 bytes claimed, 20 present
        final byte[] frame = ethernetIpv4(ipv4(CLIENT_V4, SERVER_V4).payload(segment).build());
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(DecodeEvent.TCP_SHORT_SEGMENT, packet.warning);
        assertFalse(packet.tcpHeaderComplete);
    }

    @Test
    void shouldTreatTcpHeaderBeyondIpLengthAsShortEvenWithEthernetPadding()
    {
        final byte[] segment = standardTcp().payload(0).dataOffset(8).build();
        final byte[] frame = concat(ethernetIpv4(ipv4(CLIENT_V4, SERVER_V4).payload(segment).build()), new byte[20]);
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(DecodeEvent.TCP_SHORT_SEGMENT, packet.warning);
        assertFalse(packet.tcpHeaderComplete);
    }

    @ParameterizedTest(name = "{0} TCP bytes captured")
    @ValueSource(ints = {16, 17, 18, 19})
    void shouldTrackTcpHeaderCutBySnaplenAfterWindow(final int tcpBytes)
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().mss(1460)));
        final DecodeEvent event = decode(frame, 14 + 20 + tcpBytes, frame.length, LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertAll(
            () -> assertEquals(DecodeEvent.TCP_HEADER_CUT_BY_SNAPLEN, packet.warning),
            () -> assertEquals(CLIENT_PORT, packet.srcPort),
            () -> assertEquals(SEQ, packet.seq),
            () -> assertEquals(ACK_NUMBER, packet.ack),
            () -> assertEquals(PSH | ACK, packet.flags),
            () -> assertEquals(WINDOW, packet.window),
            () -> assertEquals(24, packet.tcpHeaderLength),
            () -> assertEquals(PAYLOAD, packet.payloadLength),
            () -> assertEquals(0, packet.capturedPayloadLength),
            () -> assertEquals(-1, packet.mss),
            () -> assertTrue(packet.tcpHeaderCutBySnaplen(), "tcpHeaderCutBySnaplen"));
    }

    @Test
    void shouldKeepOptionsBeforeSnaplenCutInsideOptionArea()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().mss(1460).windowScale(2).nop()
            .timestamps(1, 2).nop().nop()));
        final DecodeEvent event = decode(frame, 14 + 20 + 20 + 6, frame.length, LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertEquals(DecodeEvent.TCP_HEADER_CUT_BY_SNAPLEN, packet.warning);
        assertEquals(1460, packet.mss);
        assertFalse(packet.hasTimestamps);
        assertTrue(packet.tcpHeaderCutBySnaplen());
    }

    @Test
    void shouldTakePayloadLengthFromIpHeaderWhenSnaplenTruncates()
    {
        final byte[] frame = ethernetIpv4(ipv4WithTcp(standardTcp().payload(1400)));
        final DecodeEvent event = decode(frame, 14 + 20 + 20 + 100, frame.length, LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertAll(
            () -> assertEquals(1400, packet.payloadLength),
            () -> assertEquals(100, packet.capturedPayloadLength),
            () -> assertEquals(1440, packet.ipLength),
            () -> assertNull(packet.warning),
            () -> assertFalse(packet.tcpHeaderCutBySnaplen(), "only the payload is cut"));
    }

    @Test
    void shouldIgnoreEthernetPaddingAfterIpPacket()
    {
        final byte[] ip = ipv4WithTcp(standardTcp().payload(0));
        final byte[] frame = concat(ethernetIpv4(ip), new byte[6]);
        assertEquals(60, frame.length);
        assertEquals(DecodeEvent.TCP_SEGMENT, decode(frame, LinkType.EN10MB));
        assertEquals(0, packet.payloadLength);
        assertEquals(0, packet.capturedPayloadLength);
        assertEquals(40, packet.ipLength);
    }

    @Test
    void shouldClampIpv4TotalLengthExceedingFrame()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).totalLength(1500).payload(standardTcp().build()).build();
        final DecodeEvent event = decode(ethernetIpv4(ip), LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertEquals(DecodeEvent.IP_LENGTH_EXCEEDS_FRAME, packet.warning);
        assertEquals(IPV4_LENGTH, packet.ipLength);
        assertEquals(PAYLOAD, packet.payloadLength);
    }

    @Test
    void shouldClampIpv6PayloadLengthExceedingFrame()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).payloadLength(9000)
            .payload(standardTcp().build()).build();
        final DecodeEvent event = decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertEquals(DecodeEvent.IP_LENGTH_EXCEEDS_FRAME, packet.warning);
        assertEquals(IPV6_LENGTH, packet.ipLength);
        assertEquals(PAYLOAD, packet.payloadLength);
    }

    @Test
    void shouldClampIpLengthToWireLengthNotCapturedLength()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).totalLength(3000).payload(standardTcp().payload(100).build())
            .build();
        final byte[] frame = ethernetIpv4(ip);
        final DecodeEvent event = decode(frame, 14 + 20 + 20 + 10, 14 + 2000, LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertEquals(DecodeEvent.IP_LENGTH_EXCEEDS_FRAME, packet.warning);
        assertEquals(2000, packet.ipLength);
        assertEquals(2000 - 40, packet.payloadLength);
        assertEquals(10, packet.capturedPayloadLength);
    }

    @Test
    void shouldTakeLengthFromFrameWhenIpv4TotalLengthIsZero()
    {
        final byte[] ip = ipv4(CLIENT_V4, SERVER_V4).totalLength(0).payload(standardTcp().payload(3000).build())
            .build();
        final DecodeEvent event = decode(ethernetIpv4(ip), LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertNull(packet.warning);
        assertEquals(3040, packet.ipLength);
        assertEquals(3000, packet.payloadLength);
    }

    @Test
    void shouldTakeLengthFromFrameWhenIpv6PayloadLengthIsZero()
    {
        final byte[] ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).payloadLength(0)
            .payload(standardTcp().payload(70000).build()).build();
        final DecodeEvent event = decode(ethernet(ETHERTYPE_IPV6, ip), LinkType.EN10MB);
        assertEquals(DecodeEvent.TCP_SEGMENT, event);
        assertNull(packet.warning);
        assertEquals(40 + 20 + 70000, packet.ipLength);
        assertEquals(70000, packet.payloadLength);
    }

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

    // ================================================================ robustness

    private static final int[] ALL_LINK_TYPES = {
        LinkType.NULL, LinkType.EN10MB, LinkType.FDDI, LinkType.RAW_DLT_12, LinkType.RAW_DLT_14, LinkType.RAW,
        LinkType.LOOP, LinkType.LINUX_SLL, LinkType.NFLOG, LinkType.IPV4, LinkType.IPV6, LinkType.LINUX_SLL2, 9999};

    private static List<byte[]> seedFrames()
    {
        final byte[] v4 = ipv4WithTcp(standardTcp().mss(1460).sackPermitted().timestamps(1, 2).nop().windowScale(7));
        final byte[] v6 = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).hopByHop(0)
            .fragment(0, true).authentication(3).payload(standardTcp().sack(1, 2, 3, 4).build()).build();
        final byte[] eth = ethernetIpv4(v4);
        final List<byte[]> seeds = new ArrayList<>();
        seeds.add(v4);
        seeds.add(v6);
        seeds.add(eth);
        seeds.add(ethernet(ETHERTYPE_IPV6, v6));
        seeds.add(ethernetTagged(new int[] {ETHERTYPE_QINQ, ETHERTYPE_VLAN}, ETHERTYPE_IPV4, v4));
        seeds.add(ethernet(ETHERTYPE_MPLS, mpls(2, true, pseudowireControlWord(eth))));
        seeds.add(ethernet(ETHERTYPE_MPLS, mpls(3, true, v6)));
        seeds.add(ethernet(ETHERTYPE_PPPOE_SESSION, pppoe(PPP_IPV4, true, v4)));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_GRE, gre(GRE_CHECKSUM | GRE_KEY | GRE_SEQUENCE, ETHERTYPE_IPV6, v6))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_GRE, gre(GRE_SEQUENCE, ETHERTYPE_ERSPAN_II, erspanII(eth)))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_GRE, gre(GRE_SEQUENCE, ETHERTYPE_ERSPAN_III, erspanIII(true, eth)))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_GRE, pptpGre(v4))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_UDP, udp(1, 4789, vxlan(3, eth)))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_UDP, udp(1, 6081, geneve(3, ETHERTYPE_TRANSPARENT_ETHERNET, 2, eth)))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_UDP, udp(3544, 1, teredo(true, true, v6)))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_UDP, udp(2152, 2152, gtpU(1, true, v4)))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_UDP, udp(5072, 5072, ayiya(PROTO_IPV6, v6)))));
        seeds.add(ethernetIpv4(outerIpv4(PROTO_IPV6, v6)));
        seeds.add(sll(ETHERTYPE_IPV4, v4));
        seeds.add(sll2(ETHERTYPE_IPV6, v6));
        seeds.add(nullLink(2, true, v4));
        seeds.add(loop(30, v6));
        seeds.add(nflog(2, v4));
        seeds.add(fddi(ETHERTYPE_IPV4, v4));
        seeds.add(ethernet(0x88E7, concat(u32(0x0000_0001), eth)));
        seeds.add(ethernet(0x8903, concat(u16(0x0001), eth)));
        seeds.add(ethernet(0x8926, concat(u32(0), u16(ETHERTYPE_IPV4), v4)));
        return seeds;
    }

    private static final int[] INTERESTING = {0x00, 0xFF, 0x01, 0x02, 0x04, 0x05, 0x06, 0x08, 0x0F, 0x10, 0x11,
        0x22, 0x29, 0x2C, 0x2F, 0x3C, 0x40, 0x45, 0x4F, 0x60, 0x7F, 0x80, 0x81, 0x86, 0x88, 0xDD};

    @Test
    void shouldNeverThrowOnRandomOrMutatedFrames()
    {
        final Random random = new Random(0x5EED_F10EL);
        final List<byte[]> seeds = seedFrames();
        final byte[] reference = ethernetIpv4(standardIpv4());
        int segments = 0;
        for (int i = 0; i < 20_000; i++)
        {
            final byte[] frame = mutate(random, seeds);
            final int captured = random.nextInt(8) == 0 ? random.nextInt(frame.length + 1) : frame.length;
            final int wire = switch (random.nextInt(4))
            {
                case 0 -> captured + random.nextInt(100_000);
                case 1 -> random.nextInt(captured + 1);
                default -> captured;
            };
            for (final int linkType : ALL_LINK_TYPES)
            {
                if (decodeSafely(frame, captured, wire, linkType) == DecodeEvent.TCP_SEGMENT)
                {
                    segments++;
                }
            }
            if (i % 97 == 0)
            {
                assertStandardIpv4Segment(decode(reference, LinkType.EN10MB), 0);
            }
        }
        assertTrue(segments > 5_000, "the mutations must still reach the TCP decoder often: " + segments);
    }

    private static byte[] mutate(final Random random, final List<byte[]> seeds)
    {
        if (random.nextInt(10) == 0)
        {
            final byte[] noise = new byte[random.nextInt(200)];
            random.nextBytes(noise);
            return noise;
        }
        final byte[] frame = seeds.get(random.nextInt(seeds.size())).clone();
        final int edits = 1 + random.nextInt(4);
        for (int e = 0; e < edits && frame.length > 0; e++)
        {
            final int at = random.nextInt(frame.length);
            switch (random.nextInt(3))
            {
                case 0 -> frame[at] = (byte)random.nextInt(256);
                case 1 -> frame[at] = (byte)INTERESTING[random.nextInt(INTERESTING.length)];
                default ->
                {
                    if (at + 1 < frame.length)
                    {
                        putU16(frame, at, random.nextBoolean() ? 0 : 0xFFFF);
                    }
                }
            }
        }
        return frame;
    }

    private DecodeEvent decodeSafely(final byte[] frame, final int captured, final int wire, final int linkType)
    {
        final DecodeEvent event;
        try
        {
            event = decode(frame, captured, wire, linkType);
        }
        catch (final RuntimeException | Error e)
        {
            throw new AssertionError("decoder threw on linktype " + linkType + ", captured " + captured + ", wire "
                + wire + ", frame " + HexFormat.of().formatHex(frame, 0, captured), e);
        }
        if (event == null)
        {
            fail("null event for linktype " + linkType + ", frame " + HexFormat.of().formatHex(frame, 0, captured));
        }
        if (event != DecodeEvent.TCP_SEGMENT)
        {
            assertTrue(event.kind() == DecodeEvent.Kind.SKIPPED || event.kind() == DecodeEvent.Kind.MALFORMED,
                () -> "non-final event " + event);
            return event;
        }
        final String where = "linktype " + linkType + ", captured " + captured + ", wire " + wire + ", frame "
            + HexFormat.of().formatHex(frame, 0, captured);
        assertTrue(packet.ipVersion == 4 || packet.ipVersion == 6, () -> "ipVersion: " + where);
        if (packet.tcpHeaderComplete)
        {
            assertTrue(packet.tcpHeaderLength >= 20 && packet.tcpHeaderLength <= 60, () -> "tcpHeaderLength: " + where);
        }
        else
        {
            // A bogus header is tracked for identity only: no payload is claimed from it.
            // The first warning wins, so an outer one (e.g. an IP length lie) may stand for the TCP one.
            assertTrue(packet.warning != null, () -> "warning: " + where);
            assertEquals(0, packet.payloadLength, () -> "payloadLength of a bogus header: " + where);
        }
        assertTrue(packet.payloadLength >= 0, () -> "payloadLength: " + where);
        assertTrue(packet.payloadBeyondLinkLength >= 0 && packet.analysisPayloadLength() >= 0,
            () -> "payloadBeyondLinkLength: " + where);
        assertTrue(packet.capturedPayloadLength >= 0 && packet.capturedPayloadLength <= packet.payloadLength,
            () -> "capturedPayloadLength: " + where);
        assertTrue(!packet.tcpHeaderComplete || packet.ipLength >= packet.tcpHeaderLength + packet.payloadLength,
            () -> "ipLength: " + where);
        assertTrue(packet.sackBlockCount >= 0 && packet.sackBlockCount <= DecodedPacket.MAX_SACK_BLOCKS,
            () -> "sackBlockCount: " + where);
        assertTrue(packet.srcPort >= 0 && packet.srcPort <= 0xFFFF && packet.dstPort >= 0 && packet.dstPort <= 0xFFFF,
            () -> "ports: " + where);
        assertTrue(packet.warning == null || packet.warning.kind() == DecodeEvent.Kind.WARNING,
            () -> "warning: " + where);
        return event;
    }
}
