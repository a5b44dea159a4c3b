package dev.flowtracker.core.decode;

import dev.flowtracker.core.wire.Checksums;
import dev.flowtracker.core.wire.Tunnels;

import java.lang.foreign.MemorySegment;

/**
 * Verifies the IPv4 header checksum and the TCP checksum (over the IPv4 or IPv6 pseudo header and the whole
 * segment), for {@link PacketDecoder#verifyChecksums}; the results are {@link DecodedPacket#CHECKSUM_GOOD} or
 * {@link DecodedPacket#CHECKSUM_BAD}, and nothing is dropped for a bad one.
 *
 * <p>Static and stateless: nothing is allocated per packet and it runs on whichever thread decodes. It reads no
 * length from the wire itself; its callers pass lengths they have already checked against the captured bytes
 * (the IPv4 header length, and a TCP segment only when all of it was captured), so it cannot read outside the
 * frame and never throws on bad input.
 */
final class ChecksumVerifier
{
    private ChecksumVerifier()
    {
    }

    /** The IPv4 header checksum over {@code headerLength} captured bytes at {@code offset}. */
    static int ipv4Header(final MemorySegment segment, final long offset, final int headerLength)
    {
        return Checksums.fold(Checksums.add(segment, offset, headerLength, 0)) == 0xFFFF ?
            DecodedPacket.CHECKSUM_GOOD : DecodedPacket.CHECKSUM_BAD;
    }

    /**
     * The TCP checksum over the pseudo header of {@code packet}'s (already decoded) IP addresses and the whole
     * segment of {@code length} captured bytes at {@code offset}.
     */
    static int tcp(final MemorySegment segment, final long offset, final long length, final DecodedPacket packet)
    {
        long sum = Checksums.add(segment, offset, length, 0);
        if (packet.ipVersion == 4)
        {
            sum = Checksums.addInt(packet.srcLow, sum);
            sum = Checksums.addInt(packet.dstLow, sum);
        }
        else
        {
            sum = Checksums.addLong(packet.srcHigh, Checksums.addLong(packet.srcLow, sum));
            sum = Checksums.addLong(packet.dstHigh, Checksums.addLong(packet.dstLow, sum));
        }
        sum = Checksums.addInt(length, sum) + Tunnels.IP_PROTOCOL_TCP;
        return Checksums.fold(sum) == 0xFFFF ? DecodedPacket.CHECKSUM_GOOD : DecodedPacket.CHECKSUM_BAD;
    }
}
