/**
 * Checkpoints of the shard workers' live flows: written periodically and at graceful shutdown, read back at
 * start. A flow state is opaque bytes (its codec lives elsewhere) keyed by the flow's {@code long} key.
 *
 * <p>Each shard has a Chronicle Map data file and a manifest; the manifest's atomic rename is the commit point:
 *
 * <pre>
 *   write(shard 3)                                 state directory
 *   1 Chronicle Map, put every entry  ------------> shard-3.18.cmap.tmp-NANOS
 *   2 close, fsync, CRC-32C of the file
 *   3 rename (ATOMIC_MOVE), fsync dir ------------> shard-3.18.cmap          (not yet named by any manifest)
 *   4 manifest: counts, times, CRC  -------------> shard-3.checkpoint.tmp-NANOS, fsync
 *   5 rename over the manifest, fsync dir -------> shard-3.checkpoint        COMMITTED: now names generation 18
 *   6 delete the older generation  --------------> shard-3.17.cmap gone
 * </pre>
 *
 * A process killed before step 5 leaves {@code shard-3.checkpoint} naming generation 17, whose file is untouched;
 * the next open deletes the temporary files and any data file no manifest names. A single file renamed over
 * {@code shard-3.cmap} could not carry the metadata with it (two renames are not atomic together), hence the
 * manifest and generation-numbered data files.
 *
 * <p>Reading copies the data file to scratch while checking its length and CRC-32C against the manifest, then
 * opens the copy with {@code recoverPersistedTo} and checks Chronicle's own corruption reports and entry count.
 * Garbage never reaches Chronicle Map (given a garbage file, recovery waits 60 s for a "ready" flag and then
 * fails; given an empty file, it silently makes a new empty map), and the committed file is never opened for
 * writing: recovery writes into the file it opens, and a reader killed mid-iteration leaves lock words behind.
 *
 * <p>Processes that use this package need {@link dev.flowtracker.ingest.checkpoint.CheckpointStore#jvmOptions()}
 * and a full JDK; Chronicle's analytics are off (property set, jar excluded from the build).
 */
package dev.flowtracker.ingest.checkpoint;
