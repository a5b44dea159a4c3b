package dev.flowtracker.ingest.decode;

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

    /** Counts one captured frame and its decode outcome; returns the frame's number (1-based). */
    public long onFrame(final int wireLength, final int capturedLength, final DecodeEvent event,
        final DecodeEvent warning)
    {
        wireBytes += wireLength;
        capturedBytes += capturedLength;
        decodeEvents[event.ordinal()]++;
        if (warning != null)
        {
            decodeEvents[warning.ordinal()]++;
        }
        return ++frames;
    }

    /** Adds {@code other}'s counts to these (summing several producers' counters). */
    public void add(final CaptureStats other)
    {
        frames += other.frames;
        wireBytes += other.wireBytes;
        capturedBytes += other.capturedBytes;
        connections += other.connections;
        for (int i = 0; i < decodeEvents.length; i++)
        {
            decodeEvents[i] += other.decodeEvents[i];
        }
    }

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

    /** One more connection record emitted (by whoever writes the records: the offline analysis). */
    public void countConnection()
    {
        connections++;
    }

    /** Connection records emitted. */
    public long connections()
    {
        return connections;
    }
}
