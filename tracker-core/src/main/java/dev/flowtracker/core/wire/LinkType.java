package dev.flowtracker.core.wire;

/**
 * Link-layer header types (the LINKTYPE_ values of pcap and pcapng) that the decoder understands.
 * Values 12 and 14 are the historical DLT_RAW numbers that some writers still use for raw IP.
 */
public final class LinkType
{
    public static final int NULL = 0;
    public static final int EN10MB = 1;
    public static final int FDDI = 10;
    public static final int RAW_DLT_12 = 12;
    public static final int RAW_DLT_14 = 14;
    public static final int RAW = 101;
    public static final int LOOP = 108;
    public static final int LINUX_SLL = 113;
    public static final int NFLOG = 239;
    public static final int IPV4 = 228;
    public static final int IPV6 = 229;
    public static final int LINUX_SLL2 = 276;

    private LinkType()
    {
    }

    public static boolean isSupported(final int linkType)
    {
        return switch (linkType)
        {
            case NULL, EN10MB, FDDI, RAW_DLT_12, RAW_DLT_14, RAW, LOOP, LINUX_SLL, NFLOG, IPV4, IPV6,
                LINUX_SLL2 -> true;
            default -> false;
        };
    }

    public static String name(final int linkType)
    {
        return switch (linkType)
        {
            case NULL -> "NULL";
            case EN10MB -> "EN10MB";
            case FDDI -> "FDDI";
            case RAW_DLT_12, RAW_DLT_14, RAW -> "RAW";
            case LOOP -> "LOOP";
            case LINUX_SLL -> "LINUX_SLL";
            case NFLOG -> "NFLOG";
            case IPV4 -> "IPV4";
            case IPV6 -> "IPV6";
            case LINUX_SLL2 -> "LINUX_SLL2";
            default -> "LINKTYPE_" + linkType;
        };
    }
}
