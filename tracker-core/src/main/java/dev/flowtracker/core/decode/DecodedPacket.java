package dev.flowtracker.core.decode;

/**
 * The fields of one TCP segment that flow tracking needs, in primitives only. One instance is reused for every
 * frame (and later becomes the ring event's payload), so it never holds a reference into the capture buffer.
 * Fields are public on purpose: this is a plain value holder filled by {@link PacketDecoder} on the decoding thread
 * and read by the flow tracker on the same thread.
 *
 * <p>Addresses: IPv4 lives in {@code srcLow}/{@code dstLow} (unsigned 32 bits) with the high halves zero; IPv6 uses
 * both halves, most significant bits in {@code *High}.
 */
public final class DecodedPacket
{
    public static final int MAX_SACK_BLOCKS = 4;
    /** Checksum results, when the decoder verifies them (see {@link PacketDecoder#verifyChecksums}). */
    public static final int CHECKSUM_UNCHECKED = 0;
    public static final int CHECKSUM_GOOD = 1;
    public static final int CHECKSUM_BAD = 2;

    // Capture metadata, set by the source before decoding.
    public long timestampNanos;
    public int wireLength;
    public int capturedLength;
    public int interfaceId;
    public long frameNumber;

    // Innermost IP header that carries the TCP header.
    public int ipVersion;
    public long srcHigh;
    public long srcLow;
    public long dstHigh;
    public long dstLow;
    /** IP packet length (header + payload) as the IP header states it, clamped to the frame. */
    public int ipLength;
    /** First fragment of a fragmented datagram, at any IP layer (the TCP header is here, later bytes are not). */
    public boolean ipFragmented;
    /**
     * Mirror session id (e.g. the VNI of the VXLAN/Geneve session a mirror receiver decapsulated), or -1. Part of
     * connection identity, so equal 4-tuples of different sessions stay apart. Set by sources, not by the decoder:
     * tunnels inside a capture are not identity (tshark ignores them, and mirrors may use one VNI per direction).
     */
    public int tunnelId;
    /** Bit set of {@link Encapsulation} layers crossed to reach the TCP header. */
    public int encapsulations;

    // TCP header.
    public int srcPort;
    public int dstPort;
    public int seq;
    public int ack;
    public int flags;
    public int window;
    public int tcpHeaderLength;
    /**
     * False for a segment whose header is bogus (data offset below 5, or longer than the IP payload): it belongs to
     * its connection but carries no trustworthy payload length, so sequence analysis skips it (as tshark does).
     */
    public boolean tcpHeaderComplete;
    /** Payload length on the wire (from the IP length), not the captured length. */
    public int payloadLength;
    /**
     * The last bytes of {@link #payloadLength} that lie past the end of the payload a link layer declared (a PPPoE
     * session header's length shorter than the IP total length), 0 when none. tshark ends the frame where that
     * length says, so its sequence analysis does not see these bytes; Zeek and our byte counts do. Kept as a cut
     * rather than a second length so that a packet filled in without it analyses its whole payload.
     */
    public int payloadBeyondLinkLength;
    /** Payload bytes actually present in the capture. */
    public int capturedPayloadLength;

    // TCP options; -1 or false when absent.
    public int mss;
    public int windowScale;
    public boolean sackPermitted;
    public boolean hasTimestamps;
    public int tsVal;
    public int tsEcr;
    public boolean fastOpen;
    public int sackBlockCount;
    /** Left/right edges of up to {@link #MAX_SACK_BLOCKS} SACK blocks, in pairs. */
    public final int[] sackBlocks = new int[MAX_SACK_BLOCKS * 2];

    // The outermost fragmented IP layer, if any: identity of its datagram and this fragment's place in it.
    // fragmentLength is -1 when the frame is not a fragment. IPv4 ids carry the protocol in their low byte.
    public long fragmentSrcHigh;
    public long fragmentSrcLow;
    public long fragmentDstHigh;
    public long fragmentDstLow;
    public int fragmentId;
    public int fragmentOffset;
    public int fragmentLength;
    public boolean fragmentMore;

    /** A non-fatal anomaly seen while decoding this segment, or null. */
    public DecodeEvent warning;

    /** Header checksum of the IPv4 header that carries the TCP segment. */
    public int ipChecksum;
    /** TCP checksum; checked only when the whole segment was captured and is not a fragment. */
    public int tcpChecksum;
    /** The IP total length claimed more bytes than the frame had on the wire (the length was clamped). */
    public boolean ipLengthExceedsFrame;
    /** TCP bytes present in the capture (header and payload), at most the IP payload length. */
    public int tcpCapturedLength;

    /** Clears the decoded fields (not the capture metadata) before a new frame. */
    public void resetDecodedFields()
    {
        ipVersion = 0;
        srcHigh = 0;
        srcLow = 0;
        dstHigh = 0;
        dstLow = 0;
        ipLength = 0;
        ipFragmented = false;
        tunnelId = -1;
        encapsulations = 0;
        srcPort = 0;
        dstPort = 0;
        seq = 0;
        ack = 0;
        flags = 0;
        window = 0;
        tcpHeaderLength = 0;
        tcpHeaderComplete = false;
        payloadLength = 0;
        payloadBeyondLinkLength = 0;
        capturedPayloadLength = 0;
        mss = -1;
        windowScale = -1;
        sackPermitted = false;
        hasTimestamps = false;
        tsVal = 0;
        tsEcr = 0;
        fastOpen = false;
        sackBlockCount = 0;
        fragmentLength = -1;
        fragmentMore = false;
        warning = null;
        ipChecksum = CHECKSUM_UNCHECKED;
        tcpChecksum = CHECKSUM_UNCHECKED;
        ipLengthExceedsFrame = false;
        tcpCapturedLength = 0;
    }

    /** Copies every field (used to hold a first fragment until its datagram completes). */
    public void copyFrom(final DecodedPacket o)
    {
        timestampNanos = o.timestampNanos;
        wireLength = o.wireLength;
        capturedLength = o.capturedLength;
        interfaceId = o.interfaceId;
        frameNumber = o.frameNumber;
        ipVersion = o.ipVersion;
        srcHigh = o.srcHigh;
        srcLow = o.srcLow;
        dstHigh = o.dstHigh;
        dstLow = o.dstLow;
        ipLength = o.ipLength;
        ipFragmented = o.ipFragmented;
        tunnelId = o.tunnelId;
        encapsulations = o.encapsulations;
        srcPort = o.srcPort;
        dstPort = o.dstPort;
        seq = o.seq;
        ack = o.ack;
        flags = o.flags;
        window = o.window;
        tcpHeaderLength = o.tcpHeaderLength;
        tcpHeaderComplete = o.tcpHeaderComplete;
        payloadLength = o.payloadLength;
        payloadBeyondLinkLength = o.payloadBeyondLinkLength;
        capturedPayloadLength = o.capturedPayloadLength;
        mss = o.mss;
        windowScale = o.windowScale;
        sackPermitted = o.sackPermitted;
        hasTimestamps = o.hasTimestamps;
        tsVal = o.tsVal;
        tsEcr = o.tsEcr;
        fastOpen = o.fastOpen;
        sackBlockCount = o.sackBlockCount;
        System.arraycopy(o.sackBlocks, 0, sackBlocks, 0, sackBlocks.length);
        fragmentSrcHigh = o.fragmentSrcHigh;
        fragmentSrcLow = o.fragmentSrcLow;
        fragmentDstHigh = o.fragmentDstHigh;
        fragmentDstLow = o.fragmentDstLow;
        fragmentId = o.fragmentId;
        fragmentOffset = o.fragmentOffset;
        fragmentLength = o.fragmentLength;
        fragmentMore = o.fragmentMore;
        warning = o.warning;
        ipChecksum = o.ipChecksum;
        tcpChecksum = o.tcpChecksum;
        ipLengthExceedsFrame = o.ipLengthExceedsFrame;
        tcpCapturedLength = o.tcpCapturedLength;
    }

    /** The payload length tshark's sequence analysis sees: {@link #payloadLength} without the bytes beyond the link. */
    public int analysisPayloadLength()
    {
        return payloadLength - payloadBeyondLinkLength;
    }

    /**
     * Whether the snapshot length cut this segment inside its TCP header (the header itself is whole by the IP
     * length, but fewer of its bytes were captured: options are lost). tshark still analyses such a segment but
     * reports none of its analysis flags (see {@code TcpConnection.onSegment}); the decoder warns
     * {@link DecodeEvent#TCP_HEADER_CUT_BY_SNAPLEN} for it.
     */
    public boolean tcpHeaderCutBySnaplen()
    {
        return tcpHeaderComplete && tcpCapturedLength < tcpHeaderLength;
    }

    public boolean hasFlag(final int flag)
    {
        return (flags & flag) != 0;
    }
}
