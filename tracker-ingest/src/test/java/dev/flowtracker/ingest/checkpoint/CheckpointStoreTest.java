package dev.flowtracker.ingest.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checkpoints round-trip, survive a writer killed mid-write, and refuse corrupt files with a clear message. */
class CheckpointStoreTest
{
    private static final long CHILD_STEP_TIMEOUT_SECONDS = 60;

    @TempDir
    Path dir;

    /** The child JVMs' stderr, apart from the checkpoint directory whose listing the tests check. */
    @TempDir
    Path childLogs;

    @Test
    void shouldRoundTripStatesOfVaryingSizesIncludingEmptyOnesForTwoShards() throws IOException
    {
        final Map<Long, byte[]> shard0 = TestStates.generate(10, 3_000);
        final Map<Long, byte[]> shard1 = TestStates.generate(11, 1_000);
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            final CheckpointInfo written = store.write(0, shard0.size(), 0, 123_456_789L, TestStates.source(shard0));
            store.write(1, shard1.size(), 0, 987L, TestStates.source(shard1));

            assertEquals(shard0.size(), written.entries());
            assertEquals(3_000 + 99, written.maxValueSize(), "largest generated state");
            assertStates(shard0, readAll(store, 0));
            assertStates(shard1, readAll(store, 1));
            final CheckpointInfo info = store.info(0);
            assertEquals(written, info);
            assertEquals(123_456_789L, info.packetTimeNanos());
            assertEquals(Manifest.FORMAT, info.format());
        }
    }

    @Test
    void shouldNameTheFileAndTheCauseWhenACheckpointCannotBeWritten() throws IOException, InterruptedException
    {
        final Path disk = Files.createDirectories(dir.resolve("disk"));
        final Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs",
            disk.toString()).redirectErrorStream(true).start();
        final String output = new String(mount.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        final boolean mounted = mount.waitFor(30, TimeUnit.SECONDS) && mount.exitValue() == 0;
        org.junit.jupiter.api.Assumptions.assumeTrue(mounted, "skipped: cannot mount a small tmpfs (needs root): " +
            output);
        try
        {
            final Path state = disk.resolve("state");
            final Map<Long, byte[]> states = TestStates.generate(30, 2_000);
            try (CheckpointStore store = new CheckpointStore(state))
            {
                // 64 KiB cannot hold a map sized for 100,000 states: Chronicle Map's own message names neither.
                final CheckpointException e = assertThrows(CheckpointException.class,
                    () -> store.write(0, 100_000, 0, 1L, TestStates.source(states)));
                assertTrue(e.getMessage().startsWith(state.resolve("shard-0.1.cmap").toString()) &&
                    e.getMessage().contains(": cannot write checkpoint of shard 0: ") &&
                    e.getMessage().contains(" bytes free in " + state + ")"), e.getMessage());
                assertEquals(1, e.getMessage().lines().count(), e.getMessage());
            }
        }
        finally
        {
            new ProcessBuilder("umount", "-l", disk.toString()).inheritIO().start().waitFor(30, TimeUnit.SECONDS);
        }
    }

    @Test
    void shouldReadOnlyTheLatestCheckpointAfterOverwriteAndDeleteTheOlderData() throws IOException
    {
        final Map<Long, byte[]> first = TestStates.generate(20, 2_000);
        final Map<Long, byte[]> second = TestStates.generate(21, 500);
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            store.write(0, first.size(), 0, 1L, TestStates.source(first));
            final CheckpointInfo info = store.write(0, second.size(), 0, 2L, TestStates.source(second));

            assertStates(second, readAll(store, 0));
            assertEquals(2, info.generation());
            assertEquals(List.of(CheckpointFiles.LOCK_FILE, "shard-0.2.cmap", "shard-0.checkpoint"), names(dir));
        }
    }

    @Test
    void shouldListShardsWithTheirMetadataAndReadNothingForAShardWithoutCheckpoint() throws IOException
    {
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            store.write(3, 0, 0, 30L, sink -> { });
            store.write(1, 2, 100, 10L, sink ->
            {
                sink.accept(7L, ByteBuffer.wrap(new byte[100]));
                sink.accept(8L, ByteBuffer.wrap(new byte[300]));
            });

            final List<CheckpointInfo> infos = store.list();
            assertEquals(List.of(1, 3), infos.stream().map(CheckpointInfo::shard).toList());
            assertEquals(2, infos.get(0).entries());
            assertEquals(200.0, infos.get(0).averageValueSize());
            assertEquals(300, infos.get(0).maxValueSize());
            assertEquals(0, infos.get(1).entries());
            assertTrue(infos.get(0).checkpointTimeMillis() > 0);
            assertTrue(readAll(store, 3).isEmpty());
            assertNull(store.read(2, (key, state) -> { throw new AssertionError("no checkpoint, no entries"); }));
            assertNull(store.info(2));
        }
    }

    @Test
    void shouldGrowTheMapWhenTheSizingHintsAreFarTooSmall() throws IOException
    {
        final Map<Long, byte[]> states = TestStates.generate(30, 4_000);
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            final CheckpointInfo info = store.write(0, 10, 16, 0L, TestStates.source(states));

            assertTrue(info.mapEntries() > 10, "rewritten with a bigger map: " + info);
            assertStates(states, readAll(store, 0));
        }
    }

    @Test
    void shouldRejectDuplicateFlowKeysAndKeepThePreviousCheckpoint() throws IOException
    {
        final Map<Long, byte[]> states = TestStates.generate(40, 100);
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            store.write(0, states.size(), 0, 0L, TestStates.source(states));
            assertThrows(IllegalArgumentException.class, () -> store.write(0, 2, 0, 0L, sink ->
            {
                sink.accept(1L, ByteBuffer.allocate(10));
                sink.accept(1L, ByteBuffer.allocate(20));
            }));

            assertStates(states, readAll(store, 0));
            assertEquals(List.of(CheckpointFiles.LOCK_FILE, "shard-0.1.cmap", "shard-0.checkpoint"), names(dir));
        }
    }

    @Test
    void shouldRefuseGarbageInTheDataFileWithAOneLineMessageNamingIt() throws IOException
    {
        final Map<Long, byte[]> states = TestStates.generate(50, 500);
        final CheckpointInfo info;
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            info = store.write(0, states.size(), 0, 0L, TestStates.source(states));
        }
        final Path data = dir.resolve(info.dataFile());
        final byte[] garbage = new byte[(int)info.dataLength()];
        new SplittableRandom(51).nextBytes(garbage);
        Files.write(data, garbage);

        try (CheckpointStore store = new CheckpointStore(dir))
        {
            final CheckpointException sameLength = assertThrows(
                CheckpointException.class, () -> store.read(0, (key, state) -> { throw new AssertionError(); }));
            assertOneLineNaming(sameLength, info.dataFile());
            assertTrue(sameLength.getMessage().contains("checksum"), sameLength.getMessage());

            Files.write(data, new byte[4096]);
            final CheckpointException truncated = assertThrows(
                CheckpointException.class, () -> store.read(0, (key, state) -> { throw new AssertionError(); }));
            assertOneLineNaming(truncated, info.dataFile());
            assertTrue(truncated.getMessage().contains("truncated"), truncated.getMessage());

            Files.delete(data);
            assertOneLineNaming(
                assertThrows(CheckpointException.class, () -> store.read(0, (key, state) -> { })), info.dataFile());
        }
        assertEquals(List.of(CheckpointFiles.LOCK_FILE, "shard-0.checkpoint"), names(dir), "no scratch copies left");
    }

    @Test
    void shouldRefuseACorruptManifestKeepItsDataAndAcceptANewCheckpoint() throws IOException
    {
        final Map<Long, byte[]> states = TestStates.generate(60, 200);
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            store.write(0, states.size(), 0, 0L, TestStates.source(states));
        }
        final Path manifest = dir.resolve("shard-0.checkpoint");
        final String text = Files.readString(manifest);
        Files.writeString(manifest, text.replace("entries=200", "entries=201"));

        try (CheckpointStore store = new CheckpointStore(dir))
        {
            assertTrue(Files.exists(dir.resolve("shard-0.1.cmap")), "data of an unreadable manifest is kept");
            assertOneLineNaming(
                assertThrows(CheckpointException.class, () -> store.read(0, (key, state) -> { })),
                "shard-0.checkpoint");
            assertOneLineNaming(assertThrows(CheckpointException.class, store::list), "shard-0.checkpoint");

            Files.write(manifest, new byte[]{0, 1, 2, (byte)0xff, '\n'});
            assertOneLineNaming(
                assertThrows(CheckpointException.class, () -> store.info(0)), "shard-0.checkpoint");

            store.write(0, states.size(), 0, 0L, TestStates.source(states));
            assertStates(states, readAll(store, 0));
            assertEquals(List.of(CheckpointFiles.LOCK_FILE, "shard-0.2.cmap", "shard-0.checkpoint"), names(dir));
        }
    }

    @Test
    void shouldDeleteTemporaryAndUncommittedFilesAtOpen() throws IOException
    {
        final Map<Long, byte[]> states = TestStates.generate(70, 100);
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            store.write(0, states.size(), 0, 0L, TestStates.source(states));
        }
        // What a process killed at each step of a later write leaves behind, and a file that is not ours.
        Files.write(dir.resolve("shard-0.2.cmap.tmp-12345"), new byte[10]);
        Files.write(dir.resolve("shard-0.3.cmap"), new byte[10]);
        Files.write(dir.resolve("shard-0.checkpoint.tmp-777"), new byte[10]);
        Files.write(dir.resolve("shard-5.1.cmap"), new byte[10]);
        Files.write(dir.resolve("notes.txt"), new byte[10]);

        try (CheckpointStore store = new CheckpointStore(dir))
        {
            assertEquals(
                List.of(CheckpointFiles.LOCK_FILE, "notes.txt", "shard-0.1.cmap", "shard-0.checkpoint"), names(dir));
            assertStates(states, readAll(store, 0));
            assertEquals(2, store.write(0, states.size(), 0, 0L, TestStates.source(states)).generation());
        }
    }

    @Test
    void shouldRefuseASecondStoreOnTheSameDirectory() throws IOException
    {
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            assertOneLineNaming(assertThrows(CheckpointException.class, () -> new CheckpointStore(dir)),
                dir.getFileName().toString());
            assertNotNull(store.directory());
        }
        new CheckpointStore(dir).close();
    }

    /**
     * A child JVM commits a first checkpoint, starts a second, bigger one and is killed with SIGKILL in the middle
     * of it: the first must read back whole and the child's scratch files go at the next open. Its stdout must
     * hold only our markers (Chronicle prints nothing there).
     */
    @Test
    void shouldKeepThePreviousCheckpointWhenTheWriterIsKilledMidWrite() throws Exception
    {
        final int firstCount = 2_000;
        final Process child = startChild(
            true, "crash", dir.toString(), Integer.toString(firstCount), Integer.toString(200_000));
        final List<String> stdout = new ArrayList<>();
        try
        {
            final BlockingQueue<String> lines = readLines(child);
            awaitLine(child, lines, CheckpointChild.FIRST_COMMITTED, stdout);
            awaitLine(child, lines, CheckpointChild.MID_WRITE, stdout);
            assertTrue(names(dir).stream().anyMatch(CheckpointFiles::isTemporary), "mid-write: " + names(dir));

            child.destroyForcibly();
            assertTrue(child.waitFor(CHILD_STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS));
            assertEquals(128 + 9, child.exitValue(), "killed by SIGKILL");
            lines.drainTo(stdout);
        }
        finally
        {
            child.destroyForcibly();
            child.waitFor(CHILD_STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS);
        }
        assertEquals(List.of(CheckpointChild.FIRST_COMMITTED, CheckpointChild.MID_WRITE), stdout);

        try (CheckpointStore store = new CheckpointStore(dir))
        {
            assertEquals(List.of(CheckpointFiles.LOCK_FILE, "shard-0.1.cmap", "shard-0.checkpoint"), names(dir));
            final Map<Long, byte[]> first = TestStates.generate(CheckpointChild.FIRST_SEED, firstCount);
            assertStates(first, readAll(store, 0));
            final CheckpointInfo info = store.info(0);
            assertEquals(CheckpointChild.FIRST_PACKET_TIME, info.packetTimeNanos());
            assertEquals(firstCount, info.entries());
        }
    }

    /** A JVM started without the options gets one line saying which, before Chronicle is ever touched. */
    @Test
    void shouldNameTheMissingJvmOptionsWhenStartedWithoutThem() throws Exception
    {
        final Process child = startChild(false, "open", dir.toString());
        try
        {
            assertTrue(child.waitFor(CHILD_STEP_TIMEOUT_SECONDS, TimeUnit.SECONDS));
            final String out = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(out.startsWith("REFUSED "), out);
            assertTrue(out.contains("--add-opens=java.base/java.lang=ALL-UNNAMED"), out);
            assertEquals(1, out.lines().count(), out);
        }
        finally
        {
            child.destroyForcibly();
        }
    }

    /** The launcher, surefire (this JVM) and ChronicleRuntime must agree on the options. */
    @Test
    void shouldPassTheChronicleJvmOptionsInTheLauncherAndTheTests() throws IOException
    {
        final String launcher = Files.readString(Path.of("../bin/tracker"));
        final List<String> thisJvm = ManagementFactory.getRuntimeMXBean().getInputArguments();
        for (final String option : CheckpointStore.jvmOptions())
        {
            assertTrue(launcher.contains(option), "bin/tracker lacks " + option);
            assertTrue(thisJvm.contains(option), "surefire's argLine lacks " + option);
        }
        assertTrue(CheckpointStore.isAvailable(), CheckpointStore.unavailabilityCause());
    }

    private static Map<Long, byte[]> readAll(final CheckpointStore store, final int shard) throws IOException
    {
        final Map<Long, byte[]> states = new HashMap<>();
        store.read(shard, (key, state) ->
        {
            final byte[] copy = new byte[state.remaining()];
            state.get(copy);
            assertNull(states.put(key, copy), "key read twice: " + key);
        });
        return states;
    }

    private static void assertStates(final Map<Long, byte[]> expected, final Map<Long, byte[]> actual)
    {
        assertEquals(expected.size(), actual.size());
        for (final Map.Entry<Long, byte[]> e : expected.entrySet())
        {
            assertArrayEquals(e.getValue(), actual.get(e.getKey()), "state of flow " + e.getKey());
        }
    }

    private static void assertOneLineNaming(final Exception ex, final String fileName)
    {
        assertTrue(ex.getMessage().contains(fileName), ex.getMessage());
        assertFalse(ex.getMessage().contains("\n"), ex.getMessage());
    }

    private static List<String> names(final Path dir) throws IOException
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private Process startChild(final boolean withOptions, final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        if (withOptions)
        {
            command.addAll(CheckpointStore.jvmOptions());
        }
        command.addAll(List.of("-Xmx256m", "-XX:+UseSerialGC", "-cp", System.getProperty("java.class.path")));
        command.add(CheckpointChild.class.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command)
            .redirectError(childLogs.resolve("child.err").toFile())
            .start();
    }

    /** Reads the child's stdout on a daemon thread, so that waiting for a line can time out. */
    private static BlockingQueue<String> readLines(final Process child)
    {
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final Thread reader = new Thread(() ->
        {
            try (BufferedReader in = new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8)))
            {
                String line;
                while ((line = in.readLine()) != null)
                {
                    lines.add(line);
                }
            }
            catch (final IOException ex)
            {
                // the child was killed: its stdout ends
            }
        }, "checkpoint-child-stdout");
        reader.setDaemon(true);
        reader.start();
        return lines;
    }

    private void awaitLine(
        final Process child, final BlockingQueue<String> lines, final String expected, final List<String> seen)
        throws InterruptedException, IOException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CHILD_STEP_TIMEOUT_SECONDS);
        String line = null;
        while (line == null && System.nanoTime() < deadline && (child.isAlive() || !lines.isEmpty()))
        {
            line = lines.poll(100, TimeUnit.MILLISECONDS);
        }
        if (line != null)
        {
            seen.add(line);
        }
        if (!expected.equals(line))
        {
            final Path err = childLogs.resolve("child.err");
            throw new AssertionError("child (alive " + child.isAlive() + ") printed " + line + " instead of " +
                expected + "; its stderr: " + (Files.exists(err) ? Files.readString(err) : ""));
        }
    }
}
