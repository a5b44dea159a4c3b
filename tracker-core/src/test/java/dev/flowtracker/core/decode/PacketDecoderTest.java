package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_II;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_III;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_MPLS;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_PPPOE_SESSION;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_QINQ;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_TRANSPARENT_ETHERNET;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_VLAN;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_CHECKSUM;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_KEY;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_SEQUENCE;
import static dev.flowtracker.core.decode.FrameBuilder.PPP_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_GRE;
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
import static dev.flowtracker.core.decode.FrameBuilder.fddi;
import static dev.flowtracker.core.decode.FrameBuilder.geneve;
import static dev.flowtracker.core.decode.FrameBuilder.gre;
import static dev.flowtracker.core.decode.FrameBuilder.gtpU;
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
import static dev.flowtracker.core.decode.FrameBuilder.teredo;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;
import static dev.flowtracker.core.decode.FrameBuilder.udp;
import static dev.flowtracker.core.decode.FrameBuilder.vxlan;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.flowtracker.core.wire.LinkType;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Link types (each LINKTYPE_ the decoder supports, and the ones it does not), decoding at an offset,
 * reuse of the packet between frames, and random or mutated frames that must never throw.
 */
class PacketDecoderTest extends DecoderTestSupport
{
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
