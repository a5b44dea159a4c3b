package dev.flowtracker.ingest.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * A shard's manifest: the small text file whose atomic rename commits a checkpoint. One {@code key=value} per
 * line, in this order, the last line a CRC-32C over every byte before it:
 *
 * <pre>
 *   format=1
 *   shard=3
 *   generation=17
 *   checkpointTimeMillis=1795000000000
 *   packetTimeNanos=1700000000123456789
 *   entries=100000
 *   valueBytes=102400000
 *   maxValueSize=2048
 *   dataFile=shard-3.17.cmap
 *   dataLength=126668800
 *   dataCrc32c=1a2b3c4d
 *   mapEntries=100000
 *   mapAverageValueSize=1024.0
 *   chronicleMapVersion=2026.1
 *   crc32c=9f8e7d6c
 * </pre>
 *
 * Text so that an operator can read it with {@code cat}; the CRC so that a torn or edited manifest is refused
 * rather than trusted. Readers ignore keys they do not know (added within a format version); a higher
 * {@code format} is refused. Stateless.
 */
final class Manifest
{
    /** Bumped when a reader of the previous format would misread the files. */
    static final int FORMAT = 1;

    private static final String CRC_KEY = "crc32c=";
    /** A manifest is a few hundred bytes; anything much larger is not one, and is not read into memory. */
    private static final int MAX_SIZE = 64 * 1024;

    private Manifest()
    {
    }

    static byte[] encode(final CheckpointInfo info)
    {
        final StringBuilder text = new StringBuilder(512)
            .append("format=").append(info.format()).append('\n')
            .append("shard=").append(info.shard()).append('\n')
            .append("generation=").append(info.generation()).append('\n')
            .append("checkpointTimeMillis=").append(info.checkpointTimeMillis()).append('\n')
            .append("packetTimeNanos=").append(info.packetTimeNanos()).append('\n')
            .append("entries=").append(info.entries()).append('\n')
            .append("valueBytes=").append(info.valueBytes()).append('\n')
            .append("maxValueSize=").append(info.maxValueSize()).append('\n')
            .append("dataFile=").append(info.dataFile()).append('\n')
            .append("dataLength=").append(info.dataLength()).append('\n')
            .append("dataCrc32c=").append(hex(info.dataCrc32c())).append('\n')
            .append("mapEntries=").append(info.mapEntries()).append('\n')
            .append("mapAverageValueSize=").append(info.mapAverageValueSize()).append('\n')
            .append("chronicleMapVersion=").append(info.chronicleMapVersion()).append('\n');
        final byte[] body = text.toString().getBytes(StandardCharsets.UTF_8);
        text.append(CRC_KEY).append(hex(crc(body, body.length))).append('\n');
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads and decodes the manifest {@code file}; null when there is none.
     *
     * @param shard the shard the file name says, checked against the content.
     * @throws CheckpointException naming the file when it is too large to be a manifest, torn or corrupt.
     */
    static CheckpointInfo read(final Path file, final int shard) throws IOException
    {
        final byte[] bytes;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ))
        {
            final long size = channel.size();
            if (size > MAX_SIZE)
            {
                throw new CheckpointException(file, "not a checkpoint manifest (" + size + " bytes)");
            }
            final ByteBuffer buffer = ByteBuffer.allocate((int)size);
            while (buffer.hasRemaining() && channel.read(buffer) >= 0)
            {
                // until full
            }
            bytes = buffer.array();
        }
        catch (final NoSuchFileException ex)
        {
            return null;
        }
        return decode(file, shard, bytes);
    }

    /**
     * @param file  where the bytes came from, for the error message.
     * @param shard the shard the file name says, checked against the content.
     */
    static CheckpointInfo decode(final Path file, final int shard, final byte[] bytes) throws CheckpointException
    {
        final int crcLine = lastLineStart(bytes);
        final String last = new String(bytes, crcLine, bytes.length - crcLine, StandardCharsets.UTF_8).strip();
        if (!last.startsWith(CRC_KEY))
        {
            throw new CheckpointException(file, "not a checkpoint manifest (no crc32c line at the end)");
        }
        final int expected = parseHex(file, last.substring(CRC_KEY.length()));
        final int actual = crc(bytes, crcLine);
        if (expected != actual)
        {
            throw new CheckpointException(
                file, "manifest checksum mismatch (stored " + hex(expected) + ", computed " + hex(actual) + ")");
        }

        final Map<String, String> fields = new HashMap<>();
        for (final String line : new String(bytes, 0, crcLine, StandardCharsets.UTF_8).split("\n"))
        {
            final int eq = line.indexOf('=');
            if (eq > 0)
            {
                fields.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        final int format = (int)number(file, fields, "format");
        if (format > FORMAT || format < 1)
        {
            throw new CheckpointException(
                file, "checkpoint format " + format + " is not supported (this build reads up to " + FORMAT + ")");
        }
        final CheckpointInfo info = new CheckpointInfo(
            (int)number(file, fields, "shard"),
            number(file, fields, "generation"),
            format,
            number(file, fields, "checkpointTimeMillis"),
            number(file, fields, "packetTimeNanos"),
            number(file, fields, "entries"),
            number(file, fields, "valueBytes"),
            (int)number(file, fields, "maxValueSize"),
            field(file, fields, "dataFile"),
            number(file, fields, "dataLength"),
            parseHex(file, field(file, fields, "dataCrc32c")),
            number(file, fields, "mapEntries"),
            decimal(file, fields, "mapAverageValueSize"),
            field(file, fields, "chronicleMapVersion"));
        if (info.shard() != shard)
        {
            throw new CheckpointException(file, "manifest is for shard " + info.shard() + ", not " + shard);
        }
        if (!CheckpointFiles.isDataFileOf(info.dataFile(), shard))
        {
            throw new CheckpointException(file, "manifest names an unexpected data file '" + info.dataFile() + "'");
        }
        return info;
    }

    private static String field(final Path file, final Map<String, String> fields, final String key)
        throws CheckpointException
    {
        final String value = fields.get(key);
        if (value == null)
        {
            throw new CheckpointException(file, "manifest has no " + key);
        }
        return value;
    }

    private static long number(final Path file, final Map<String, String> fields, final String key)
        throws CheckpointException
    {
        final String value = field(file, fields, key);
        try
        {
            return Long.parseLong(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new CheckpointException(file, "manifest " + key + " is not a number: '" + value + "'");
        }
    }

    private static double decimal(final Path file, final Map<String, String> fields, final String key)
        throws CheckpointException
    {
        final String value = field(file, fields, key);
        try
        {
            return Double.parseDouble(value);
        }
        catch (final NumberFormatException ex)
        {
            throw new CheckpointException(file, "manifest " + key + " is not a number: '" + value + "'");
        }
    }

    private static int parseHex(final Path file, final String text) throws CheckpointException
    {
        try
        {
            return Integer.parseUnsignedInt(text, 16);
        }
        catch (final NumberFormatException ex)
        {
            throw new CheckpointException(file, "manifest checksum is not hexadecimal: '" + text + "'");
        }
    }

    /** Start of the last line, not counting the final newline. */
    private static int lastLineStart(final byte[] bytes)
    {
        int end = bytes.length;
        if (end > 0 && bytes[end - 1] == '\n')
        {
            end--;
        }
        int start = end;
        while (start > 0 && bytes[start - 1] != '\n')
        {
            start--;
        }
        return start;
    }

    private static int crc(final byte[] bytes, final int length)
    {
        final CRC32C crc = new CRC32C();
        crc.update(bytes, 0, length);
        return (int)crc.getValue();
    }

    static String hex(final int value)
    {
        final String digits = Integer.toHexString(value);
        return "0".repeat(8 - digits.length()) + digits;
    }
}
