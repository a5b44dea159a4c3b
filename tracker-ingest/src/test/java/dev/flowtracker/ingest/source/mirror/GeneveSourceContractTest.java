package dev.flowtracker.ingest.source.mirror;

/** The Geneve receiver passes the source contract, with options in every header and the largest VNI. */
class GeneveSourceContractTest extends MirrorSourceContractTest
{
    @Override
    MirrorProtocol protocol()
    {
        return MirrorProtocol.GENEVE;
    }

    @Override
    int vni()
    {
        return MirrorOptions.MAX_VNI;
    }

    @Override
    int geneveOptionWords()
    {
        return 3;
    }
}
