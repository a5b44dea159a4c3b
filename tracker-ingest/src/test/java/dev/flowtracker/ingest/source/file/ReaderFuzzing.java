package dev.flowtracker.ingest.source.file;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.ingest.source.FrameSink;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the capture-file fuzz targets demand of a reader on any bytes. The file is read twice: in one window (as a
 * mapped file is) in batches of 64, and as a stream trickling 7 bytes per read into a 64-byte sliding buffer, one
 * frame per call. Both must deliver the same frames and end the same way: cleanly, or with a
 * {@link CaptureFormatException} naming the file and an offset inside it. Nothing else may escape. Every frame lies
 * inside the file and the window, its wire length is at least its captured length, each frame took at least
 * {@code bytesPerFrame} bytes of the file, and reading stops. Every frame is decoded too, as analysis would.
 */
final class ReaderFuzzing
{
    static final String NAME = "fuzz.cap";

    /** Opens a reader of one format over an input. */
    @FunctionalInterface
    interface Opener
    {
        CaptureReader open(String name, CaptureInput input) throws IOException;
    }

    private record Frame(int capturedLength, int wireLength, int linkType, long timestampNanos, int interfaceId,
        int contentHash)
    {
    }

    private record Result(List<Frame> frames, CaptureFormatException error)
    {
    }

    private ReaderFuzzing()
    {
    }

    /**
     * @param fileHeaderBytes bytes a file has before its first frame can start.
     * @param bytesPerFrame   the fewest file bytes one frame (its record or block included) can take.
     */
    static void check(final byte[] file, final Opener opener, final int fileHeaderBytes, final int bytesPerFrame)
    {
        final Result windowed = read(file, opener, new ArrayCaptureInput(file), 64, true);
        final Result streamed = read(file, opener, new StreamingCaptureInput(NAME,
            new TrickleInputStream(file, 7), () -> 0, -1, 64), 1, false);
        assertEquals(windowed.frames(), streamed.frames(), "the same frames, whether mapped or streamed");
        assertEquals(describe(windowed.error()), describe(streamed.error()), "the same ending, mapped or streamed");
        final long frames = windowed.frames().size();
        assertTrue(frames == 0 || fileHeaderBytes + frames * bytesPerFrame <= file.length,
            () -> frames + " frames out of " + file.length + " bytes");

        // Format detection on the same bytes: a reader, or a format error.
        try (CaptureReader reader = CaptureFiles.open(NAME, new ArrayCaptureInput(file)))
        {
            assertTrue(reader != null);
        }
        catch (final CaptureFormatException e)
        {
            checkError(e, file.length);
        }
        catch (final IOException e)
        {
            fail("only format errors can come out of bytes in memory", e);
        }
    }

    private static Result read(
        final byte[] file, final Opener opener, final CaptureInput input, final int limit, final boolean windowed)
    {
        final List<Frame> frames = new ArrayList<>();
        final PacketDecoder decoder = new PacketDecoder();
        final DecodedPacket packet = new DecodedPacket();
        final FrameSink handler = frame ->
        {
            final MemorySegment segment = frame.segment();
            final long offset = frame.offset();
            final int capturedLength = frame.capturedLength();
            final int wireLength = frame.wireLength();
            final int interfaceId = frame.interfaceId();
            assertTrue(capturedLength >= 0 && offset >= 0 && offset + capturedLength <= segment.byteSize(),
                () -> "frame [" + offset + ", +" + capturedLength + ") outside the window");
            assertTrue(!windowed || offset + capturedLength <= file.length, "frame inside the file");
            assertTrue(wireLength >= capturedLength, () -> "wire " + wireLength + " < captured " + capturedLength);
            assertTrue(interfaceId >= 0, "interface id");
            final byte[] data = segment.asSlice(offset, capturedLength).toArray(ValueLayout.JAVA_BYTE);
            frames.add(new Frame(capturedLength, wireLength, frame.linkType(), frame.timestampNanos(), interfaceId,
                Arrays.hashCode(data)));
            decoder.decode(MemorySegment.ofArray(data), 0, capturedLength, wireLength, frame.linkType(), packet);
        };
        try (CaptureReader reader = opener.open(NAME, input))
        {
            long lastProgress = -1;
            for (int calls = 0; ; calls++)
            {
                assertTrue(calls <= file.length + 1, "reading stops");
                final int before = frames.size();
                final int delivered = reader.read(handler, limit);
                assertTrue(delivered >= 0 && delivered <= limit, "read returned " + delivered);
                assertEquals(frames.size() - before, delivered, "read's count equals the frames handed over");
                if (windowed)
                {
                    final long progress = reader.progressPosition();
                    assertTrue(progress >= lastProgress && progress <= file.length, "progress " + progress);
                    lastProgress = progress;
                }
                if (delivered == 0)
                {
                    assertEquals(0, reader.read(handler, limit), "read after the end");
                    return new Result(frames, null);
                }
            }
        }
        catch (final CaptureFormatException e)
        {
            checkError(e, file.length);
            return new Result(frames, e);
        }
        catch (final IOException e)
        {
            throw new AssertionError("only format errors can come out of bytes in memory", e);
        }
    }

    private static void checkError(final CaptureFormatException e, final long length)
    {
        assertEquals(NAME, e.file());
        assertTrue(e.offset() >= 0 && e.offset() <= length, () -> "offset " + e.offset() + " of a " + length +
            "-byte file: " + e.getMessage());
        assertTrue(e.getMessage().startsWith(NAME + ": ") && e.getMessage().endsWith(" at byte offset " + e.offset()),
            e::getMessage);
    }

    private static String describe(final CaptureFormatException e)
    {
        return e == null ? "clean end" : e.getMessage();
    }

    /** Hands out at most {@code step} bytes per read, as a slow or compressed stream does. */
    private static final class TrickleInputStream extends ByteArrayInputStream
    {
        private final int step;

        TrickleInputStream(final byte[] bytes, final int step)
        {
            super(bytes);
            this.step = step;
        }

        @Override
        public synchronized int read(final byte[] b, final int off, final int len)
        {
            return super.read(b, off, Math.min(len, step));
        }
    }
}
