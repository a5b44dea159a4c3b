package dev.flowtracker.ingest.analyze;

import dev.flowtracker.core.decode.DecodeEvent;

/**
 * Counters for one analysis run: frames and bytes read, and every decode outcome by {@link DecodeEvent}, so no
 * skipped frame goes uncounted. Written by the analysing thread; read after it finished.
 */
public final class CaptureStats
{
    long frames;
    long wireBytes;
    long capturedBytes;
    final long[] decodeEvents = new long[DecodeEvent.count()];
    long connections;

    public long frames()
    {
        return frames;
    }

    public long wireBytes()
    {
        return wireBytes;
    }

    public long capturedBytes()
    {
        return capturedBytes;
    }

    public long decodeEvents(final DecodeEvent event)
    {
        return decodeEvents[event.ordinal()];
    }

    public long tcpSegments()
    {
        return decodeEvents(DecodeEvent.TCP_SEGMENT);
    }

    /** Connection records emitted. */
    public long connections()
    {
        return connections;
    }
}
