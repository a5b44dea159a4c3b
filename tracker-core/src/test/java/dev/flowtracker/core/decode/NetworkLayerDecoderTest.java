package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.ethernet;
import static dev.flowtracker.core.decode.FrameBuilder.ipv4;
import static dev.flowtracker.core.decode.FrameBuilder.ipv6;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.wire.LinkType;

import org.junit.jupiter.api.Test;

/**
 * Through {@link PacketDecoder}: what {@link NetworkLayerDecoder} reads from IPv4 and IPv6 headers:
 * options, fragments, the extension header chain, and IP lengths that disagree with the frame.
 */
class NetworkLayerDecoderTest extends DecoderTestSupport
{
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
        final Ipv6Packet ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW);
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
        final Ipv6Packet ip = ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW);
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

    // ================================================================ IP lengths against the frame

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
}
