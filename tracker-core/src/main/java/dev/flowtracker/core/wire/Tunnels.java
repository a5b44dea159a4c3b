package dev.flowtracker.core.wire;

/**
 * Constants for the tunnel and shim headers the decoder walks through. Layouts:
 * <pre>
 * VXLAN (RFC 7348), 8 bytes, then an Ethernet frame:
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |R|R|R|R|I|R|R|R|            Reserved                           |
 * |                VXLAN Network Identifier (VNI) |   Reserved    |
 *
 * Geneve (RFC 8926), 8 bytes + Opt Len * 4, then Protocol Type's payload:
 * |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
 * |        Virtual Network Identifier (VNI)       |    Reserved   |
 *
 * GRE (RFC 2784/2890), 4 bytes + 4 per C, K, S bit; version 1 (PPTP) always has a key:
 * |C|R|K|S|s|Recur|A| Flags | Ver |         Protocol Type         |
 *
 * MPLS label stack entry (RFC 3032), repeated until S = 1:
 * |                Label                  | TC  |S|       TTL     |
 *
 * PPPoE session (RFC 2516), 6 bytes, then a 2-byte PPP protocol:
 * | VER | TYPE |      CODE     |          SESSION_ID           |
 * |            LENGTH           |
 * </pre>
 */
public final class Tunnels
{
    public static final int IP_PROTOCOL_IPV4 = 4;
    public static final int IP_PROTOCOL_TCP = 6;
    public static final int IP_PROTOCOL_UDP = 17;
    public static final int IP_PROTOCOL_IPV6 = 41;
    public static final int IP_PROTOCOL_GRE = 47;

    public static final int UDP_HEADER_LENGTH = 8;
    public static final int UDP_PORT_VXLAN = 4789;
    public static final int UDP_PORT_GENEVE = 6081;
    public static final int UDP_PORT_TEREDO = 3544;
    public static final int UDP_PORT_GTP_USER = 2152;
    public static final int UDP_PORT_GRE = 4754;

    public static final int VXLAN_HEADER_LENGTH = 8;
    public static final int GENEVE_HEADER_LENGTH = 8;
    public static final int GRE_BASE_LENGTH = 4;
    public static final int GRE_CHECKSUM = 0x8000;
    public static final int GRE_KEY = 0x2000;
    public static final int GRE_SEQUENCE = 0x1000;
    public static final int GRE_ACK = 0x0080;
    public static final int GRE_VERSION_MASK = 0x0007;
    public static final int ERSPAN_II_HEADER_LENGTH = 8;
    public static final int ERSPAN_III_HEADER_LENGTH = 12;
    public static final int ERSPAN_III_PLATFORM_SUBHEADER_LENGTH = 8;
    public static final int MPLS_LABEL_LENGTH = 4;
    public static final int PPPOE_SESSION_HEADER_LENGTH = 6;
    /** The LENGTH field: bytes of PPP (protocol and payload) after the 6-byte header. */
    public static final int PPPOE_LENGTH_OFFSET = 4;
    public static final int PPP_PROTOCOL_IPV4 = 0x0021;
    public static final int PPP_PROTOCOL_IPV6 = 0x0057;
    public static final int GTP_V1_HEADER_LENGTH = 8;
    public static final int GTP_G_PDU = 0xFF;

    private Tunnels()
    {
    }
}
