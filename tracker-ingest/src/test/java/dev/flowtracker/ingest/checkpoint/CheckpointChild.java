package dev.flowtracker.ingest.checkpoint;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The other JVM of {@link CheckpointStoreTest}: prints one marker line per step on stdout (and nothing else may
 * appear there), so the test can kill it at a known point.
 *
 * <pre>
 *   crash DIR FIRST SECOND   commit FIRST states to shard 0, then write SECOND slowly; killed midway
 *   open DIR                 open a store and print the result (started without the JVM options)
 * </pre>
 */
public final class CheckpointChild
{
    static final String FIRST_COMMITTED = "FIRST_COMMITTED";
    static final String MID_WRITE = "MID_WRITE";
    static final int FIRST_SEED = 1;
    static final int SECOND_SEED = 2;
    static final long FIRST_PACKET_TIME = 1_000L;
    /** Entries put before the child says it is in the middle of the second write. */
    static final int MID_WRITE_AFTER = 5_000;
    /** Never outlive the test that started it, even if it dies before killing this JVM. */
    private static final long SELF_DESTRUCT_NANOS = TimeUnit.SECONDS.toNanos(60);

    private CheckpointChild()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final long started = System.nanoTime();
        final PrintStream out = System.out;
        final Path dir = Path.of(args[1]);
        if ("open".equals(args[0]))
        {
            try (CheckpointStore store = new CheckpointStore(dir))
            {
                out.println("OPENED " + store.directory());
            }
            catch (final CheckpointException ex)
            {
                out.println("REFUSED " + ex.getMessage());
            }
            return;
        }

        final Map<Long, byte[]> first = TestStates.generate(FIRST_SEED, Integer.parseInt(args[2]));
        final int secondCount = Integer.parseInt(args[3]);
        try (CheckpointStore store = new CheckpointStore(dir))
        {
            store.write(0, first.size(), 0, FIRST_PACKET_TIME, TestStates.source(first));
            out.println(FIRST_COMMITTED);
            out.flush();
            final int[] put = {0};
            store.write(0, secondCount, 0, 2 * FIRST_PACKET_TIME, sink -> TestStates.forEach(
                SECOND_SEED, secondCount, (key, state) ->
                {
                    sink.accept(key, state);
                    if (++put[0] == MID_WRITE_AFTER)
                    {
                        out.println(MID_WRITE);
                        out.flush();
                    }
                    if (put[0] > MID_WRITE_AFTER)
                    {
                        pause(started);
                    }
                }));
            out.println("SECOND_COMMITTED"); // the test fails if it sees this: it should have killed us first
        }
    }

    private static void pause(final long started)
    {
        if (System.nanoTime() - started > SELF_DESTRUCT_NANOS)
        {
            Runtime.getRuntime().halt(3);
        }
        try
        {
            Thread.sleep(2);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }
}
