package dev.flowtracker.core.decode;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flowtracker.core.wire.LinkType;

import java.lang.foreign.MemorySegment;

import org.junit.jupiter.api.Test;

/**
 * IPv4 header and TCP checksum verification, against checksums computed here the plain way (16-bit words, one at
 * a time, pseudo header spelled out).
 */
class ChecksumVerificationTest
{
    private final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket packet = new DecodedPacket();

    ChecksumVerificationTest()
    {
        decoder.verifyChecksums(true);
    }

    /** IPv4 (20 bytes) + TCP (20 bytes) + payload of odd length, with both checksums right. */
    private static byte[] ipv4Segment(final int payloadLength)
    {
        final byte[] p = new byte[40 + payloadLength];
        p[0] = 0x45;
        put16(p, 2, p.length);
        p[8] = 64;
        p[9] = 6;
        System.arraycopy(new byte[]{10, 0, 0, 1, 10, 0, 0, 2}, 0, p, 12, 8);
        put16(p, 20, 51000);
        put16(p, 22, 80);
        put32(p, 24, 0xF000_0001);
        put32(p, 28, 0x1234_5678);
        p[32] = 0x50;
        p[33] = 0x18;
        put16(p, 34, 65535);
        for (int i = 0; i < payloadLength; i++)
        {
            p[40 + i] = (byte)(i * 7 + 3);
        }
        put16(p, 10, ~referenceSum(p, 0, 20, 0) & 0xFFFF);
        final long pseudo = words(p, 12, 8) + 6 + (p.length - 20);
        put16(p, 36, ~referenceSum(p, 20, p.length - 20, pseudo) & 0xFFFF);
        return p;
    }

    private static byte[] ipv6Segment(final int payloadLength)
    {
        final byte[] p = new byte[60 + payloadLength];
        p[0] = 0x60;
        put16(p, 4, 20 + payloadLength);
        p[6] = 6;
        p[7] = 64;
        p[8] = (byte)0xfd;
        p[23] = 1;
        p[24] = (byte)0xfd;
        p[39] = 2;
        put16(p, 40, 51000);
        put16(p, 42, 443);
        p[52] = 0x50;
        p[53] = 0x10;
        for (int i = 0; i < payloadLength; i++)
        {
            p[60 + i] = (byte)(255 - i);
        }
        final long pseudo = words(p, 8, 32) + 6 + (20 + payloadLength);
        put16(p, 56, ~referenceSum(p, 40, 20 + payloadLength, pseudo) & 0xFFFF);
        return p;
    }

    private static long words(final byte[] p, final int offset, final int length)
    {
        long sum = 0;
        for (int i = 0; i < length; i += 2)
        {
            sum += ((p[offset + i] & 0xFF) << 8) | (i + 1 < length ? p[offset + i + 1] & 0xFF : 0);
        }
        return sum;
    }

    private static int referenceSum(final byte[] p, final int offset, final int length, final long initial)
    {
        long sum = initial + words(p, offset, length);
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return (int)sum;
    }

    private static void put16(final byte[] p, final int offset, final int value)
    {
        p[offset] = (byte)(value >>> 8);
        p[offset + 1] = (byte)value;
    }

    private static void put32(final byte[] p, final int offset, final int value)
    {
        put16(p, offset, value >>> 16);
        put16(p, offset + 2, value);
    }

    private DecodedPacket decode(final byte[] frame, final int linkType)
    {
        assertEquals(DecodeEvent.TCP_SEGMENT,
            decoder.decode(MemorySegment.ofArray(frame), 0, frame.length, frame.length, linkType, packet));
        return packet;
    }

    @Test
    void shouldAcceptCorrectIpv4AndTcpChecksumsForEveryPayloadLength()
    {
        for (int length = 0; length < 40; length++)
        {
            final DecodedPacket p = decode(ipv4Segment(length), LinkType.IPV4);
            assertEquals(DecodedPacket.CHECKSUM_GOOD, p.ipChecksum, "ip, payload " + length);
            assertEquals(DecodedPacket.CHECKSUM_GOOD, p.tcpChecksum, "tcp, payload " + length);
        }
    }

    @Test
    void shouldAcceptCorrectIpv6TcpChecksum()
    {
        for (int length = 0; length < 20; length++)
        {
            assertEquals(DecodedPacket.CHECKSUM_GOOD, decode(ipv6Segment(length), LinkType.IPV6).tcpChecksum);
        }
    }

    @Test
    void shouldRejectACorruptedPayloadByteOrHeader()
    {
        final byte[] payloadHit = ipv4Segment(11);
        payloadHit[45] ^= 0x10;
        assertEquals(DecodedPacket.CHECKSUM_BAD, decode(payloadHit, LinkType.IPV4).tcpChecksum);
        assertEquals(DecodedPacket.CHECKSUM_GOOD, packet.ipChecksum);

        final byte[] headerHit = ipv4Segment(11);
        headerHit[8] = 1; // TTL changed without fixing the header checksum
        assertEquals(DecodedPacket.CHECKSUM_BAD, decode(headerHit, LinkType.IPV4).ipChecksum);

        final byte[] v6 = ipv6Segment(5);
        v6[39] = 3; // destination address: the pseudo header no longer matches
        assertEquals(DecodedPacket.CHECKSUM_BAD, decode(v6, LinkType.IPV6).tcpChecksum);
    }

    @Test
    void shouldLeaveChecksumsUncheckedWhenTheSegmentWasCutBySnaplenOrVerificationIsOff()
    {
        final byte[] frame = ipv4Segment(30);
        decoder.decode(MemorySegment.ofArray(frame), 0, 50, frame.length, LinkType.IPV4, packet);
        assertEquals(DecodedPacket.CHECKSUM_UNCHECKED, packet.tcpChecksum);

        decoder.verifyChecksums(false);
        assertEquals(DecodedPacket.CHECKSUM_UNCHECKED, decode(frame, LinkType.IPV4).tcpChecksum);
        assertEquals(DecodedPacket.CHECKSUM_UNCHECKED, packet.ipChecksum);
    }
}
