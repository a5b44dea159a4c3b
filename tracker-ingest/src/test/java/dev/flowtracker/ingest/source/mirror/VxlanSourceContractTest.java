package dev.flowtracker.ingest.source.mirror;

/** The VXLAN receiver passes the source contract. */
class VxlanSourceContractTest extends MirrorSourceContractTest
{
    @Override
    MirrorProtocol protocol()
    {
        return MirrorProtocol.VXLAN;
    }

    @Override
    int vni()
    {
        return 4242;
    }
}
