package dev.flowtracker.ingest.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Persisted checkpoints of each shard's live flows: a Chronicle Map file of flow key to flow state per shard,
 * committed by the atomic rename of a small manifest, so that a {@code kill -9} (or a power cut) at any moment
 * leaves the previous checkpoint whole. See the package documentation for the files and the protocol.
 *
 * <p>Threads: any thread may call, and calls for different shards may run in parallel (each shard's worker
 * writes its own). Calls for one shard must not overlap; an overlapping one throws
 * {@link IllegalStateException}. {@link #close} belongs to the owner, after the workers have stopped. One store
 * per directory: a second, in this process or another, is refused while the first is open.
 */
public final class CheckpointStore implements AutoCloseable
{
    /** Assumed flow-state size when neither the caller nor a previous checkpoint of the shard says. */
    public static final int DEFAULT_AVERAGE_VALUE_SIZE = 1024;

    private final Path directory;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Set<Integer> busyShards = ConcurrentHashMap.newKeySet();
    /** A reader beside the owning process: no lock, no clean-up, no writes. */
    private final boolean readOnly;
    private volatile boolean closed;

    private CheckpointStore(final Path stateDir, final boolean readOnly)
    {
        this.directory = stateDir;
        this.lockChannel = null;
        this.lock = null;
        this.readOnly = readOnly;
    }

    /**
     * Opens an existing checkpoint directory for reading only, beside the process that owns it (no lock taken,
     * nothing cleaned up): {@code tracker flows --state-dir}. A read that races with a new commit retries on the
     * newer checkpoint.
     *
     * @throws CheckpointException when the JVM lacks what Chronicle Map needs or the directory does not exist.
     */
    public static CheckpointStore openForReading(final Path stateDir) throws IOException
    {
        requireChronicle(stateDir);
        if (!Files.isDirectory(stateDir))
        {
            throw new CheckpointException(stateDir, "no such checkpoint directory");
        }
        return new CheckpointStore(stateDir, true);
    }

    /**
     * Opens (creating it if needed) a checkpoint directory: takes its lock, then deletes what interrupted writes
     * and reads left behind (temporary files, data files no manifest names).
     *
     * @throws CheckpointException when the JVM lacks what Chronicle Map needs ({@link #unavailabilityCause()}),
     *                             or another store holds the directory.
     */
    public CheckpointStore(final Path stateDir) throws IOException
    {
        requireChronicle(stateDir);
        Files.createDirectories(stateDir);
        this.directory = stateDir;
        this.readOnly = false;
        this.lockChannel = FileChannel.open(
            stateDir.resolve(CheckpointFiles.LOCK_FILE), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock acquired = null;
        try
        {
            acquired = lockChannel.tryLock();
            if (acquired == null)
            {
                throw new CheckpointException(stateDir, "in use by another process's checkpoint store");
            }
            removeLeftovers();
        }
        catch (final OverlappingFileLockException ex)
        {
            lockChannel.close();
            throw new CheckpointException(stateDir, "in use by another checkpoint store in this process");
        }
        catch (final IOException | RuntimeException ex)
        {
            lockChannel.close(); // releases the lock too
            throw ex;
        }
        this.lock = acquired;
    }

    /** Turns Chronicle's analytics off before its first use, and refuses a JVM that cannot run it. */
    private static void requireChronicle(final Path stateDir) throws CheckpointException
    {
        ChronicleRuntime.disableAnalytics();
        final Optional<String> cause = ChronicleRuntime.unavailabilityCause();
        if (cause.isPresent())
        {
            throw new CheckpointException(stateDir, cause.get());
        }
    }

    /** A failure's message, or its type when it has none; a path-only JDK message gets its type added. */
    private static String describe(final Throwable failure)
    {
        final String message = failure.getMessage();
        if (message == null || message.isBlank())
        {
            return failure.getClass().getSimpleName();
        }
        return failure instanceof FileSystemException f && f.getReason() == null ?
            message + " (" + failure.getClass().getSimpleName() + ")" : message;
    }

    /** " (N bytes free in DIR)", or nothing when that cannot be told. */
    private String freeSpace()
    {
        try
        {
            return String.format(Locale.ROOT, " (%,d bytes free in %s)",
                Files.getFileStore(directory).getUsableSpace(), directory);
        }
        catch (final IOException | RuntimeException e)
        {
            return "";
        }
    }

    /** Whether this JVM can run Chronicle Map (its module access options, a full JDK). */
    public static boolean isAvailable()
    {
        return ChronicleRuntime.unavailabilityCause().isEmpty();
    }

    /** Why this JVM cannot run Chronicle Map, in one line, or null when it can. */
    public static String unavailabilityCause()
    {
        return ChronicleRuntime.unavailabilityCause().orElse(null);
    }

    /** The JVM options a process using checkpoints is started with (the launcher's and the tests'). */
    public static List<String> jvmOptions()
    {
        return ChronicleRuntime.JVM_OPTIONS;
    }

    public Path directory()
    {
        return directory;
    }

    /**
     * Writes a new checkpoint of a shard, sized from the previous checkpoint's average flow-state size.
     *
     * @see #write(int, long, int, long, EntrySource)
     */
    public CheckpointInfo write(
        final int shard, final long expectedEntries, final long packetTimeNanos, final EntrySource source)
        throws IOException
    {
        return write(shard, expectedEntries, 0, packetTimeNanos, source);
    }

    /**
     * Writes a new checkpoint of a shard and commits it, replacing the previous one. Returns after the new
     * checkpoint is durable: data file written, closed and fsynced, renamed into place, manifest written,
     * fsynced and atomically renamed over the old one, directory fsynced. Until that last rename the previous
     * checkpoint is the shard's, whatever happens to the process. On failure the previous one stays.
     *
     * @param expectedEntries      how many entries the source will push (the shard's live flows): sizes the map.
     * @param averageValueSizeHint typical flow-state size in bytes; 0 for the previous checkpoint's average, or
     *                             {@value #DEFAULT_AVERAGE_VALUE_SIZE} when there is none. States may be larger
     *                             or smaller (down to 0 bytes); a source that outgrows the sizing costs a rewrite.
     * @param packetTimeNanos      the shard's packet clock at the checkpoint, kept in the manifest.
     * @param source               pushes the entries, on this thread; may be called more than once.
     * @return the committed checkpoint's manifest.
     * @throws IllegalArgumentException when the source pushes a flow key twice (nothing is committed).
     */
    public CheckpointInfo write(
        final int shard, final long expectedEntries, final int averageValueSizeHint, final long packetTimeNanos,
        final EntrySource source)
        throws IOException
    {
        checkWritable();
        if (expectedEntries < 0)
        {
            throw new IllegalArgumentException("expectedEntries must not be negative: " + expectedEntries);
        }
        enter(shard);
        final Path manifest = directory.resolve(CheckpointFiles.manifestName(shard));
        Path scratch = null;
        Path data = null;
        Path manifestScratch = null;
        Path writing = directory;
        boolean committed = false;
        try
        {
            final CheckpointInfo previous = manifestOrNull(shard);
            final long generation = nextGeneration(shard, previous);
            final String dataName = CheckpointFiles.dataName(shard, generation);
            final double average = averageValueSizeHint > 0 ? averageValueSizeHint :
                previous != null && previous.entries() > 0 ? previous.averageValueSize() : DEFAULT_AVERAGE_VALUE_SIZE;

            scratch = directory.resolve(CheckpointFiles.temporaryName(dataName));
            writing = scratch;
            final ChronicleFlowMap.Written written = ChronicleFlowMap.write(scratch, expectedEntries, average, source);
            CheckpointFiles.force(scratch);
            final long length = Files.size(scratch);
            final int crc = CheckpointFiles.crc32c(scratch);
            data = directory.resolve(dataName);
            Files.move(scratch, data, StandardCopyOption.ATOMIC_MOVE);
            scratch = null;
            CheckpointFiles.forceDirectory(directory); // data file's name must be durable before a manifest names it

            final CheckpointInfo info = new CheckpointInfo(
                shard, generation, Manifest.FORMAT, System.currentTimeMillis(), packetTimeNanos,
                written.entries(), written.valueBytes(), written.maxValueSize(), dataName, length, crc,
                written.mapEntries(), written.mapAverageValueSize(), ChronicleFlowMap.LIBRARY_VERSION);
            manifestScratch = directory.resolve(CheckpointFiles.temporaryName(manifest.getFileName().toString()));
            writing = manifestScratch;
            CheckpointFiles.writeDurably(manifestScratch, Manifest.encode(info));
            Files.move(manifestScratch, manifest, StandardCopyOption.ATOMIC_MOVE);
            manifestScratch = null;
            committed = true;
            CheckpointFiles.forceDirectory(directory);

            deleteDataFilesExcept(shard, dataName);
            return info;
        }
        catch (final IOException | RuntimeException | Error ex)
        {
            deleteQuietly(scratch, ex);
            deleteQuietly(manifestScratch, ex);
            if (!committed)
            {
                deleteQuietly(data, ex);
            }
            if (ex instanceof CheckpointException || ex instanceof IllegalArgumentException || ex instanceof Error)
            {
                throw ex;
            }
            // Library and JDK messages may name neither the file nor the cause ("Not enough space to fallocate 0
            // MiB to /"): say which file, what the message said, and how much room the file system has.
            throw new CheckpointException(writing, "cannot write checkpoint of shard " + shard + ": " +
                describe(ex) + freeSpace(), ex);
        }
        finally
        {
            exit(shard);
        }
    }

    /**
     * Streams a shard's committed checkpoint into the sink, on this thread. The data file is first copied to
     * scratch while its CRC-32C is checked against the manifest, and Chronicle Map opens the copy
     * ({@code recoverPersistedTo}): a corrupt file is refused before Chronicle reads any of it, and the
     * committed file is never written, so a process killed while reading loses nothing.
     *
     * @return the checkpoint's manifest, or null when the shard has no checkpoint (nothing was pushed).
     * @throws CheckpointException naming the file when the manifest or the data file is missing, torn or corrupt;
     *                             nothing was pushed to the sink then.
     */
    public CheckpointInfo read(final int shard, final EntrySink sink) throws IOException
    {
        // A reader beside the owner may find the data file just replaced by a newer commit: read that one instead.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return readOnce(shard, sink);
            }
            catch (final CheckpointException ex)
            {
                if (!readOnly || attempt == 5 || manifestOrNull(shard) == null)
                {
                    throw ex;
                }
            }
        }
    }

    private CheckpointInfo readOnce(final int shard, final EntrySink sink) throws IOException
    {
        enter(shard);
        try
        {
            final CheckpointInfo info = info(shard);
            if (info == null)
            {
                return null;
            }
            final Path data = directory.resolve(info.dataFile());
            if (!Files.exists(data))
            {
                throw new CheckpointException(data, "data file is missing (named by " +
                    CheckpointFiles.manifestName(shard) + ")");
            }
            final Path scratch = directory.resolve(CheckpointFiles.temporaryName(info.dataFile()));
            try
            {
                CheckpointFiles.copyVerified(data, scratch, info.dataLength(), info.dataCrc32c());
                ChronicleFlowMap.read(scratch, info, data, sink);
            }
            finally
            {
                Files.deleteIfExists(scratch);
            }
            return info;
        }
        finally
        {
            exit(shard);
        }
    }

    /**
     * The manifest of a shard's committed checkpoint, or null when it has none.
     *
     * @throws CheckpointException naming the manifest when it is torn or corrupt.
     */
    public CheckpointInfo info(final int shard) throws IOException
    {
        checkShard(shard);
        checkOpen();
        return Manifest.read(directory.resolve(CheckpointFiles.manifestName(shard)), shard);
    }

    /**
     * The committed checkpoints in the directory, by shard.
     *
     * @throws CheckpointException naming the first manifest that is torn or corrupt.
     */
    public List<CheckpointInfo> list() throws IOException
    {
        checkOpen();
        final List<CheckpointInfo> infos = new ArrayList<>();
        for (final Path file : files())
        {
            final int shard = CheckpointFiles.manifestShard(file.getFileName().toString());
            if (shard >= 0)
            {
                final CheckpointInfo info = info(shard);
                if (info != null)
                {
                    infos.add(info);
                }
            }
        }
        infos.sort(Comparator.comparingInt(CheckpointInfo::shard));
        return infos;
    }

    /**
     * Removes a shard's checkpoint: its manifest first (the commit point, made durable), then its data files. Used
     * when a daemon restarts with fewer workers: the shards it no longer has were restored into the others and
     * checkpointed there, so keeping them would restore those flows twice next time.
     */
    public void delete(final int shard) throws IOException
    {
        checkWritable();
        checkShard(shard);
        checkOpen();
        enter(shard);
        try
        {
            if (Files.deleteIfExists(directory.resolve(CheckpointFiles.manifestName(shard))))
            {
                CheckpointFiles.forceDirectory(directory);
            }
            deleteDataFilesExcept(shard, "");
        }
        finally
        {
            exit(shard);
        }
    }

    /** Releases the directory. Calls in progress are not waited for: close after the shard workers stop. */
    @Override
    public void close() throws IOException
    {
        if (closed)
        {
            return;
        }
        closed = true;
        if (!readOnly)
        {
            try
            {
                lock.release();
            }
            finally
            {
                lockChannel.close();
            }
        }
    }

    private void removeLeftovers() throws IOException
    {
        final Map<Integer, String> committed = new HashMap<>();
        final Set<Integer> unreadable = new HashSet<>();
        final List<Path> files = files();
        for (final Path file : files)
        {
            final int shard = CheckpointFiles.manifestShard(file.getFileName().toString());
            if (shard >= 0)
            {
                try
                {
                    final CheckpointInfo info = info(shard);
                    if (info != null)
                    {
                        committed.put(shard, info.dataFile());
                    }
                }
                catch (final CheckpointException ex)
                {
                    unreadable.add(shard); // keep its data files: evidence for whoever looks into it
                }
            }
        }
        for (final Path file : files)
        {
            final String name = file.getFileName().toString();
            final int dataShard = CheckpointFiles.dataShard(name);
            if (CheckpointFiles.isTemporary(name) ||
                dataShard >= 0 && !unreadable.contains(dataShard) && !name.equals(committed.get(dataShard)))
            {
                Files.deleteIfExists(file);
            }
        }
    }

    /** One past the highest generation of the shard's data files and manifest, so no name is reused. */
    private long nextGeneration(final int shard, final CheckpointInfo previous) throws IOException
    {
        long highest = previous == null ? 0 : previous.generation();
        for (final Path file : files())
        {
            final String name = file.getFileName().toString();
            if (CheckpointFiles.isDataFileOf(name, shard))
            {
                highest = Math.max(highest, CheckpointFiles.dataGeneration(name));
            }
        }
        return highest + 1;
    }

    /** After a commit the older data files are garbage; one left by a failed delete goes at the next open. */
    private void deleteDataFilesExcept(final int shard, final String keep) throws IOException
    {
        for (final Path file : files())
        {
            final String name = file.getFileName().toString();
            if (CheckpointFiles.isDataFileOf(name, shard) && !name.equals(keep))
            {
                try
                {
                    Files.deleteIfExists(file);
                }
                catch (final IOException ex)
                {
                    // committed already: failing the checkpoint now would mislead the caller
                }
            }
        }
    }

    /** The previous checkpoint when it is readable; a torn one is about to be replaced, so it does not matter. */
    private CheckpointInfo manifestOrNull(final int shard) throws IOException
    {
        try
        {
            return info(shard);
        }
        catch (final CheckpointException ex)
        {
            return null;
        }
    }

    private List<Path> files() throws IOException
    {
        final List<Path> files = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory))
        {
            for (final Path file : stream)
            {
                files.add(file);
            }
        }
        return files;
    }

    private static void deleteQuietly(final Path file, final Throwable failure)
    {
        if (file != null)
        {
            try
            {
                Files.deleteIfExists(file);
            }
            catch (final IOException ex)
            {
                failure.addSuppressed(ex); // the next open deletes it anyway
            }
        }
    }

    private void enter(final int shard)
    {
        checkShard(shard);
        checkOpen();
        if (!busyShards.add(shard))
        {
            throw new IllegalStateException(
                "shard " + shard + " already has a checkpoint call in progress: one thread per shard");
        }
    }

    private void exit(final int shard)
    {
        busyShards.remove(shard);
    }

    private void checkWritable()
    {
        if (readOnly)
        {
            throw new IllegalStateException("checkpoint store " + directory + " is open for reading only");
        }
    }

    private void checkOpen()
    {
        if (closed)
        {
            throw new IllegalStateException("checkpoint store for " + directory + " is closed");
        }
    }

    private static void checkShard(final int shard)
    {
        if (shard < 0)
        {
            throw new IllegalArgumentException("shard must not be negative: " + shard);
        }
    }
}
