package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code tcpdump -w FILE} on an interface inside a namespace, beside our own capture: the reference the live records
 * are compared with. Nanosecond timestamps (the ring's precision), immediate mode (without it libpcap holds
 * frames in its ring for up to a second, and a stop loses them), a 64 MiB buffer (tcpdump writing each frame as it
 * comes falls behind bursts on a shared machine with its default 2 MiB), packet-buffered output, no filter.
 */
final class Tcpdump implements AutoCloseable
{
    private static final String TCPDUMP = NetnsPair.find("tcpdump");
    private static final long START_TIMEOUT_SECONDS = 10;

    private static final Pattern DROPPED = Pattern.compile("(\\d+) packets? dropped by kernel");
    /** The file is taken as complete once its size has not changed for this long. */
    private static final long QUIET_MILLIS = 500;

    private final Process process;
    private final Path file;
    private final StringBuilder stderr = new StringBuilder();
    private final Thread stderrReader;

    private Tcpdump(final Process process, final Path file, final CountDownLatch listening)
    {
        this.process = process;
        this.file = file;
        this.stderrReader = new Thread(() ->
        {
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                StandardCharsets.UTF_8)))
            {
                for (String line; (line = reader.readLine()) != null; )
                {
                    synchronized (stderr)
                    {
                        stderr.append(line).append('\n');
                    }
                    if (line.contains("listening on"))
                    {
                        listening.countDown();
                    }
                }
            }
            catch (final IOException e)
            {
                // the process ended
            }
        }, "tcpdump-stderr");
        stderrReader.setDaemon(true);
        stderrReader.start();
    }

    static void assumeInstalled()
    {
        assumeTrue(TCPDUMP != null, "needs tcpdump to compare with; skipped");
    }

    /** Starts tcpdump and returns once it says it is listening. */
    static Tcpdump start(final String namespace, final String interfaceName, final Path file) throws IOException
    {
        final Process process = new ProcessBuilder(List.of(NetnsPair.find("ip"), "netns", "exec", namespace, TCPDUMP,
            "-i", interfaceName, "-w", file.toString(), "-U", "--immediate-mode", "-B", "65536", "-n", "-Z", "root",
            "-s", "0", "--time-stamp-precision=nano")).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        final CountDownLatch listening = new CountDownLatch(1);
        final Tcpdump tcpdump = new Tcpdump(process, file, listening);
        try
        {
            if (!listening.await(START_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IOException("tcpdump did not start listening within " + START_TIMEOUT_SECONDS + "s: " +
                    tcpdump.stderr());
            }
        }
        catch (final InterruptedException e)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
        return tcpdump;
    }

    /**
     * Waits until tcpdump has written everything it captured (the file stops growing: it writes each frame as it
     * reads it), then stops it (SIGTERM) and waits for it; returns what it wrote on stderr. Stopping it earlier loses
     * the frames still in its ring.
     *
     * @throws IOException when tcpdump reports frames dropped by the kernel (then it is no reference).
     */
    String stop() throws IOException, InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(START_TIMEOUT_SECONDS);
        long size = Files.size(file);
        long quietSince = System.nanoTime();
        while (System.nanoTime() - quietSince < TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS) &&
            System.nanoTime() - deadline < 0)
        {
            Thread.sleep(50);
            final long now = Files.size(file);
            if (now != size)
            {
                size = now;
                quietSince = System.nanoTime();
            }
        }
        process.toHandle().destroy(); // SIGTERM; Process.destroy would also close stderr before its summary
        if (!process.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IOException("tcpdump did not stop within " + START_TIMEOUT_SECONDS + "s");
        }
        stderrReader.join(TimeUnit.SECONDS.toMillis(START_TIMEOUT_SECONDS));
        final String summary = stderr();
        final Matcher dropped = DROPPED.matcher(summary);
        if (!dropped.find())
        {
            throw new IOException("tcpdump did not report its statistics: " + summary);
        }
        if (Long.parseLong(dropped.group(1)) != 0)
        {
            throw new IOException("tcpdump lost frames, so it cannot serve as the reference: " + summary);
        }
        return summary;
    }

    private String stderr()
    {
        synchronized (stderr)
        {
            return stderr.toString();
        }
    }

    @Override
    public void close()
    {
        process.destroyForcibly();
    }
}
