package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.flow.FlowHash;
import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.file.CaptureReplay;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * Sends the Ethernet frames of a capture file as mirrored traffic (VXLAN or Geneve datagrams with one VNI) to a
 * receiver, as a mirror session would: for tests and benchmarks, over loopback or a lab network. Bounded: at most
 * so many frames, within a time limit, paced by rate or by a window over what the receiver has taken.
 *
 * <p>Like a VTEP, it keeps each inner flow on one outer source port: frames are spread over {@code sockets} UDP
 * sockets by a symmetric hash of their inner IP addresses (as the tracker's decoder finds them), so both directions
 * of a connection and its fragments travel on one outer 4-tuple and reach one receiving socket, in order.
 *
 * <p>Frames that cannot be carried whole are skipped and counted: other link types than Ethernet, frames longer
 * than {@link MirrorSource#MAX_INNER_FRAME}. A frame cut by the capture's snaplen is sent as captured.
 *
 * <p>Owned by the calling thread. Interrupting it stops a {@link #send} between datagrams (the interrupt stays set).
 *
 * <p>A test fixture, not part of the tracker: it lives in tracker-ingest's test sources and is published in its
 * test-jar, from which tracker-bench's {@code MirrorReceiveBenchmark} uses it.
 */
public final class MirrorReplay implements AutoCloseable
{
    /**
     * What a {@link #send} did.
     *
     * @param sent         datagrams sent.
     * @param skipped      frames not sent (not Ethernet, or too long).
     * @param bytes        inner frame bytes sent.
     * @param elapsedNanos time spent sending.
     * @param complete     whether the capture was sent to its end (not cut by the frame limit or the time limit).
     */
    public record Result(long sent, long skipped, long bytes, long elapsedNanos, boolean complete)
    {
        /** Datagrams per second. */
        public double rate()
        {
            return elapsedNanos == 0 ? 0 : sent * 1e9 / elapsedNanos;
        }
    }

    /**
     * How fast to send: at most {@code packetsPerSecond} (0: no limit), and with at most {@code window} datagrams
     * sent but not yet taken by the receiver ({@code taken} counts the datagrams it has read; window 0: no window).
     */
    public record Pacing(long packetsPerSecond, int window, LongSupplier taken)
    {
        public Pacing
        {
            if (packetsPerSecond < 0)
            {
                throw new IllegalArgumentException("packets per second must be 0 (no limit) or positive, was " +
                    packetsPerSecond);
            }
            if (window < 0 || (window > 0 && taken == null))
            {
                throw new IllegalArgumentException("a window needs a positive size and the receiver's count");
            }
        }

        /** As fast as the sockets take it. */
        public static Pacing unpaced()
        {
            return new Pacing(0, 0, null);
        }

        public static Pacing rate(final long packetsPerSecond)
        {
            return new Pacing(packetsPerSecond, 0, null);
        }

        /** At most {@code window} datagrams in flight, {@code taken} being the receiver's datagram count. */
        public static Pacing window(final int window, final LongSupplier taken)
        {
            return new Pacing(0, window, taken);
        }
    }

    private static final int BATCH = 256;

    private final MirrorProtocol protocol;
    private final int vni;
    private final DatagramChannel[] channels;
    private final ByteBuffer datagram = ByteBuffer.allocateDirect(MirrorSource.MAX_DATAGRAM);
    private final MemorySegment datagramSegment = MemorySegment.ofBuffer(datagram);
    /** Finds the addresses a frame's connection is keyed on, to pick its socket. */
    private final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket decoded = new DecodedPacket();
    private int geneveOptionWords;
    /** Datagrams sent by this replay, all calls; and the receiver's count when the first was sent. */
    private long sentTotal;
    private long takenBase = -1;

    /**
     * @param target  the receiver's address.
     * @param vni     the VNI every datagram carries (24 bits).
     * @param sockets outer source ports to spread inner flows over (at least 1).
     * @throws IOException when a socket cannot be opened or connected.
     */
    public MirrorReplay(final MirrorProtocol protocol, final InetSocketAddress target, final int vni,
        final int sockets) throws IOException
    {
        VxlanHeader.checkVni(vni);
        if (sockets < 1 || sockets > 1024)
        {
            throw new IllegalArgumentException("sockets must be 1-1024, was " + sockets);
        }
        this.protocol = protocol;
        this.vni = vni;
        decoder.verifyChecksums(false);
        this.channels = new DatagramChannel[sockets];
        final StandardProtocolFamily family = target.getAddress() instanceof Inet6Address ?
            StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
        try
        {
            for (int i = 0; i < sockets; i++)
            {
                channels[i] = DatagramChannel.open(family);
                channels[i].connect(target);
            }
        }
        catch (final IOException e)
        {
            close();
            throw e;
        }
    }

    /** Geneve only: room for this many words of (zeroed) options in every header, to exercise receivers. */
    public MirrorReplay geneveOptionWords(final int words)
    {
        if (words < 0 || words > 63)
        {
            throw new IllegalArgumentException("Geneve options are 0-63 words, was " + words);
        }
        this.geneveOptionWords = words;
        return this;
    }

    /**
     * Sends the capture's frames in order.
     *
     * @param maxFrames at most this many datagrams.
     * @param timeLimit stop sending after this long (also when waiting on the window).
     * @throws IOException when the capture cannot be read, or a send fails (a receiver gone from a connected
     *                     loopback port shows as "connection refused").
     */
    public Result send(final Path capture, final long maxFrames, final Duration timeLimit, final Pacing pacing)
        throws IOException
    {
        final long start = System.nanoTime();
        final long deadline = start + timeLimit.toNanos();
        final Sender sender = new Sender(maxFrames, deadline, start, pacing);
        final boolean complete;
        try
        {
            complete = CaptureReplay.read(List.of(capture), sender, BATCH, sender);
        }
        catch (final UncheckedIOException e)
        {
            throw e.getCause();
        }
        return new Result(sender.sent, sender.skipped, sender.bytes, System.nanoTime() - start, complete);
    }

    /** Sends one Ethernet frame as a datagram; false when it cannot be carried whole (not sent). */
    public boolean sendFrame(final MemorySegment frame, final long offset, final int length) throws IOException
    {
        if (length > MirrorSource.MAX_INNER_FRAME)
        {
            return false;
        }
        final int header;
        if (protocol == MirrorProtocol.VXLAN)
        {
            VxlanHeader.write(datagramSegment, 0, vni);
            header = VxlanHeader.LENGTH;
        }
        else
        {
            GeneveHeader.write(datagramSegment, 0, vni, geneveOptionWords);
            header = GeneveHeader.BASE_LENGTH + geneveOptionWords * 4;
        }
        MemorySegment.copy(frame, offset, datagramSegment, header, length);
        datagram.clear().limit(header + length);
        channels[Math.floorMod(innerAddressHash(frame, offset, length), channels.length)].write(datagram);
        sentTotal++;
        return true;
    }

    /**
     * A symmetric hash of the IP addresses the tracker will key the frame's connection on (the innermost IP header
     * its decoder reaches, through VLAN, MPLS, PPPoE and tunnels), 0 for frames without one: equal for both
     * directions of a connection and for the fragments of a datagram.
     */
    private int innerAddressHash(final MemorySegment frame, final long offset, final int length)
    {
        decoded.resetDecodedFields();
        decoder.decode(frame, offset, length, length, LinkType.EN10MB, decoded);
        if (decoded.fragmentLength >= 0)
        {
            // Trailing fragments decode no further than their IP header: every fragment goes by its addresses.
            return symmetricHash(decoded.fragmentSrcHigh, decoded.fragmentSrcLow, decoded.fragmentDstHigh,
                decoded.fragmentDstLow);
        }
        if (decoded.ipVersion == 0)
        {
            return 0;
        }
        return symmetricHash(decoded.srcHigh, decoded.srcLow, decoded.dstHigh, decoded.dstLow);
    }

    private static int symmetricHash(final long srcHigh, final long srcLow, final long dstHigh, final long dstLow)
    {
        return (int)(FlowHash.mix(srcHigh ^ FlowHash.mix(srcLow)) + FlowHash.mix(dstHigh ^ FlowHash.mix(dstLow)));
    }

    @Override
    public void close() throws IOException
    {
        IOException failure = null;
        for (final DatagramChannel channel : channels)
        {
            if (channel != null)
            {
                try
                {
                    channel.close();
                }
                catch (final IOException e)
                {
                    failure = e;
                }
            }
        }
        if (failure != null)
        {
            throw failure;
        }
    }

    /** One {@link #send} call's frame handler: limits, pacing, counts. */
    private final class Sender implements FrameSink, CaptureReplay.Observer
    {
        private final long maxFrames;
        private final long deadline;
        private final long start;
        private final Pacing pacing;
        private final long nanosPerPacket;
        long sent;
        long skipped;
        long bytes;
        private boolean stop;

        Sender(final long maxFrames, final long deadline, final long start, final Pacing pacing)
        {
            this.maxFrames = maxFrames;
            this.deadline = deadline;
            this.start = start;
            this.pacing = pacing;
            this.nanosPerPacket = pacing.packetsPerSecond() > 0 ? 1_000_000_000L / pacing.packetsPerSecond() : 0;
        }

        /** Whether to read on: no frame was left unsent (by the frame limit, the time limit or an interrupt). */
        @Override
        public boolean proceed()
        {
            return !stop;
        }

        @Override
        public void onFrame(final FrameDescriptor frame)
        {
            final int capturedLength = frame.capturedLength();
            if (stop)
            {
                return;
            }
            if (sent >= maxFrames)
            {
                stop = true; // a frame beyond the limit
                return;
            }
            if (frame.linkType() != LinkType.EN10MB || capturedLength > MirrorSource.MAX_INNER_FRAME)
            {
                skipped++;
                return;
            }
            if (!pace())
            {
                stop = true;
                return;
            }
            try
            {
                sendFrame(frame.segment(), frame.offset(), capturedLength);
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
            sent++;
            bytes += capturedLength;
        }

        /** Waits until the next datagram may go; false when the time limit passed first or on an interrupt. */
        private boolean pace()
        {
            if (Thread.currentThread().isInterrupted())
            {
                return false;
            }
            if (nanosPerPacket > 0)
            {
                final long due = start + sent * nanosPerPacket;
                long now;
                while ((now = System.nanoTime()) - due < 0)
                {
                    if (now - deadline > 0 || Thread.currentThread().isInterrupted())
                    {
                        return false;
                    }
                    if (due - now > 50_000)
                    {
                        LockSupport.parkNanos(due - now - 50_000);
                    }
                    else
                    {
                        Thread.onSpinWait();
                    }
                }
            }
            if (pacing.window() > 0)
            {
                if (takenBase < 0)
                {
                    takenBase = pacing.taken().getAsLong();
                }
                while (sentTotal - (pacing.taken().getAsLong() - takenBase) >= pacing.window())
                {
                    if (System.nanoTime() - deadline > 0 || Thread.currentThread().isInterrupted())
                    {
                        return false;
                    }
                    LockSupport.parkNanos(20_000);
                }
            }
            return System.nanoTime() - deadline <= 0;
        }
    }
}
