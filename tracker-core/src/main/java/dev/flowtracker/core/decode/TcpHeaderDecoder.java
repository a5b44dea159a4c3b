package dev.flowtracker.core.decode;

import dev.flowtracker.core.wire.Tcp;

/**
 * The TCP header that ends the walk inwards: ports, sequence and acknowledgment numbers, flags, window and data
 * offset into the {@link DecodedPacket}, the payload length from the IP length (not from what was captured), then
 * the options ({@link TcpOptions}) and, when asked, the checksum ({@link ChecksumVerifier}). A header tshark would
 * still track (a data offset below 5 words, a header longer than the IP payload, one cut by the snapshot length)
 * is kept with a warning rather than dropped.
 *
 * <p>Static methods over a {@link FrameCursor}: nothing is allocated per packet. The fixed fields are read only once
 * both the captured bytes and the IP payload hold them; the data offset is checked against the IP payload before
 * the payload length is derived from it, and options are parsed only up to the captured bytes. A broken header is a
 * {@link DecodeEvent} that the caller counts (or a warning on the packet), never an exception. Holds no state of
 * its own: it runs on the thread of the {@link PacketDecoder} whose cursor it is given.
 */
final class TcpHeaderDecoder
{
    /** tshark reads TCP bytes 0-15 (ports to window) before it assigns a stream; we need the same minimum. */
    private static final int TCP_FIXED_FIELDS_LENGTH = 16;

    private TcpHeaderDecoder()
    {
    }

    /** The TCP header at {@code offset} of an IP payload that ends at {@code end}. */
    static DecodeEvent decodeTcp(final FrameCursor frame, final long offset, final long end)
    {
        // Both bounds: bytes after the IP length (Ethernet padding) are not TCP, even when captured.
        if (!frame.has(offset, TCP_FIXED_FIELDS_LENGTH) || offset + TCP_FIXED_FIELDS_LENGTH > end)
        {
            return DecodeEvent.TCP_HEADER_TRUNCATED;
        }
        final long capturedEnd = frame.capturedEnd;
        final int headerLength = Tcp.headerLength(frame.segment, offset);
        final boolean complete;
        if (headerLength < Tcp.MIN_HEADER_LENGTH)
        {
            frame.warn(DecodeEvent.TCP_DATA_OFFSET_TOO_SMALL);
            complete = false;
        }
        else if (offset + headerLength > end)
        {
            frame.warn(DecodeEvent.TCP_SHORT_SEGMENT);
            complete = false;
        }
        else
        {
            complete = true;
        }
        final DecodedPacket p = frame.packet;
        p.srcPort = Tcp.sourcePort(frame.segment, offset);
        p.dstPort = Tcp.destinationPort(frame.segment, offset);
        p.seq = Tcp.sequence(frame.segment, offset);
        p.ack = Tcp.acknowledgment(frame.segment, offset);
        p.flags = Tcp.flags(frame.segment, offset);
        p.window = Tcp.window(frame.segment, offset);
        p.tcpHeaderLength = headerLength;
        p.tcpHeaderComplete = complete;
        p.tcpCapturedLength = (int)Math.max(0, Math.min(end, capturedEnd) - offset);
        if (!complete)
        {
            return DecodeEvent.TCP_SEGMENT;
        }
        p.payloadLength = (int)Math.min(Integer.MAX_VALUE, end - offset - headerLength);
        if (frame.linkPayloadEnd < end)
        {
            // tshark trusts the shorter link length over the IP length: the rest is not payload to its analysis.
            p.payloadBeyondLinkLength =
                (int)Math.min(p.payloadLength, end - Math.max(frame.linkPayloadEnd, offset + headerLength));
        }
        if (frame.verifyChecksums && end <= capturedEnd && !p.ipFragmented)
        {
            p.tcpChecksum = ChecksumVerifier.tcp(frame.segment, offset, end - offset, p);
        }
        p.capturedPayloadLength = (int)Math.max(0, Math.min(end, capturedEnd) - offset - headerLength);
        if (offset + headerLength > capturedEnd)
        {
            frame.warn(DecodeEvent.TCP_HEADER_CUT_BY_SNAPLEN);
        }
        if (headerLength > Tcp.MIN_HEADER_LENGTH)
        {
            final long optionsEnd = Math.min(offset + headerLength, capturedEnd);
            TcpOptions.parse(frame.segment, offset + Tcp.MIN_HEADER_LENGTH, optionsEnd, p);
        }
        return DecodeEvent.TCP_SEGMENT;
    }
}
