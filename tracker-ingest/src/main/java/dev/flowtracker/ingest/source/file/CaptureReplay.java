package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.source.FrameSink;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * The one loop that reads capture files: {@code run --pcap} ({@link CaptureFileSource}), {@code analyze}, the
 * offline analysis, tests and benchmarks all read through it. Files are read in the order given, as one stream, in
 * batches of frames; between batches an {@link Observer} reports progress and may stop the reading.
 * <pre>
 *   for each file:  proceed? -> onFile -> open -> [proceed? -> read a batch into the sink -> onBatch]* -> onFileEnd
 * </pre>
 * A file that cannot be opened, or is corrupt or cut short, ends the reading with its exception (a {@link
 * CaptureFormatException} names file and offset); the frames before the fault were delivered, later files are not
 * opened. Stateless: everything runs on the calling thread, which owns the readers.
 */
public final class CaptureReplay
{
    /** Frames per batch unless a caller needs to look more often: bounds the time between progress checks. */
    public static final int BATCH = 4096;

    /** Reads every file to its end. */
    public static final Observer TO_THE_END = new Observer()
    {
    };

    /** What the reading loop asks and tells on its way, on the reading thread. */
    public interface Observer
    {
        /** Whether to go on: asked before each file and before each batch. */
        default boolean proceed()
        {
            return true;
        }

        /** File {@code index} of {@code count} is opened next. */
        default void onFile(final Path file, final int index, final int count)
        {
        }

        /** After each batch that delivered frames, with the file's reader (for progress). */
        default void onBatch(final CaptureReader reader)
        {
        }

        /** Reading a file ended, at its end or stopped, before it is closed. */
        default void onFileEnd(final Path file, final CaptureReader reader)
        {
        }
    }

    private CaptureReplay()
    {
    }

    /** Reads one file to its end in batches of {@link #BATCH}. */
    public static void read(final Path file, final FrameSink sink) throws IOException
    {
        read(List.of(file), sink, BATCH, TO_THE_END);
    }

    /**
     * Reads the files in order as one stream.
     *
     * @return true when every file was read to its end; false when the observer stopped the reading.
     * @throws IOException when a file cannot be opened, or is corrupt or cut short: reading ends there.
     */
    public static boolean read(final List<Path> files, final FrameSink sink, final int batch, final Observer observer)
        throws IOException
    {
        for (int i = 0; i < files.size(); i++)
        {
            if (!observer.proceed())
            {
                return false;
            }
            final Path file = files.get(i);
            observer.onFile(file, i, files.size());
            try (CaptureReader reader = CaptureFiles.open(file))
            {
                final boolean ended = read(reader, sink, batch, observer);
                observer.onFileEnd(file, reader);
                if (!ended)
                {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Reads one open reader on in batches.
     *
     * @return true when the file ended; false when the observer stopped the reading.
     */
    public static boolean read(
        final CaptureReader reader, final FrameSink sink, final int batch, final Observer observer)
        throws IOException
    {
        while (observer.proceed())
        {
            if (reader.read(sink, batch) == 0)
            {
                return true;
            }
            observer.onBatch(reader);
        }
        return false;
    }
}
