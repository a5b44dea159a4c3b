package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.BitSet;

/**
 * IPv4/TCP frames that carry a unique number in their TCP sequence field, so a capture can tell which frames it got
 * and how often. The source port varies with the number (4096 flows), so a hash fanout spreads them over its
 * members. The destination MAC is nobody's: the receiving stack drops the frames as PACKET_OTHERHOST (no answers,
 * no connections), while packet sockets still see them.
 */
final class NumberedFrames
{
    static final int LENGTH = 14 + 20 + 20;
    /** Where the number is: the TCP sequence number, big-endian. */
    private static final int NUMBER_OFFSET = 14 + 20 + 4;
    private static final ValueLayout.OfInt INT_BIG_ENDIAN =
        ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);

    private NumberedFrames()
    {
    }

    /** A frame template; {@link #number} writes each frame's number into it. */
    static byte[] template()
    {
        final byte[] frame = new byte[LENGTH];
        final byte[] header = {
            0x02, 0, 0, 0, 0, 0x01, 0x02, 0, 0, 0, 0, 0x02, 0x08, 0x00,          // Ethernet: to nobody, IPv4
            0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0,                        // IPv4: 40 bytes, DF, TTL 64, TCP
            10, (byte)231, 0, 2, 10, (byte)231, 9, 9,                          // 10.231.0.2 -> 10.231.9.9
        };
        System.arraycopy(header, 0, frame, 0, header.length);
        frame[36] = 0;    // destination port 80
        frame[37] = 80;
        frame[46] = 0x50; // data offset 5
        frame[47] = 0x10; // ACK
        frame[48] = 0x10; // window
        return frame;
    }

    /** Writes {@code number} (and the source port it implies) into {@code frame}. */
    static void number(final byte[] frame, final int number)
    {
        final int port = 1024 + (number & 0xFFF);
        frame[34] = (byte)(port >>> 8);
        frame[35] = (byte)port;
        frame[38] = (byte)(number >>> 24);
        frame[39] = (byte)(number >>> 16);
        frame[40] = (byte)(number >>> 8);
        frame[41] = (byte)number;
    }

    /**
     * A sink for one delivery thread that marks every numbered frame it sees in {@link #seen} and counts frames seen
     * before ({@link #repeats}) and frames that are not ours ({@link #foreign}). Owned by its delivery thread; read
     * once that thread has stopped.
     */
    static final class Recorder implements FrameSink
    {
        final BitSet seen = new BitSet();
        long repeats;
        long foreign;
        long frames;

        @Override
        public void onFrame(final FrameDescriptor frame)
        {
            final MemorySegment segment = frame.segment();
            final long offset = frame.offset();
            frames++;
            if (frame.capturedLength() < LENGTH || segment.get(ValueLayout.JAVA_BYTE, offset + 47) != 0x10)
            {
                foreign++;
                return;
            }
            final int number = segment.get(INT_BIG_ENDIAN, offset + NUMBER_OFFSET);
            if (number < 0)
            {
                foreign++;
            }
            else if (seen.get(number))
            {
                repeats++;
            }
            else
            {
                seen.set(number);
            }
        }
    }

    /** Numbers seen by more than one of {@code recorders}. */
    static BitSet seenTwice(final Recorder... recorders)
    {
        final BitSet union = new BitSet();
        final BitSet twice = new BitSet();
        for (final Recorder recorder : recorders)
        {
            final BitSet again = (BitSet)recorder.seen.clone();
            again.and(union);
            twice.or(again);
            union.or(recorder.seen);
        }
        return twice;
    }
}
