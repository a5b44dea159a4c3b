package dev.flowtracker.ingest.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.CRC32C;

/**
 * File names in a checkpoint directory, and the file operations the commit protocol needs (a file written durably,
 * fsync of a file and of a directory, CRC-32C of a file, a copy that checks one). Stateless.
 *
 * <pre>
 *   shard-3.checkpoint            manifest: the commit point, names the data file
 *   shard-3.17.cmap               data: Chronicle Map of flow key to flow state, generation 17
 *   shard-3.18.cmap.tmp-81273645  being written (or copied for reading); deleted at the next open
 *   checkpoint.lock               held while a store has the directory open
 * </pre>
 */
final class CheckpointFiles
{
    static final String LOCK_FILE = "checkpoint.lock";

    private static final Pattern MANIFEST = Pattern.compile("shard-(\\d{1,9})\\.checkpoint");
    private static final Pattern DATA = Pattern.compile("shard-(\\d{1,9})\\.(\\d{1,18})\\.cmap");
    private static final Pattern TEMPORARY = Pattern.compile("shard-\\d{1,9}\\..+\\.tmp-\\d+");
    private static final int COPY_BUFFER = 1 << 20;

    private CheckpointFiles()
    {
    }

    static String manifestName(final int shard)
    {
        return "shard-" + shard + ".checkpoint";
    }

    static String dataName(final int shard, final long generation)
    {
        return "shard-" + shard + "." + generation + ".cmap";
    }

    /** A fresh temporary name beside {@code finalName}; the nano time keeps retries from colliding. */
    static String temporaryName(final String finalName)
    {
        return finalName + ".tmp-" + System.nanoTime();
    }

    static boolean isTemporary(final String name)
    {
        return TEMPORARY.matcher(name).matches();
    }

    /** The shard a manifest name is for, or -1 when the name is not a manifest's. */
    static int manifestShard(final String name)
    {
        final Matcher m = MANIFEST.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The shard a data file name is for, or -1 when the name is not a data file's. */
    static int dataShard(final String name)
    {
        final Matcher m = DATA.matcher(name);
        return m.matches() ? Integer.parseInt(m.group(1)) : -1;
    }

    /** The generation in a data file name; the name must be one ({@link #dataShard} not -1). */
    static long dataGeneration(final String name)
    {
        final Matcher m = DATA.matcher(name);
        if (!m.matches())
        {
            throw new IllegalArgumentException(name);
        }
        return Long.parseLong(m.group(2));
    }

    static boolean isDataFileOf(final String name, final int shard)
    {
        return dataShard(name) == shard;
    }

    /** Writes {@code bytes} to a new file and flushes it to the device before returning. */
    static void writeDurably(final Path file, final byte[] bytes) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            final ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining())
            {
                channel.write(buffer);
            }
            channel.force(true);
        }
    }

    /** Flushes a file's content and size to the device (its dirty pages, whoever wrote them). */
    static void force(final Path file) throws IOException
    {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE))
        {
            channel.force(true);
        }
    }

    /** Makes renames and creations in the directory durable: without it a power cut may undo a commit. */
    static void forceDirectory(final Path directory) throws IOException
    {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ))
        {
            channel.force(true);
        }
    }

    static int crc32c(final Path file) throws IOException
    {
        final CRC32C crc = new CRC32C();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(COPY_BUFFER);
        try (FileChannel in = FileChannel.open(file, StandardOpenOption.READ))
        {
            while (in.read(buffer) >= 0)
            {
                buffer.flip();
                crc.update(buffer);
                buffer.clear();
            }
        }
        return (int)crc.getValue();
    }

    /**
     * Copies {@code from} to a new file {@code to} in one pass, checking that the source has the expected length
     * and CRC-32C; the copy is not flushed (it is scratch).
     *
     * @throws CheckpointException naming {@code from} when length or checksum differ.
     */
    static void copyVerified(final Path from, final Path to, final long expectedLength, final int expectedCrc)
        throws IOException
    {
        final CRC32C crc = new CRC32C();
        final ByteBuffer buffer = ByteBuffer.allocateDirect(COPY_BUFFER);
        long copied = 0;
        try (FileChannel in = FileChannel.open(from, StandardOpenOption.READ);
            FileChannel out = FileChannel.open(to, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE))
        {
            final long length = in.size();
            if (length != expectedLength)
            {
                throw new CheckpointException(
                    from, "data file is " + length + " bytes, its manifest says " + expectedLength + " (truncated?)");
            }
            while (in.read(buffer) >= 0)
            {
                buffer.flip();
                crc.update(buffer.duplicate());
                copied += buffer.remaining();
                while (buffer.hasRemaining())
                {
                    out.write(buffer);
                }
                buffer.clear();
            }
        }
        final int actual = (int)crc.getValue();
        if (copied != expectedLength || actual != expectedCrc)
        {
            throw new CheckpointException(from, "data file checksum mismatch (manifest " +
                Manifest.hex(expectedCrc) + ", file " + Manifest.hex(actual) + "): the file is corrupt");
        }
    }
}
