package dev.flowtracker.deploy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code tracker run} in a child JVM (this JVM's java and class path, with the root pom's JVM options), replaying
 * captures (or capturing live) and serving HTTP on a free loopback port until stopped. Owned by the test thread.
 */
final class TrackerProcess implements AutoCloseable
{
    static final String MAIN_CLASS = "dev.flowtracker.ingest.cli.TrackerCli";
    /** The line {@code tracker run} prints on stderr once its HTTP server listens (port 0 picks a free port). */
    private static final Pattern SERVING = Pattern.compile("tracker run: serving HTTP on https?://(\\S+?):(\\d+)");

    private final Process process;
    private final Path stderr;
    private final String address;

    private TrackerProcess(final Process process, final Path stderr, final String address)
    {
        this.process = process;
        this.stderr = stderr;
        this.address = address;
    }

    /**
     * Starts the tracker replaying {@code captures} with {@code --http-listen 127.0.0.1:0}, checkpoints every second
     * in {@code dir}, and waits until it says where it serves.
     */
    static TrackerProcess start(final Path dir, final List<Path> captures, final Duration timeout)
        throws IOException, InterruptedException
    {
        final List<String> sources = new ArrayList<>();
        for (final Path capture : captures)
        {
            sources.addAll(List.of("--pcap", capture.toString()));
        }
        return startWithSources(dir, sources, timeout);
    }

    /** The same as {@link #start} with any {@code run} source options ({@code --interface lo}, ...). */
    static TrackerProcess startWithSources(final Path dir, final List<String> sources, final Duration timeout)
        throws IOException, InterruptedException
    {
        Files.createDirectories(dir);
        final List<String> command = new ArrayList<>();
        command.add(ProcessHandle.current().info().command().orElseThrow());
        command.addAll(DeployFiles.trackerJvmOptions());
        command.addAll(List.of("-Xmx512m", "-cp", System.getProperty("java.class.path"), MAIN_CLASS, "run"));
        command.addAll(sources);
        command.addAll(List.of("--workers", "2", "--max-flows", "100000", "--http-listen", "127.0.0.1:0",
            "--state-dir", dir.resolve("state").toString(), "--checkpoint-interval", "1s",
            "-o", dir.resolve("records.jsonl").toString()));
        final Path stderr = dir.resolve("stderr.txt");
        final Process process = new ProcessBuilder(command).redirectError(stderr.toFile())
            .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        final long deadline = System.nanoTime() + timeout.toNanos();
        try
        {
            while (System.nanoTime() < deadline)
            {
                final Matcher serving = SERVING.matcher(Files.readString(stderr));
                if (serving.find())
                {
                    return new TrackerProcess(process, stderr, serving.group(1) + ":" + serving.group(2));
                }
                if (!process.isAlive())
                {
                    throw new IllegalStateException("tracker run exited with " + process.exitValue() +
                        " before serving HTTP:\n" + String.join(" ", command) + "\n" + Files.readString(stderr));
                }
                Thread.sleep(100);
            }
            throw new IllegalStateException("tracker run did not say where it serves within " + timeout + ":\n" +
                Files.readString(stderr));
        }
        catch (final IOException | InterruptedException | RuntimeException e)
        {
            process.destroyForcibly();
            throw e;
        }
    }

    /** HOST:PORT of its HTTP server. */
    String address()
    {
        return address;
    }

    boolean isAlive()
    {
        return process.isAlive();
    }

    String stderr()
    {
        try
        {
            return Files.readString(stderr);
        }
        catch (final IOException e)
        {
            return "(cannot read " + stderr + ": " + e + ")";
        }
    }

    /** Sends SIGTERM and waits; the exit status, or -1 if it had to be killed. */
    int stop(final Duration timeout) throws InterruptedException
    {
        process.destroy();
        if (process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
        {
            return process.exitValue();
        }
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        return -1;
    }

    /** Kills it if it is still running (after a failure: {@link #stop} is the graceful way). */
    @Override
    public void close()
    {
        if (process.isAlive())
        {
            try
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
    }
}
