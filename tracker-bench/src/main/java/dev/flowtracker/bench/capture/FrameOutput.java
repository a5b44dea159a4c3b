package dev.flowtracker.bench.capture;

import java.io.IOException;

/** Where generated frames go: a pcap file ({@link PcapWriter}) or straight into a tracker in the same process. */
@FunctionalInterface
public interface FrameOutput
{
    /**
     * One Ethernet frame; its bytes are valid only during the call.
     *
     * @param capturedLength bytes of {@code frame} from {@code offset} that were captured.
     * @param wireLength     the frame's length on the wire.
     */
    void write(long timestampNanos, byte[] frame, int offset, int capturedLength, int wireLength) throws IOException;
}
