package dev.flowtracker.ingest.output;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.GatheringByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.TimeUnit;

/**
 * Where a {@link RecordWriter}'s records go: the open channel (a file, or a stream that is flushed and never
 * closed), how many bytes the current file holds and how long it has been open, the layout's header and footer, and
 * rotation: when the file reaches {@code rotateBytes} or has been open {@code rotateNanos} it is closed and renamed
 * to {@code NAME.yyyyMMdd'T'HHmmss.SSS'Z'} (the time it was closed; {@code -0001}, {@code -0002}... when several
 * close within a millisecond) and a new file is started under the configured name. 0 turns either trigger off. It
 * exists to keep what a file is apart from the backlog that feeds it: the writer thread ({@link BacklogWriter})
 * decides when (at a record boundary, not while failing); this class knows how.
 *
 * <p>Threads: the writer thread only, once the writer is created.
 */
final class RecordOutput
{
    /** Opens (again) the channel records go to. */
    @FunctionalInterface
    interface ChannelOpener
    {
        GatheringByteChannel open() throws IOException;
    }

    private static final DateTimeFormatter ROTATED_SUFFIX =
        DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'").withZone(ZoneOffset.UTC);
    private static final long IDLE_POLL_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The message of EPIPE (Linux), a write to a pipe whose reader closed it; the JVM ignores SIGPIPE. */
    private static final String BROKEN_PIPE = "Broken pipe";

    private final Path file;
    private final ChannelOpener opener;
    private final long rotateBytes;
    private final long rotateNanos;
    private final boolean rotateAtExit;
    private final RecordWriterStatus status;
    private GatheringByteChannel out;
    private long bytesInFile;
    private long openedNanos;
    /**
     * The layout whose header starts each (empty) file and whose footer ends it; null for none. Header buffers are
     * read-only, which tells them from records: they are not counted as records written or lost.
     */
    private RecordLayout framing;
    /** Bytes of the header at the start of the current file: a file of a header alone is not rotated. */
    private long headerBytes;

    /**
     * @param file               the file, or null for a stream (never rotated, never closed).
     * @param first              the channel, already open.
     * @param bytesAlreadyInFile what an earlier run left in a continued file, towards rotation by size.
     * @param fileAgeNanos       how old a continued file is, towards rotation by age.
     * @param rotateAtExit       whether a file with records is rotated aside when the writer closes.
     */
    RecordOutput(
        final Path file, final ChannelOpener opener, final GatheringByteChannel first, final long rotateBytes,
        final long rotateNanos, final long bytesAlreadyInFile, final long fileAgeNanos, final boolean rotateAtExit,
        final RecordWriterStatus status)
    {
        this.file = file;
        this.opener = opener;
        this.rotateBytes = rotateBytes;
        this.rotateNanos = rotateNanos;
        this.status = status;
        this.out = first;
        this.bytesInFile = bytesAlreadyInFile;
        this.openedNanos = System.nanoTime() - Math.min(fileAgeNanos, rotateNanos > 0 ? rotateNanos : 0);
        this.rotateAtExit = rotateAtExit && file != null;
    }

    /** The file, or null for a stream. */
    Path file()
    {
        return file;
    }

    boolean isFile()
    {
        return file != null;
    }

    boolean isOpen()
    {
        return out != null;
    }

    /** How long the writer thread may wait for records when it has none: age rotation must not wait longer. */
    long idlePollNanos()
    {
        return rotateNanos > 0 ? Math.min(rotateNanos, IDLE_POLL_NANOS) : IDLE_POLL_NANOS;
    }

    void frame(final RecordLayout layout)
    {
        framing = layout;
    }

    /**
     * The layout's header, to go at the front of the backlog, when the output is open and empty (a new or rotated
     * file, a stream); null when there is none to write.
     */
    ByteBuffer header()
    {
        if (framing == null || out == null)
        {
            return null;
        }
        try
        {
            if (out instanceof FileChannel channel && file != null && channel.size() > 0)
            {
                return null; // a continued file has its header
            }
        }
        catch (final IOException e)
        {
            return null;
        }
        final ByteBuffer header = ByteBuffer.wrap(framing.header()).asReadOnlyBuffer();
        if (!header.hasRemaining())
        {
            return null;
        }
        headerBytes = header.remaining();
        return header;
    }

    /** Bytes the current file may still take before rotation by size; unbounded without it. */
    long sizeBudget()
    {
        return rotateBytes > 0 ? rotateBytes - bytesInFile : Long.MAX_VALUE;
    }

    /** One gathering write of {@code count} buffers; returns what the channel took. The output must be open. */
    long write(final ByteBuffer[] buffers, final int count) throws IOException
    {
        final long wrote = out.write(buffers, 0, count);
        if (wrote > 0)
        {
            bytesInFile += wrote;
        }
        return wrote;
    }

    /** Whether {@code e} says the stream's reader went away (a closed pipe) rather than that the sink failed. */
    boolean readerLeft(final IOException e)
    {
        return file == null && BROKEN_PIPE.equals(e.getMessage());
    }

    /** Writes the layout's footer straight out, as far as the channel takes it. */
    void writeFooter() throws IOException
    {
        if (framing == null || out == null)
        {
            return;
        }
        final ByteBuffer footer = ByteBuffer.wrap(framing.footer());
        while (footer.hasRemaining())
        {
            final int wrote = out.write(footer);
            if (wrote <= 0)
            {
                break;
            }
            bytesInFile += wrote;
        }
    }

    /** Whether the file has reached its size limit. */
    boolean dueForRotationBySize()
    {
        return rotateBytes > 0 && bytesInFile >= rotateBytes;
    }

    /** Whether the file holds records (not a header alone) and has been open its time. */
    boolean dueForRotationByAge()
    {
        return file != null && rotateNanos > 0 && hasRecords() && System.nanoTime() - openedNanos >= rotateNanos;
    }

    /** Whether the current file holds more than its header. */
    boolean hasRecords()
    {
        return bytesInFile > headerBytes;
    }

    /** Opens the channel again (after a rotation or a failed one): a new, empty file. */
    void reopen() throws IOException
    {
        bytesInFile = 0;
        headerBytes = 0;
        openedNanos = System.nanoTime();
        try
        {
            out = opener.open();
        }
        catch (final IOException e)
        {
            out = null;
            throw e;
        }
    }

    /** Closes the file and renames it to its rotated name. */
    void closeAndMoveAside()
    {
        close();
        try
        {
            final String base = file.getFileName() + "." + ROTATED_SUFFIX.format(Instant.now());
            // Several rotations in one millisecond must not replace each other (a rename would, silently).
            Path rotated = file.resolveSibling(base);
            for (int n = 1; Files.exists(rotated); n++)
            {
                rotated = file.resolveSibling(base + String.format("-%04d", n));
            }
            Files.move(file, rotated, StandardCopyOption.ATOMIC_MOVE);
            status.rotated();
        }
        catch (final IOException e)
        {
            status.error("cannot rotate " + file + ": " + describe(e));
        }
    }

    /**
     * Cuts the first {@code partial} bytes of a record the sink took only part of before it failed for good back out
     * of the file, so that no fragment stays (a stream cannot be cut).
     */
    void cutPartialRecord(final int partial)
    {
        if (file == null || partial == 0 || !(out instanceof FileChannel channel))
        {
            return;
        }
        try
        {
            channel.truncate(channel.size() - partial);
            bytesInFile -= partial;
        }
        catch (final IOException e)
        {
            status.error("cannot cut a partly written record from " + file + ": " + describe(e));
        }
    }

    /**
     * Closes a file for good, rotated aside first when so configured and it holds {@code records}; a stream is
     * left open.
     */
    void closeAtExit(final boolean records)
    {
        if (file != null)
        {
            if (rotateAtExit && records && out != null)
            {
                closeAndMoveAside();
            }
            close();
        }
    }

    void close()
    {
        if (out == null)
        {
            return;
        }
        try
        {
            out.close();
        }
        catch (final IOException e)
        {
            status.error(describe(e));
        }
        out = null;
    }

    /** An I/O error in one line: its message, or its type when it has none. */
    static String describe(final IOException e)
    {
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
