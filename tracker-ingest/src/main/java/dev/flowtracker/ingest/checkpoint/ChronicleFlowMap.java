package dev.flowtracker.ingest.checkpoint;

import net.openhft.chronicle.bytes.RandomDataInput;
import net.openhft.chronicle.hash.ChronicleHashCorruption;
import net.openhft.chronicle.hash.Data;
import net.openhft.chronicle.map.ChronicleMap;
import net.openhft.chronicle.map.ChronicleMapBuilder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Chronicle Map side of a checkpoint: one persisted map of flow key ({@code Long}) to flow state
 * ({@code ByteBuffer}, variable size), written fresh into a file and read back through recovery. Knows nothing of
 * manifests or renames. Stateless: each call opens and closes its own map, on the calling thread.
 *
 * <p>Chronicle classes are only touched from here, so that this class's static initialiser switches analytics off
 * before any of them initialises.
 */
final class ChronicleFlowMap
{
    static
    {
        ChronicleRuntime.disableAnalytics();
    }

    /** The library version that writes, recorded in manifests; recovery is told whether it matches. */
    static final String LIBRARY_VERSION = libraryVersion();

    /** A first attempt sized from hints, a second from exact counts, then two with more headroom. */
    private static final int MAX_ATTEMPTS = 4;

    private ChronicleFlowMap()
    {
    }

    /** What a write put into the map, and the sizing the map ended up created with. */
    record Written(long entries, long valueBytes, int maxValueSize, long mapEntries, double mapAverageValueSize)
    {
    }

    /**
     * Creates {@code file} (which must not exist) as a map sized for {@code expectedEntries} states of
     * {@code averageValueSize} bytes, and puts every entry of the source into it. The file is closed but not
     * flushed on return.
     *
     * <p>When the source outgrows that sizing (Chronicle refuses another segment tier, or a state too far above
     * the average) the rest of the source is only counted, and the file is deleted and written again, sized from
     * the counts: one more pass over the source, rarely two; at most {@value #MAX_ATTEMPTS} in all.
     *
     * @throws IllegalArgumentException when the source pushes one flow key twice.
     */
    static Written write(
        final Path file, final long expectedEntries, final double averageValueSize, final EntrySource source)
        throws IOException
    {
        long mapEntries = Math.max(1, expectedEntries);
        double mapAverage = Math.max(1.0, averageValueSize); // Chronicle refuses 0 even when every state is empty
        for (int attempt = 1; ; attempt++)
        {
            final PuttingSink sink = new PuttingSink();
            final ChronicleMap<Long, ByteBuffer> map = create(file, mapEntries, mapAverage);
            try (map)
            {
                sink.map = map;
                source.forEachEntry(sink);
                if (sink.full == null)
                {
                    if (map.longSize() != sink.entries)
                    {
                        throw new IllegalArgumentException("the entry source pushed " + sink.entries +
                            " entries but only " + map.longSize() + " distinct flow keys: flow keys must be unique" +
                            " within a shard");
                    }
                    return new Written(sink.entries, sink.valueBytes, sink.maxValueSize, mapEntries, mapAverage);
                }
            }
            Files.delete(file);
            if (attempt == MAX_ATTEMPTS)
            {
                throw new CheckpointException(file, "Chronicle Map still full after " + attempt + " attempts, at" +
                    " entries=" + mapEntries + " averageValueSize=" + mapAverage + ": " + sink.full, sink.full);
            }
            // The counts are exact now, and Chronicle keeps its own slack (it took twice the declared entries in
            // a measurement), so the second attempt sizes exactly; any further one doubles. Headroom here costs
            // file size: 1.25 on both counts made a 50k x 3 KB checkpoint 268 MB instead of 170 MB. A quarter of
            // the largest state as the average keeps every state within Chronicle's chunks-per-entry limit.
            final double headroom = 1 << (attempt - 1);
            final double average = sink.entries == 0 ? 1.0 : (double)sink.valueBytes / sink.entries;
            mapEntries = Math.max(mapEntries, (long)Math.ceil(Math.max(1, sink.entries) * headroom));
            mapAverage = Math.max(average * headroom, sink.maxValueSize / 4.0);
        }
    }

    /**
     * Opens {@code file} with {@code recoverPersistedTo} and pushes every entry into the sink. Recovery checks
     * every entry's checksum and rebuilds the segments' bookkeeping, writing into the file as it goes, so the file
     * must be a private copy (Chronicle's warnings that recovery needs exclusive access are silenced in
     * simplelogger.properties for that reason).
     *
     * @param info the manifest of the checkpoint, whose entry count the map must match.
     * @param namedFile the file to name in errors (the committed data file rather than the scratch copy).
     * @throws CheckpointException when Chronicle cannot open the file, reports corruption while recovering it,
     *                             or finds another number of entries than the manifest.
     */
    static void read(final Path file, final CheckpointInfo info, final Path namedFile, final EntrySink sink)
        throws CheckpointException
    {
        final CorruptionCount corruption = new CorruptionCount();
        final ChronicleMap<Long, ByteBuffer> map;
        try
        {
            map = builder(Math.max(1, info.mapEntries()), Math.max(1.0, info.mapAverageValueSize()))
                .recoverPersistedTo(file.toFile(), LIBRARY_VERSION.equals(info.chronicleMapVersion()), corruption);
        }
        catch (final IOException | RuntimeException ex)
        {
            throw new CheckpointException(namedFile, "Chronicle Map cannot open it: " + ex, ex);
        }
        try (map)
        {
            if (corruption.count > 0)
            {
                throw new CheckpointException(namedFile, "Chronicle Map recovery found " + corruption.count +
                    " corruptions, the first: " + corruption.first);
            }
            if (map.longSize() != info.entries())
            {
                throw new CheckpointException(namedFile,
                    "holds " + map.longSize() + " entries, its manifest says " + info.entries());
            }
            final ReadingVisitor visitor = new ReadingVisitor(sink, info.maxValueSize());
            map.forEachEntry(entry -> visitor.accept(entry.key().get(), entry.value()));
        }
    }

    private static ChronicleMap<Long, ByteBuffer> create(
        final Path file, final long entries, final double averageValueSize) throws IOException
    {
        try
        {
            return builder(entries, averageValueSize).createPersistedTo(file.toFile());
        }
        catch (final RuntimeException ex)
        {
            throw new CheckpointException(file, "Chronicle Map cannot create it: " + ex, ex);
        }
    }

    private static ChronicleMapBuilder<Long, ByteBuffer> builder(final long entries, final double averageValueSize)
    {
        return ChronicleMap.of(Long.class, ByteBuffer.class)
            .name("flowtracker-checkpoint")
            .entries(entries)
            .averageValueSize(averageValueSize);
    }

    private static String libraryVersion()
    {
        final String version = ChronicleMap.class.getPackage().getImplementationVersion();
        return version == null ? "unknown" : version;
    }

    /** Puts into the map being written and counts; lives for one attempt, on the writing thread. */
    private static final class PuttingSink implements EntrySink
    {
        private ChronicleMap<Long, ByteBuffer> map;
        private long entries;
        private long valueBytes;
        private int maxValueSize;
        /** Why the map took no more entries; from then on the sink only counts, to size the next attempt. */
        private RuntimeException full;

        @Override
        public void accept(final long flowKey, final ByteBuffer state)
        {
            final int size = state.remaining();
            if (full == null)
            {
                try
                {
                    map.put(flowKey, state);
                }
                catch (final IllegalStateException | IllegalArgumentException ex)
                {
                    // "Attempt to allocate #n extra segment tier" (too many entries or bytes for the sizing) or
                    // "Entry is too large: requires n chunks, m is maximum" (a state far above the average in a map
                    // with small segments): the sizing was too small for this source, not a failure of it.
                    full = ex;
                }
            }
            entries++;
            valueBytes += size;
            maxValueSize = Math.max(maxValueSize, size);
        }
    }

    /** Copies each state into one reused buffer for the sink; lives for one read, on the reading thread. */
    private static final class ReadingVisitor
    {
        private final EntrySink sink;
        private byte[] bytes;
        private ByteBuffer buffer;

        ReadingVisitor(final EntrySink sink, final int maxValueSize)
        {
            this.sink = sink;
            this.bytes = new byte[Math.max(16, maxValueSize)];
            this.buffer = ByteBuffer.wrap(bytes);
        }

        void accept(final long flowKey, final Data<ByteBuffer> value)
        {
            final int size = Math.toIntExact(value.size());
            if (size > bytes.length)
            {
                bytes = new byte[size]; // only if the manifest's maxValueSize was wrong; the CRC makes that unlikely
                buffer = ByteBuffer.wrap(bytes);
            }
            final RandomDataInput in = value.bytes();
            if (size > 0 && in.read(value.offset(), bytes, 0, size) != size)
            {
                throw new IllegalStateException("Chronicle Map returned a short read of a " + size + " byte state");
            }
            buffer.clear().limit(size);
            sink.accept(flowKey, buffer);
        }
    }

    /** Collects what recovery reports; called on the recovering thread. */
    private static final class CorruptionCount implements ChronicleHashCorruption.Listener
    {
        private int count;
        private String first;

        @Override
        public void onCorruption(final ChronicleHashCorruption corruption)
        {
            if (count++ == 0)
            {
                first = CheckpointException.firstLine(corruption.message());
            }
        }
    }
}
