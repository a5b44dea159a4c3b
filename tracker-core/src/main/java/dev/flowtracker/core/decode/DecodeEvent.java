package dev.flowtracker.core.decode;

/**
 * Every outcome of decoding one captured frame. {@link #TCP_SEGMENT} is the one success; the others say why the
 * frame was skipped ({@link Kind#SKIPPED}: valid but not ours; {@link Kind#MALFORMED}: a header is broken), or flag
 * an anomaly on a segment that is still tracked ({@link Kind#WARNING}). Counters are indexed by {@link #ordinal()},
 * and {@link #label()} is the stable name used in metrics and summaries, so never rename a label.
 */
public enum DecodeEvent
{
    TCP_SEGMENT("tcp_segment", Kind.DECODED),

    UNSUPPORTED_LINK_TYPE("unsupported_link_type", Kind.SKIPPED),
    NON_IP("non_ip", Kind.SKIPPED),
    NON_TCP("non_tcp", Kind.SKIPPED),
    IPV4_FRAGMENT_TRAILING("ipv4_fragment_trailing", Kind.SKIPPED),
    IPV6_FRAGMENT_TRAILING("ipv6_fragment_trailing", Kind.SKIPPED),
    UNSUPPORTED_ENCAPSULATION("unsupported_encapsulation", Kind.SKIPPED),

    FRAME_EMPTY("frame_empty", Kind.MALFORMED),
    LINK_HEADER_TRUNCATED("link_header_truncated", Kind.MALFORMED),
    VLAN_TRUNCATED("vlan_truncated", Kind.MALFORMED),
    MPLS_TRUNCATED("mpls_truncated", Kind.MALFORMED),
    PPPOE_TRUNCATED("pppoe_truncated", Kind.MALFORMED),
    TUNNEL_HEADER_TRUNCATED("tunnel_header_truncated", Kind.MALFORMED),
    ENCAPSULATION_TOO_DEEP("encapsulation_too_deep", Kind.MALFORMED),
    IPV4_HEADER_TRUNCATED("ipv4_header_truncated", Kind.MALFORMED),
    IPV4_BAD_VERSION("ipv4_bad_version", Kind.MALFORMED),
    IPV4_HEADER_LENGTH_INVALID("ipv4_header_length_invalid", Kind.MALFORMED),
    IPV4_TOTAL_LENGTH_INVALID("ipv4_total_length_invalid", Kind.MALFORMED),
    IPV6_HEADER_TRUNCATED("ipv6_header_truncated", Kind.MALFORMED),
    IPV6_BAD_VERSION("ipv6_bad_version", Kind.MALFORMED),
    IPV6_EXTENSION_TRUNCATED("ipv6_extension_truncated", Kind.MALFORMED),
    IPV6_EXTENSION_CHAIN_TOO_LONG("ipv6_extension_chain_too_long", Kind.MALFORMED),
    UDP_HEADER_TRUNCATED("udp_header_truncated", Kind.MALFORMED),
    TCP_HEADER_TRUNCATED("tcp_header_truncated", Kind.MALFORMED),

    TCP_OPTION_MALFORMED("tcp_option_malformed", Kind.WARNING),
    /**
     * Data offset below 5 words. Like tshark, the segment still counts for its connection (ports, flags, seq are
     * readable) but is not analysed: see {@link DecodedPacket#tcpHeaderComplete}.
     */
    TCP_DATA_OFFSET_TOO_SMALL("tcp_data_offset_too_small", Kind.WARNING),
    /** The TCP header is longer than the IP payload ("short segment"): counted, not analysed. */
    TCP_SHORT_SEGMENT("tcp_short_segment", Kind.WARNING),
    /** Snaplen cut the TCP header after the window field: tracked (as tshark does), options partly lost. */
    TCP_HEADER_CUT_BY_SNAPLEN("tcp_header_cut_by_snaplen", Kind.WARNING),
    IP_LENGTH_EXCEEDS_FRAME("ip_length_exceeds_frame", Kind.WARNING);

    /** What an event means for the frame that raised it. */
    public enum Kind
    {
        /** A TCP segment was decoded and will be tracked. */
        DECODED,
        /** Well-formed, but nothing to track (not IP, not TCP, a trailing fragment...). */
        SKIPPED,
        /** A header is broken; the frame is skipped. */
        MALFORMED,
        /** The segment is tracked, but something in it was off. */
        WARNING
    }

    private static final DecodeEvent[] VALUES = values();

    private final String label;
    private final Kind kind;

    DecodeEvent(final String label, final Kind kind)
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

    public static int count()
    {
        return VALUES.length;
    }

    public static DecodeEvent of(final int ordinal)
    {
        return VALUES[ordinal];
    }
}
