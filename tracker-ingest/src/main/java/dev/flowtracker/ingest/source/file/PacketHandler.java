package dev.flowtracker.ingest.source.file;

import java.lang.foreign.MemorySegment;

/**
 * Receives each captured frame in place. The frame's bytes are valid only during the call.
 * Called on the reading thread.
 */
@FunctionalInterface
public interface PacketHandler
{
    /**
     * @param segment        memory holding the frame.
     * @param offset         where the frame starts in {@code segment}.
     * @param capturedLength bytes captured.
     * @param wireLength     bytes the frame had on the wire.
     * @param linkType       the frame's LINKTYPE_.
     * @param timestampNanos capture time, nanoseconds since the epoch.
     * @param interfaceId    pcapng interface id (0 for classic pcap).
     */
    void onFrame(MemorySegment segment, long offset, int capturedLength, int wireLength, int linkType,
        long timestampNanos, int interfaceId);
}
