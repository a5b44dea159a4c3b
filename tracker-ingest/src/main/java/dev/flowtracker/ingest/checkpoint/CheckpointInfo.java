package dev.flowtracker.ingest.checkpoint;

/**
 * What a shard's manifest says about its committed checkpoint. Immutable.
 *
 * @param shard                the shard whose live flows these are.
 * @param generation           counts up with each checkpoint of the shard; names the data file.
 * @param format               the on-disk format version ({@link Manifest#FORMAT}).
 * @param checkpointTimeMillis wall-clock time of the commit, epoch milliseconds.
 * @param packetTimeNanos      the shard's packet clock when the flows were taken (what the caller passed).
 * @param entries              flow states in the checkpoint.
 * @param valueBytes           total bytes of all flow states.
 * @param maxValueSize         the largest flow state, in bytes.
 * @param dataFile             the Chronicle Map file's name, in the store's directory.
 * @param dataLength           the data file's length in bytes.
 * @param dataCrc32c           CRC-32C of the whole data file, checked before Chronicle Map opens it.
 * @param mapEntries           the {@code entries} the map was created with (kept to rebuild its configuration).
 * @param mapAverageValueSize  the {@code averageValueSize} the map was created with.
 * @param chronicleMapVersion  the Chronicle Map library version that wrote the data file.
 */
public record CheckpointInfo(
    int shard,
    long generation,
    int format,
    long checkpointTimeMillis,
    long packetTimeNanos,
    long entries,
    long valueBytes,
    int maxValueSize,
    String dataFile,
    long dataLength,
    int dataCrc32c,
    long mapEntries,
    double mapAverageValueSize,
    String chronicleMapVersion)
{
    /** Mean flow-state size in bytes, 0 for an empty checkpoint. */
    public double averageValueSize()
    {
        return entries == 0 ? 0.0 : (double)valueBytes / entries;
    }
}
