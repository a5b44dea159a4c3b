package dev.flowtracker.core.decode;

import static dev.flowtracker.core.decode.FrameBuilder.ACK;
import static dev.flowtracker.core.decode.FrameBuilder.FIN;
import static dev.flowtracker.core.decode.FrameBuilder.PSH;
import static dev.flowtracker.core.decode.FrameBuilder.RST;
import static dev.flowtracker.core.decode.FrameBuilder.SYN;
import static dev.flowtracker.core.decode.FrameBuilder.bytes;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.ipv4;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.wire.LinkType;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Through {@link PacketDecoder}: the TCP header and options ({@link TcpHeaderDecoder}, {@link TcpOptions}),
 * headers tshark still tracks but does not trust, and payload lengths taken from IP rather than the capture.
 */
class TcpHeaderDecoderTest extends DecoderTestSupport
{
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
}
