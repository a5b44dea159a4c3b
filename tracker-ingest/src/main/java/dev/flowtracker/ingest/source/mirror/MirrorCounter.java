package dev.flowtracker.ingest.source.mirror;

/**
 * Every counter of a mirror receiver, with a stable label for metrics and summaries (never rename one). Each
 * datagram ends in exactly one outcome: {@link #FRAMES} (delivered) or one of the {@link Kind#MALFORMED} or
 * {@link Kind#SKIPPED} reasons; {@link #DATAGRAMS} is their sum.
 */
public enum MirrorCounter
{
    /** Datagrams read from the sockets (not empty ones: Netty's epoll transport consumes them unseen). */
    DATAGRAMS("datagrams", Kind.TOTAL),
    /** Inner frames handed to the sinks. */
    FRAMES("frames", Kind.TOTAL),
    /** Bytes of the inner frames handed to the sinks. */
    BYTES("bytes", Kind.TOTAL),
    /**
     * Delivered, but the datagram filled the receive buffer ({@link MirrorSource#MAX_DATAGRAM} bytes): the kernel
     * may have cut it, so the frame may be incomplete. Counted also in {@link #FRAMES}.
     */
    TRUNCATED("truncated", Kind.WARNING),

    /** Shorter than the encapsulation header. */
    TOO_SHORT("too_short", Kind.MALFORMED),
    /** VXLAN without the I flag: no valid VNI. */
    VXLAN_NO_VNI("vxlan_no_vni", Kind.MALFORMED),
    /** Geneve with a version other than 0. */
    GENEVE_BAD_VERSION("geneve_bad_version", Kind.MALFORMED),
    /** Geneve whose options run past the datagram's end. */
    GENEVE_OPTIONS_TRUNCATED("geneve_options_truncated", Kind.MALFORMED),
    /** The inner frame is shorter than an Ethernet header (14 bytes). */
    INNER_FRAME_TOO_SHORT("inner_frame_too_short", Kind.MALFORMED),

    /** Geneve carrying something other than Ethernet (Transparent Ethernet Bridging, 0x6558). */
    GENEVE_NOT_ETHERNET("geneve_not_ethernet", Kind.SKIPPED),
    /** A Geneve control (OAM) message: no mirrored frame inside. */
    GENEVE_CONTROL("geneve_control", Kind.SKIPPED),

    /** Socket read errors the event loop reported (the socket stays open). */
    READ_ERRORS("read_errors", Kind.ERROR),
    /** Exceptions thrown by a sink while taking a frame (a bug; the frame is counted as delivered). */
    SINK_ERRORS("sink_errors", Kind.ERROR);

    /** What a counter means for the datagrams it counts. */
    public enum Kind
    {
        TOTAL,
        WARNING,
        MALFORMED,
        SKIPPED,
        ERROR
    }

    private static final MirrorCounter[] VALUES = values();

    private final String label;
    private final Kind kind;

    MirrorCounter(final String label, final Kind kind)
    {
        this.label = label;
        this.kind = kind;
    }

    public String label()
    {
        return label;
    }

    public Kind kind()
    {
        return kind;
    }

    /** The counter with this ordinal (the stable order of declaration). */
    public static MirrorCounter of(final int ordinal)
    {
        return VALUES[ordinal];
    }

    public static int count()
    {
        return VALUES.length;
    }
}
