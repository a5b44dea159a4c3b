package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.PacketSourceContractTest;
import dev.flowtracker.ingest.source.SourceFrames;
import dev.flowtracker.ingest.source.SourceFrames.Frame;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * AF_PACKET passes the source contract: the capture's frames are sent, as they are, into the peer of a veth pair
 * whose other end is in this process's namespace, where the source captures them with two fanout sockets (two
 * delivery threads) and no filter (the contract wants every frame, ARP included). Frames carry their arrival time.
 * Needs root and iproute2.
 */
class AfPacketSourceContractTest extends PacketSourceContractTest
{
    private RootVeth veth;
    private Set<ByteBuffer> sampleFrames;

    @BeforeEach
    void createVeth() throws Exception
    {
        NetnsPair.assumeUsable();
        Assumptions.assumeTrue(AfPacket.isAvailable(), () -> "skipped: " + AfPacket.unavailabilityCause());
        veth = RootVeth.create();
        sampleFrames = new HashSet<>();
        for (final Frame frame : SourceFrames.read(SAMPLE))
        {
            sampleFrames.add(frame.key());
        }
    }

    @AfterEach
    void deleteVeth()
    {
        if (veth != null)
        {
            veth.close();
        }
    }

    @Override
    protected PacketSource newSource(final Path capture, final int copies)
    {
        return new AfPacketSource(AfPacketOptions.builder().addInterface(veth.name).fanout(2).tcpOnlyFilter(false)
            .build());
    }

    @Override
    protected void feed(final PacketSource source, final Path capture, final int copies, final Duration timeLimit)
        throws Exception
    {
        final List<byte[]> frames = FrameInjector.read(capture);
        FrameInjector.send(veth.namespace, RootVeth.PEER_INTERFACE, frames, copies, timeLimit);
    }

    @Override
    protected PacketSource newSourceThatCannotStart()
    {
        return new AfPacketSource(AfPacketOptions.of("ftnosuch0"));
    }

    @Override
    protected boolean keepsCaptureTime()
    {
        return false;
    }

    @Override
    protected int expectedTunnelId()
    {
        return FrameDescriptor.NO_TUNNEL;
    }

    /** Nothing else should cross this link; anything that is not one of the capture's frames is not ours. */
    @Override
    protected boolean isNoise(final Frame frame)
    {
        return !sampleFrames.contains(frame.key());
    }
}
