package dev.flowtracker.ingest.source;

import java.lang.foreign.MemorySegment;

/**
 * One captured frame as a source hands it to a {@link FrameSink}: where its bytes are and what the capture says of
 * it. A flyweight: each delivery thread owns one, made once, and refills it for every frame, so nothing is
 * allocated per frame.
 * <pre>
 * segment: ... | offset                                           | ...
 *              |<------------- capturedLength ------------->|
 *              |<------------------ wireLength (on the wire) ------------------>|
 *
 * linkType         the frame's LINKTYPE_
 * timestampNanos   capture time, nanoseconds since the epoch
 * interfaceId      which of the source's interfaces saw it (pcapng interface id, fanout socket, ...)
 * tunnelId         the mirror session it arrived in (a VXLAN/Geneve VNI), or NO_TUNNEL
 * checksumsPending its checksums were left to the sending host's network card, so cannot be verified
 * </pre>
 * A sink reads it during {@link FrameSink#onFrame} only: the descriptor and the bytes it points at change after the
 * call. Sinks do not change it; one that passes the frame on passes this same descriptor.
 *
 * <p>Owned by the delivery thread that fills it.
 */
public final class FrameDescriptor
{
    /** {@link #tunnelId()} of a frame of no mirror session. */
    public static final int NO_TUNNEL = -1;

    private MemorySegment segment = MemorySegment.NULL;
    private long offset;
    private int capturedLength;
    private int wireLength;
    private int linkType;
    private long timestampNanos;
    private int interfaceId;
    private int tunnelId = NO_TUNNEL;
    private boolean checksumsPending;

    /**
     * Points at a frame: {@code capturedLength} bytes at {@code offset} in {@code segment}, of a frame that had
     * {@code wireLength} bytes on the wire. The other fields keep their values until set.
     */
    public FrameDescriptor wrap(
        final MemorySegment segment, final long offset, final int capturedLength, final int wireLength)
    {
        this.segment = segment;
        this.offset = offset;
        this.capturedLength = capturedLength;
        this.wireLength = wireLength;
        return this;
    }

    public FrameDescriptor linkType(final int linkType)
    {
        this.linkType = linkType;
        return this;
    }

    public FrameDescriptor timestampNanos(final long timestampNanos)
    {
        this.timestampNanos = timestampNanos;
        return this;
    }

    public FrameDescriptor interfaceId(final int interfaceId)
    {
        this.interfaceId = interfaceId;
        return this;
    }

    /** The mirror session ({@link #NO_TUNNEL} for none): part of connection identity. */
    public FrameDescriptor tunnelId(final int tunnelId)
    {
        this.tunnelId = tunnelId;
        return this;
    }

    /**
     * Whether the frame's checksums cannot be verified because they are not there yet: the capturing host sent it
     * and left them to the network card (checksum offload; AF_PACKET's {@code TP_STATUS_CSUMNOTREADY}). Verifying
     * them would call every segment this host sends bad.
     */
    public FrameDescriptor checksumsPending(final boolean checksumsPending)
    {
        this.checksumsPending = checksumsPending;
        return this;
    }

    /** Memory holding the frame. */
    public MemorySegment segment()
    {
        return segment;
    }

    /** Where the frame starts in {@link #segment()}. */
    public long offset()
    {
        return offset;
    }

    /** Bytes captured. */
    public int capturedLength()
    {
        return capturedLength;
    }

    /** Bytes the frame had on the wire. */
    public int wireLength()
    {
        return wireLength;
    }

    /** The frame's LINKTYPE_. */
    public int linkType()
    {
        return linkType;
    }

    /** Capture time, nanoseconds since the epoch. */
    public long timestampNanos()
    {
        return timestampNanos;
    }

    /** Which of the source's interfaces saw it (pcapng interface id, fanout socket, ...). */
    public int interfaceId()
    {
        return interfaceId;
    }

    /** The mirror session the frame arrived in (a VXLAN/Geneve VNI), or {@link #NO_TUNNEL}. */
    public int tunnelId()
    {
        return tunnelId;
    }

    /** See {@link #checksumsPending(boolean)}. */
    public boolean checksumsPending()
    {
        return checksumsPending;
    }
}
