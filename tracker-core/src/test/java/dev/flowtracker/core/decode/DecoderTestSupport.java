package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ACK;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PSH;
import static dev.flowtracker.core.decode.FrameBuilder.ethernet;
import static dev.flowtracker.core.decode.FrameBuilder.ipv4;
import static dev.flowtracker.core.decode.FrameBuilder.ipv6;
import static dev.flowtracker.core.decode.FrameBuilder.tcp;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * What the {@link PacketDecoder} tests share: one decoder and one reused packet per test, the standard inner
 * endpoints and segment, frames built around them, and the assertions on a standard IPv4 or IPv6 segment. The
 * tests are split by the layer they exercise (link types, tags, IP, tunnels, TCP, malformed frames), all
 * through {@link PacketDecoder#decode}.
 */
abstract class DecoderTestSupport
{
    // Inner (tracked) endpoints. The server address has its top bit set to catch sign extension.
    static final int CLIENT_V4 = 0x0A00_0001; // 10.0.0.1
    static final int SERVER_V4 = 0xC0A8_0102; // 192.168.1.2
    // Outer (tunnel) endpoints: must never show up in the decoded packet.
    static final int OUTER_A_V4 = 0xAC10_0001;
    static final int OUTER_B_V4 = 0xAC10_0002;
    static final long CLIENT_V6_HIGH = 0x2001_0DB8_0000_0000L;
    static final long CLIENT_V6_LOW = 0x0000_0000_0000_0001L;
    static final long SERVER_V6_HIGH = 0xFD00_0000_0000_00ABL;
    static final long SERVER_V6_LOW = 0x8000_0000_0000_0002L;

    static final int CLIENT_PORT = 40000;
    static final int SERVER_PORT = 443;
    static final int SEQ = 0x89AB_CDEF;
    static final int ACK_NUMBER = 0x1234_5678;
    static final int WINDOW = 0xF00D;
    static final int PAYLOAD = 10;
    static final int IPV4_LENGTH = 20 + 20 + PAYLOAD;
    static final int IPV6_LENGTH = 40 + 20 + PAYLOAD;

    final PacketDecoder decoder = new PacketDecoder();
    final DecodedPacket packet = new DecodedPacket();

    // ================================================================ helpers

    static TcpSegment standardTcp()
    {
        return tcp().ports(CLIENT_PORT, SERVER_PORT).seq(SEQ).ack(ACK_NUMBER).flags(PSH | ACK).window(WINDOW)
            .payload(PAYLOAD);
    }

    static byte[] standardIpv4()
    {
        return ipv4(CLIENT_V4, SERVER_V4).payload(standardTcp().build()).build();
    }

    static byte[] standardIpv6()
    {
        return ipv6(CLIENT_V6_HIGH, CLIENT_V6_LOW, SERVER_V6_HIGH, SERVER_V6_LOW).payload(standardTcp().build())
            .build();
    }

    static byte[] ipv4WithTcp(final TcpSegment segment)
    {
        return ipv4(CLIENT_V4, SERVER_V4).payload(segment.build()).build();
    }

    static byte[] outerIpv4(final int protocol, final byte[] payload)
    {
        return ipv4(OUTER_A_V4, OUTER_B_V4).protocol(protocol).payload(payload).build();
    }

    static byte[] ethernetIpv4(final byte[] ipPacket)
    {
        return ethernet(ETHERTYPE_IPV4, ipPacket);
    }

    static int bits(final Encapsulation... layers)
    {
        int bits = 0;
        for (final Encapsulation layer : layers)
        {
            bits |= layer.bit();
        }
        return bits;
    }

    DecodeEvent decode(final byte[] frame, final int linkType)
    {
        return decode(frame, frame.length, frame.length, linkType);
    }

    /** Decodes from an array holding exactly the captured bytes, so any read past them throws. */
    DecodeEvent decode(final byte[] frame, final int capturedLength, final int wireLength, final int linkType)
    {
        final byte[] captured = Arrays.copyOf(frame, capturedLength);
        return decoder.decode(MemorySegment.ofArray(captured), 0, capturedLength, wireLength, linkType, packet);
    }

    void assertStandardTcpFields()
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

    void assertStandardIpv4Segment(final DecodeEvent event, final int encapsulations)
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

    void assertStandardIpv6Segment(final DecodeEvent event, final int encapsulations)
    {
        assertStandardIpv6Segment(event, encapsulations, IPV6_LENGTH);
    }

    void assertStandardIpv6Segment(final DecodeEvent event, final int encapsulations, final int ipLength)
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
}
