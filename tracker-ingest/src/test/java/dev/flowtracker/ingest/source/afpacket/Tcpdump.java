package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code tcpdump -w FILE} on an interface inside a namespace, beside our own capture: the reference the live records
 * are compared with. Nanosecond timestamps (the ring's precision), immediate mode (without it libpcap holds
 * frames in its ring for up to a second, and a stop loses them), packet-buffered output, no filter.
 */
final class Tcpdump implements AutoCloseable
{
    private static final String TCPDUMP = NetnsPair.find("tcpdump");
    private static final long START_TIMEOUT_SECONDS = 10;

    private final Process process;
    private final StringBuilder stderr = new StringBuilder();
    private final Thread stderrReader;

    private Tcpdump(final Process process, final CountDownLatch listening)
    {
        this.process = process;
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
            "-i", interfaceName, "-w", file.toString(), "-U", "--immediate-mode", "-n", "-Z", "root", "-s", "0",
            "--time-stamp-precision=nano")).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        final CountDownLatch listening = new CountDownLatch(1);
        final Tcpdump tcpdump = new Tcpdump(process, listening);
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

    /** Stops tcpdump (SIGTERM: it flushes the file) and waits for it; returns what it wrote on stderr. */
    String stop() throws IOException, InterruptedException
    {
        process.destroy();
        if (!process.waitFor(START_TIMEOUT_SECONDS, TimeUnit.SECONDS))
        {
            process.destroyForcibly();
            throw new IOException("tcpdump did not stop within " + START_TIMEOUT_SECONDS + "s");
        }
        stderrReader.join(TimeUnit.SECONDS.toMillis(START_TIMEOUT_SECONDS));
        return stderr();
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
