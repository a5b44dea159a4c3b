package dev.flowtracker.core.wire;

/** EtherType values the decoder follows. Values below {@link #MIN_ETHERTYPE} are 802.3 lengths, not types. */
public final class EtherType
{
    public static final int MIN_ETHERTYPE = 0x0600;
    public static final int IPV4 = 0x0800;
    public static final int IPV6 = 0x86DD;
    public static final int VLAN_8021Q = 0x8100;
    public static final int VLAN_8021AD = 0x88A8;
    public static final int VLAN_QINQ_LEGACY = 0x9100;
    public static final int MPLS_UNICAST = 0x8847;
    public static final int MPLS_MULTICAST = 0x8848;
    public static final int PPPOE_SESSION = 0x8864;
    public static final int TRANSPARENT_ETHERNET = 0x6558;
    public static final int ERSPAN_TYPE_II = 0x88BE;
    public static final int ERSPAN_TYPE_III = 0x22EB;
    /** 802.1ah provider backbone bridging: a 4-byte I-TAG, then a whole customer Ethernet frame. */
    public static final int PBB_ITAG = 0x88E7;
    /** Cisco FabricPath: 2-byte FTag/TTL, then a whole Ethernet frame. */
    public static final int CISCO_FABRICPATH = 0x8903;
    /** Cisco VN-Tag: 4 bytes, then the next EtherType. */
    public static final int VNTAG = 0x8926;

    private EtherType()
    {
    }
}
