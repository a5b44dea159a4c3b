package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.PacketSourceContractTest;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.List;

/** Capture-file replay passes the source contract: the file is its input, capture time is kept. */
class CaptureFileSourceContractTest extends PacketSourceContractTest
{
    @Override
    protected PacketSource newSource(final Path capture, final int copies)
    {
        return new CaptureFileSource(Collections.nCopies(copies, capture), 0);
    }

    @Override
    protected void feed(final PacketSource source, final Path capture, final int copies, final Duration timeLimit)
    {
        // the files are the input
    }

    @Override
    protected PacketSource newSourceThatCannotStart()
    {
        return new CaptureFileSource(List.of(Path.of("../samples/no-such-capture.pcap")), 0);
    }

    @Override
    protected boolean keepsCaptureTime()
    {
        return true;
    }

    @Override
    protected int expectedTunnelId()
    {
        return FrameDescriptor.NO_TUNNEL;
    }
}
