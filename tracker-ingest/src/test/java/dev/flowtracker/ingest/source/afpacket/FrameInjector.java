package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Sends the Ethernet frames of a capture file out of an interface as they are (an AF_PACKET socket that only sends),
 * optionally with VLAN tags inserted: a way to put frames with a known layout on a veth, where the peer's receive path
 * (VLAN untagging included) handles them as it would a tap's.
 */
final class FrameInjector
{
    private FrameInjector()
    {
    }

    /** Every frame of {@code capture} (Ethernet link type), in order. */
    static List<byte[]> read(final Path capture) throws IOException
    {
        final List<byte[]> frames = new ArrayList<>();
        CaptureReplay.read(capture, frame -> frames.add(
            frame.segment().asSlice(frame.offset(), frame.capturedLength()).toArray(ValueLayout.JAVA_BYTE)));
        return frames;
    }

    /** The frame with 802.1Q-style tags inserted after the MAC addresses: {@code tags} holds TPID, VLAN id pairs. */
    static byte[] withTags(final byte[] frame, final int... tags)
    {
        final byte[] tagged = new byte[frame.length + tags.length * 2];
        System.arraycopy(frame, 0, tagged, 0, 12);
        int at = 12;
        for (int i = 0; i < tags.length; i += 2)
        {
            tagged[at++] = (byte)(tags[i] >>> 8);
            tagged[at++] = (byte)tags[i];
            tagged[at++] = (byte)(tags[i + 1] >>> 8 & 0x0F);
            tagged[at++] = (byte)tags[i + 1];
        }
        System.arraycopy(frame, 12, tagged, at, frame.length - 12);
        return tagged;
    }

    /** Sends {@code frames} in order out of {@code interfaceName} in namespace {@code namespace}. */
    static void send(final String namespace, final String interfaceName, final List<byte[]> frames) throws Exception
    {
        send(namespace, interfaceName, frames, 1, Duration.ofSeconds(30));
    }

    /**
     * Sends {@code frames} {@code copies} times over; stops early (without error) once {@code timeLimit} has passed.
     * Returns the frames sent.
     */
    static long send(final String namespace, final String interfaceName, final List<byte[]> frames, final int copies,
        final Duration timeLimit) throws Exception
    {
        final long deadline = System.nanoTime() + timeLimit.toNanos();
        return NetnsPair.call(namespace, timeLimit.toSeconds() + 10, () ->
        {
            long sent = 0;
            final int fd = Libc.socket(Libc.AF_PACKET, Libc.SOCK_RAW, 0);
            try
            {
                Libc.bindPacket(fd, Libc.ifNameToIndex(interfaceName), 0);
                for (int copy = 0; copy < copies && System.nanoTime() - deadline < 0; copy++)
                {
                    for (final byte[] frame : frames)
                    {
                        TestLibc.send(fd, frame);
                        sent++;
                    }
                }
            }
            finally
            {
                Libc.close(fd);
            }
            return sent;
        });
    }
}
