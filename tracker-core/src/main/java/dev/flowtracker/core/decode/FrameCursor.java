package dev.flowtracker.core.decode;

import java.lang.foreign.MemorySegment;

/**
 * The frame being decoded, as the layer decoders ({@link LinkLayerDecoder}, {@link NetworkLayerDecoder},
 * {@link TunnelDecoder}, {@link TcpHeaderDecoder}) share it while they walk inwards: the captured bytes, the ends no
 * read may cross, how deep the walk has gone, and the {@link DecodedPacket} being filled. It decodes nothing itself;
 * it holds the bounds check every length read from the wire goes through ({@link #has}), the depth limit that
 * stops encapsulation bombs, and the rules for warnings and fragments that every layer follows.
 *
 * <p>One instance per {@link PacketDecoder}, reset for every frame by {@link #start}: nothing is allocated per
 * packet, and it never throws on bad input (a failed check is the caller's {@link DecodeEvent}). Owned by the
 * decoder's thread, like the decoder. Between frames it still refers to the last frame's segment (as the decoder
 * always did); it reads that segment only inside {@link PacketDecoder#decode}.
 */
final class FrameCursor
{
    MemorySegment segment;
    /** End of the captured bytes: no read may cross it. */
    long capturedEnd;
    /** End of the frame as it was on the wire (may lie beyond the captured bytes). */
    long wireEnd;
    /**
     * Where a link layer with its own length (PPPoE) says its payload ends, or Long.MAX_VALUE. It only shortens what
     * tshark's sequence analysis sees ({@link DecodedPacket#payloadBeyondLinkLength}); lengths still come from IP.
     */
    long linkPayloadEnd;
    DecodedPacket packet;
    int depth;
    /** For the frame being decoded: off when checksums are not verified or are pending (left to the sender's NIC). */
    boolean verifyChecksums;

    /** Resets the cursor and the packet's decoded fields for a frame of {@code capturedLength} bytes at offset. */
    void start(
        final MemorySegment segment,
        final long offset,
        final int capturedLength,
        final int wireLength,
        final DecodedPacket out,
        final boolean verifyChecksums)
    {
        this.verifyChecksums = verifyChecksums;
        this.segment = segment;
        this.capturedEnd = offset + Math.max(0, capturedLength);
        this.wireEnd = offset + Math.max(capturedLength, wireLength);
        this.linkPayloadEnd = Long.MAX_VALUE;
        this.packet = out;
        this.depth = 0;
        out.resetDecodedFields();
    }

    /** Whether {@code length} bytes from {@code offset} were captured: the check before every read. */
    boolean has(final long offset, final long length)
    {
        return offset >= 0 && length >= 0 && offset + length <= capturedEnd;
    }

    /** One layer deeper (tunnel, tag, label stack); false once past {@link PacketDecoder#MAX_ENCAPSULATION_DEPTH}. */
    boolean deeper()
    {
        return ++depth <= PacketDecoder.MAX_ENCAPSULATION_DEPTH;
    }

    /** Keeps the first warning of a frame: it is the outermost, and usually the cause of later ones. */
    void warn(final DecodeEvent warning)
    {
        if (packet.warning == null)
        {
            packet.warning = warning;
        }
    }

    /** Notes the outermost fragmented IP layer, so a defragmenter can tell when its datagram is complete. */
    void recordFragment(
        final long srcHigh, final long srcLow, final long dstHigh, final long dstLow, final int id,
        final int fragmentOffset, final long length, final boolean more)
    {
        final DecodedPacket p = packet;
        if (p.fragmentLength >= 0)
        {
            return;
        }
        p.fragmentSrcHigh = srcHigh;
        p.fragmentSrcLow = srcLow;
        p.fragmentDstHigh = dstHigh;
        p.fragmentDstLow = dstLow;
        p.fragmentId = id;
        p.fragmentOffset = fragmentOffset;
        p.fragmentLength = (int)Math.max(0, Math.min(Integer.MAX_VALUE, length));
        p.fragmentMore = more;
    }
}
