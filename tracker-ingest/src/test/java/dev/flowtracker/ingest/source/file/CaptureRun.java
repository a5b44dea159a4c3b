package dev.flowtracker.ingest.source.file;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reads test captures through {@link CaptureFiles} and collects what the readers deliver. */
final class CaptureRun
{
    /** Frames asked for per read call: small, so batch boundaries fall inside every test file. */
    static final int BATCH = 3;

    private CaptureRun()
    {
    }

    /** One delivered frame, its bytes copied out of the reader's window. */
    record Frame(byte[] data, int capturedLength, int wireLength, int linkType, long timestampNanos, int interfaceId)
    {
        @Override
        public boolean equals(final Object other)
        {
            return other instanceof Frame f && Arrays.equals(data, f.data) && capturedLength == f.capturedLength &&
                wireLength == f.wireLength && linkType == f.linkType && timestampNanos == f.timestampNanos &&
                interfaceId == f.interfaceId;
        }

        @Override
        public int hashCode()
        {
            return Arrays.hashCode(data) * 31 + Long.hashCode(timestampNanos);
        }

        @Override
        public String toString()
        {
            return "Frame[captured=" + capturedLength + ", wire=" + wireLength + ", linkType=" + linkType + ", ts=" +
                timestampNanos + ", if=" + interfaceId + "]";
        }
    }

    /** What a read delivered, and the error that ended it (null when the file ended cleanly). */
    record Outcome(String name, List<Frame> frames, Throwable error)
    {
        Outcome assertClean()
        {
            if (error != null)
            {
                throw new AssertionError("reading " + name + " failed after " + frames.size() + " frames", error);
            }
            return this;
        }

        /** Asserts a {@link CaptureFormatException} naming the file and {@code offset}, mentioning {@code text}. */
        CaptureFormatException assertFormatError(final long offset, final String text)
        {
            assertNotNull(error, () -> "expected a CaptureFormatException for " + name + ", got " + frames.size() +
                " frames and no error");
            final CaptureFormatException e = assertInstanceOf(CaptureFormatException.class, error,
                () -> "expected a CaptureFormatException, got " + error);
            assertEquals(name, e.file(), "file named by the exception");
            assertEquals(offset, e.offset(), () -> "offset in: " + e.getMessage());
            assertTrue(e.getMessage().startsWith(name + ": "), () -> "message names the file: " + e.getMessage());
            assertTrue(e.getMessage().contains("at byte offset " + offset),
                () -> "message names the offset " + offset + ": " + e.getMessage());
            assertTrue(e.getMessage().contains(text), () -> "message mentions '" + text + "': " + e.getMessage());
            return e;
        }
    }

    /** How a test capture reaches the readers. */
    enum Source
    {
        /** A plain file, memory-mapped. */
        MAPPED,
        /** The bytes as a stream, through {@link StreamingCaptureInput}. */
        STREAMING,
        /** A gzip-compressed file (streamed after decompression). */
        GZIP;

        /** Stores {@code bytes} as this source needs under {@code dir} and reads them all. */
        Outcome read(final Path dir, final String fileName, final byte[] bytes)
        {
            try
            {
                return switch (this)
                {
                    case MAPPED -> CaptureRun.read(Files.write(dir.resolve(fileName), bytes));
                    case STREAMING -> CaptureRun.readStream(fileName, bytes);
                    case GZIP -> CaptureRun.read(Files.write(dir.resolve(fileName + ".gz"), gzip(bytes)));
                };
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Opens {@code file} with {@link CaptureFiles#open(Path)} and reads it to its end or its first error. */
    static Outcome read(final Path file)
    {
        final String name = file.toString();
        final List<Frame> frames = new ArrayList<>();
        try (CaptureReader reader = CaptureFiles.open(file))
        {
            return new Outcome(name, frames, drain(reader, frames));
        }
        catch (final IOException | RuntimeException e)
        {
            return new Outcome(name, frames, e);
        }
    }

    /** Reads {@code bytes} as a stream named {@code name}. */
    static Outcome readStream(final String name, final byte[] bytes)
    {
        final List<Frame> frames = new ArrayList<>();
        final StreamingCaptureInput input =
            new StreamingCaptureInput(name, new ByteArrayInputStream(bytes), () -> 0, -1);
        try (CaptureReader reader = CaptureFiles.open(name, input))
        {
            return new Outcome(name, frames, drain(reader, frames));
        }
        catch (final IOException | RuntimeException e)
        {
            return new Outcome(name, frames, e);
        }
    }

    /** Reads to the end, checking each call's count against the limit; returns the error that stopped it, if any. */
    private static Throwable drain(final CaptureReader reader, final List<Frame> frames)
    {
        try
        {
            int delivered;
            do
            {
                final int before = frames.size();
                delivered = reader.read(frame -> frames.add(new Frame(frame.segment().asSlice(frame.offset(),
                    frame.capturedLength()).toArray(ValueLayout.JAVA_BYTE), frame.capturedLength(), frame.wireLength(),
                    frame.linkType(), frame.timestampNanos(), frame.interfaceId())), BATCH);
                assertTrue(delivered >= 0 && delivered <= BATCH, "read returned " + delivered);
                assertEquals(frames.size() - before, delivered, "read's count equals the frames handed over");
            }
            while (delivered > 0);
            assertEquals(0, reader.read(frame -> frames.add(null), BATCH), "read after the end");
            return null;
        }
        catch (final IOException | RuntimeException e)
        {
            return e;
        }
    }

    static byte[] gzip(final byte[] bytes)
    {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(out))
        {
            gzip.write(bytes);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    /** Asserts frame {@code actual} carries {@code data} with the given lengths, link type, time and interface. */
    static void assertFrame(final Frame actual, final byte[] data, final int wireLength, final int linkType,
        final long timestampNanos, final int interfaceId)
    {
        assertArrayEquals(data, actual.data(), "frame bytes");
        assertEquals(data.length, actual.capturedLength(), "captured length");
        assertEquals(wireLength, actual.wireLength(), "wire length");
        assertEquals(linkType, actual.linkType(), "link type");
        assertEquals(timestampNanos, actual.timestampNanos(), "timestamp");
        assertEquals(interfaceId, actual.interfaceId(), "interface id");
    }

    /** The first {@code length} bytes of {@code bytes}. */
    static byte[] head(final byte[] bytes, final int length)
    {
        return Arrays.copyOf(bytes, length);
    }
}
