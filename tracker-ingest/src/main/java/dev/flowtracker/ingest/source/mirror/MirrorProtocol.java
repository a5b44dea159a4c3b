package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.core.wire.Tunnels;

/** The encapsulations a mirror receiver accepts: each is UDP carrying an inner Ethernet frame and a 24-bit VNI. */
public enum MirrorProtocol
{
    /** VXLAN (RFC 7348), IANA port 4789: AWS VPC traffic mirroring, most switches. */
    VXLAN("vxlan", Tunnels.UDP_PORT_VXLAN),
    /** Geneve (RFC 8926), IANA port 6081: gateway load balancers, OVN, some cloud mirrors. */
    GENEVE("geneve", Tunnels.UDP_PORT_GENEVE);

    private final String label;
    private final int defaultPort;

    MirrorProtocol(final String label, final int defaultPort)
    {
        this.label = label;
        this.defaultPort = defaultPort;
    }

    /** The name in logs, metric labels and {@link MirrorSource#kind()}: {@code vxlan}, {@code geneve}. */
    public String label()
    {
        return label;
    }

    /** The IANA-assigned UDP port. */
    public int defaultPort()
    {
        return defaultPort;
    }

    /** The protocol with this label, or null. */
    public static MirrorProtocol byLabel(final String label)
    {
        for (final MirrorProtocol protocol : values())
        {
            if (protocol.label.equals(label))
            {
                return protocol;
            }
        }
        return null;
    }
}
