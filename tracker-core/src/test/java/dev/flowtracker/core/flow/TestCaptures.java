package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.Defragmenter;
import dev.flowtracker.core.decode.PacketDecoder;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Classic pcap files decoded into the segments the engine tracks, as the offline analysis would decode them. */
public final class TestCaptures
{
    /** A captured frame's time, and the TCP segment to track for it (null for other frames). */
    public record Frame(long nanos, DecodedPacket segment)
    {
    }

    private TestCaptures()
    {
    }

    /** The corpus directory ({@code tracker.corpus}, default {@code ../shared/corpus}); it may be absent. */
    public static Path corpus()
    {
        return Path.of(System.getProperty("tracker.corpus", "../shared/corpus"));
    }

    /** Decodes a classic pcap (either byte order, micro- or nanosecond times), checksums verified. */
    public static List<Frame> read(final Path path)
    {
        final byte[] bytes;
        try
        {
            bytes = Files.readAllBytes(path);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
        final ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        final int magic = b.getInt(0);
        if (magic != 0xA1B2_C3D4 && magic != 0xA1B2_3C4D)
        {
            b.order(ByteOrder.BIG_ENDIAN);
        }
        final boolean nanosecond = b.getInt(0) == 0xA1B2_3C4D;
        final int linkType = b.getInt(20) & 0xFFFF;
        final MemorySegment segment = MemorySegment.ofArray(bytes);
        final PacketDecoder decoder = new PacketDecoder();
        decoder.verifyChecksums(true);
        final Defragmenter defragmenter = new Defragmenter(64);
        final DecodedPacket packet = new DecodedPacket();
        final List<Frame> frames = new ArrayList<>();
        for (int offset = 24; offset + 16 <= bytes.length; )
        {
            final long seconds = b.getInt(offset) & 0xFFFF_FFFFL;
            final long fraction = b.getInt(offset + 4) & 0xFFFF_FFFFL;
            final int captured = b.getInt(offset + 8);
            final int wire = b.getInt(offset + 12);
            offset += 16;
            if (captured < 0 || offset + captured > bytes.length)
            {
                break; // cut short
            }
            final long nanos = seconds * 1_000_000_000L + (nanosecond ? fraction : fraction * 1000);
            packet.timestampNanos = nanos;
            final DecodeEvent event = decoder.decode(segment, offset, captured, wire, linkType, packet);
            DecodedPacket toTrack = event == DecodeEvent.TCP_SEGMENT ? packet : null;
            if (packet.fragmentLength >= 0)
            {
                toTrack = defragmenter.offer(packet, event == DecodeEvent.TCP_SEGMENT);
            }
            DecodedPacket copy = null;
            if (toTrack != null)
            {
                copy = new DecodedPacket();
                copy.copyFrom(toTrack);
            }
            frames.add(new Frame(nanos, copy));
            offset += captured;
        }
        return frames;
    }

    public static boolean isClassicPcap(final Path file)
    {
        try (InputStream in = Files.newInputStream(file))
        {
            final byte[] head = in.readNBytes(24);
            if (head.length < 24)
            {
                return false;
            }
            final int magic = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getInt(0);
            return magic == 0xA1B2_C3D4 || magic == 0xA1B2_3C4D || magic == 0xD4C3_B2A1 || magic == 0x4D3C_B2A1;
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }
}
