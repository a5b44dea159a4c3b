package dev.flowtracker.core.decode;

/**
 * Layers a frame can pass through before its TCP header; {@link DecodedPacket#encapsulations} is a bit set of
 * these.
 */
public enum Encapsulation
{
    VLAN, MPLS, PPPOE, GRE, ERSPAN, VXLAN, GENEVE, IP_IN_IP, TEREDO, GTP, AYIYA, PBB, FABRICPATH, VNTAG, NFLOG;

    public int bit()
    {
        return 1 << ordinal();
    }

    public boolean isIn(final int bitSet)
    {
        return (bitSet & bit()) != 0;
    }
}
