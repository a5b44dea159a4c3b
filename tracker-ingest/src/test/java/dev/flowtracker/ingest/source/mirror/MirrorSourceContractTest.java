package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.PacketSourceContractTest;
import dev.flowtracker.ingest.source.SourceFrames.Frame;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;

/**
 * A mirror receiver passes the source contract: the capture is fed as encapsulated datagrams over loopback (two
 * sockets and delivery threads, flows spread over eight outer source ports, paced by a window over what the
 * receiver has read). Frames carry the VNI and their arrival time.
 */
abstract class MirrorSourceContractTest extends PacketSourceContractTest
{
    /** Datagrams in flight at most: well inside the receive buffer and the loopback backlog. */
    static final int WINDOW = 256;
    static final int SENDING_SOCKETS = 8;

    abstract MirrorProtocol protocol();

    abstract int vni();

    /** Geneve option words the sender adds (to exercise the option length). */
    int geneveOptionWords()
    {
        return 0;
    }

    @BeforeEach
    void requireEpoll()
    {
        Assumptions.assumeTrue(MirrorSource.isAvailable(),
            () -> "skipped: no epoll here: " + MirrorSource.unavailabilityCause());
    }

    @Override
    protected PacketSource newSource(final Path capture, final int copies)
    {
        return new MirrorSource(
            new MirrorOptions(protocol(), new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).withThreads(2));
    }

    @Override
    protected void feed(final PacketSource source, final Path capture, final int copies, final Duration timeLimit)
        throws Exception
    {
        final MirrorSource mirror = (MirrorSource)source;
        final long deadline = System.nanoTime() + timeLimit.toNanos();
        final MirrorReplay.Pacing pacing =
            MirrorReplay.Pacing.window(WINDOW, () -> mirror.counter(MirrorCounter.DATAGRAMS));
        for (int i = 0; i < copies && System.nanoTime() - deadline < 0; i++)
        {
            // New sockets for each copy: new outer source ports, so the copies spread over the receiving sockets.
            try (MirrorReplay replay = new MirrorReplay(protocol(), mirror.localAddress(), vni(), SENDING_SOCKETS))
            {
                replay.geneveOptionWords(protocol() == MirrorProtocol.GENEVE ? geneveOptionWords() : 0);
                replay.send(capture, Long.MAX_VALUE, Duration.ofNanos(deadline - System.nanoTime()), pacing);
            }
        }
    }

    @Override
    protected PacketSource newSourceThatCannotStart() throws Exception
    {
        // TEST-NET-1 (RFC 5737): never a local address, so bind fails with "Cannot assign requested address".
        return new MirrorSource(new MirrorOptions(protocol(),
            new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 4789)).withThreads(2));
    }

    @Override
    protected boolean keepsCaptureTime()
    {
        return false;
    }

    @Override
    protected int expectedTunnelId()
    {
        return vni();
    }

    @Override
    protected int expectedWireLength(final Frame original)
    {
        return original.data().length;
    }
}
