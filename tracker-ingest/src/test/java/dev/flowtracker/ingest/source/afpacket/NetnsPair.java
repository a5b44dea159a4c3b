package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Two network namespaces joined by a veth pair, for tests that need real traffic through the kernel's own TCP stack:
 * the server side ({@link #server}, interface {@link #SERVER_INTERFACE}, {@link #SERVER_V4} and {@link #SERVER_V6})
 * and the client side ({@link #client}, {@link #CLIENT_INTERFACE}, {@link #CLIENT_V4}, {@link #CLIENT_V6}). The
 * interfaces live only inside the namespaces, so their names and addresses cannot clash with the host's; the
 * namespace names carry this process's pid and a counter, and are deleted by name before creation (a leftover of a
 * killed run) and by {@link #close}.
 *
 * <p>Code runs inside a namespace on a thread of its own that enters it with {@code setns(2)} ({@link #call}): a
 * namespace belongs to a thread, and sockets (and threads) created there stay in it.
 */
final class NetnsPair implements AutoCloseable
{
    static final String SERVER_INTERFACE = "ftsrv0";
    static final String CLIENT_INTERFACE = "ftcli0";
    static final String SERVER_V4 = "10.231.0.1";
    static final String CLIENT_V4 = "10.231.0.2";
    static final String SERVER_V6 = "fd00:231::1";
    static final String CLIENT_V6 = "fd00:231::2";
    private static final long COMMAND_TIMEOUT_SECONDS = 20;
    private static final AtomicInteger NEXT = new AtomicInteger();
    private static final String IP = find("ip");

    final String server;
    final String client;

    private NetnsPair(final String server, final String client)
    {
        this.server = server;
        this.client = client;
    }

    /** Skips the calling test unless this process runs as root and has the {@code ip} command. */
    static void assumeUsable()
    {
        assumeTrue(isRoot(), "needs root (network namespaces, veth pairs and AF_PACKET sockets); skipped");
        assumeTrue(IP != null, "needs the ip command (iproute2); skipped");
        assumeTrue(Files.isDirectory(Path.of("/proc/self/ns")), "needs /proc with namespaces; skipped");
    }

    /** Whether {@code command} is on the usual paths (root's tools live in sbin). */
    static String find(final String command)
    {
        for (final String dir : List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin"))
        {
            final Path path = Path.of(dir, command);
            if (Files.isExecutable(path))
            {
                return path.toString();
            }
        }
        return null;
    }

    static boolean isRoot()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
            {
                if (line.startsWith("Uid:"))
                {
                    return line.split("\\s+")[2].equals("0"); // effective uid
                }
            }
        }
        catch (final IOException e)
        {
            return false;
        }
        return false;
    }

    /** Creates both namespaces, the veth pair between them, IPv4 and IPv6 addresses, all links up. */
    static NetnsPair create() throws IOException
    {
        final String base = "ft" + ProcessHandle.current().pid() + "-" + NEXT.incrementAndGet();
        final NetnsPair pair = new NetnsPair(base + "-srv", base + "-cli");
        pair.deleteNamespaces();
        try
        {
            ip("netns", "add", pair.server);
            ip("netns", "add", pair.client);
            ip("-n", pair.server, "link", "add", SERVER_INTERFACE, "type", "veth", "peer", "name", CLIENT_INTERFACE,
                "netns", pair.client);
            ip("-n", pair.server, "addr", "add", SERVER_V4 + "/24", "dev", SERVER_INTERFACE);
            ip("-n", pair.client, "addr", "add", CLIENT_V4 + "/24", "dev", CLIENT_INTERFACE);
            ip("-n", pair.server, "addr", "add", SERVER_V6 + "/64", "dev", SERVER_INTERFACE, "nodad");
            ip("-n", pair.client, "addr", "add", CLIENT_V6 + "/64", "dev", CLIENT_INTERFACE, "nodad");
            for (final String ns : List.of(pair.server, pair.client))
            {
                ip("-n", ns, "link", "set", "lo", "up");
            }
            ip("-n", pair.server, "link", "set", SERVER_INTERFACE, "up");
            ip("-n", pair.client, "link", "set", CLIENT_INTERFACE, "up");
            return pair;
        }
        catch (final IOException | RuntimeException e)
        {
            pair.close();
            throw e;
        }
    }

    /** Runs {@code ip} with {@code args}; fails with its output when it exits non-zero. */
    static String ip(final String... args) throws IOException
    {
        final List<String> command = new ArrayList<>();
        command.add(IP);
        command.addAll(Arrays.asList(args));
        return run(command);
    }

    static String run(final List<String> command) throws IOException
    {
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        try
        {
            if (!process.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS))
            {
                process.destroyForcibly();
                throw new IOException(String.join(" ", command) + ": no exit within " + COMMAND_TIMEOUT_SECONDS + "s");
            }
            final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (process.exitValue() != 0)
            {
                throw new IOException(String.join(" ", command) + " exited " + process.exitValue() + ": " +
                    output.strip());
            }
            return output;
        }
        catch (final InterruptedException e)
        {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted: " + String.join(" ", command), e);
        }
    }

    /**
     * Runs {@code body} on a new thread inside namespace {@code namespace} and returns its result; waits at most
     * {@code timeoutSeconds}.
     */
    static <T> T call(final String namespace, final long timeoutSeconds, final Callable<T> body) throws Exception
    {
        final FutureTask<T> task = new FutureTask<>(() ->
        {
            TestLibc.enterNetworkNamespace(namespace);
            return body.call();
        });
        final Thread thread = new Thread(task, "netns-" + namespace);
        thread.setDaemon(true);
        thread.start();
        try
        {
            return task.get(timeoutSeconds, TimeUnit.SECONDS);
        }
        catch (final ExecutionException e)
        {
            if (e.getCause() instanceof Exception cause)
            {
                throw cause;
            }
            throw e;
        }
        catch (final TimeoutException e)
        {
            thread.interrupt();
            throw new AssertionError("no result from namespace " + namespace + " within " + timeoutSeconds + "s", e);
        }
    }

    /** Starts {@code body} on a new daemon thread inside {@code namespace} (errors are the body's business). */
    static Thread start(final String namespace, final String name, final Runnable body)
    {
        final Thread thread = new Thread(() ->
        {
            try
            {
                TestLibc.enterNetworkNamespace(namespace);
            }
            catch (final ErrnoException e)
            {
                throw new IllegalStateException(e);
            }
            body.run();
        }, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    private void deleteNamespaces()
    {
        for (final String ns : List.of(server, client))
        {
            if (Files.exists(Path.of("/run/netns", ns)))
            {
                try
                {
                    ip("netns", "del", ns);
                }
                catch (final IOException e)
                {
                    System.err.println("NetnsPair: could not delete namespace " + ns + ": " + e.getMessage());
                }
            }
        }
    }

    /** Deletes both namespaces (and with them the veth pair and anything else inside). */
    @Override
    public void close()
    {
        deleteNamespaces();
    }
}
