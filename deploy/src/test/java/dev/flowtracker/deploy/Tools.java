package dev.flowtracker.deploy;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** External programs (promtool, prometheus, systemd-analyze): finding them and running them with a bound. */
final class Tools
{
    private Tools()
    {
    }

    /** The outcome of a finished command: its exit status and its stdout and stderr together. */
    record Result(int exitCode, String output)
    {
    }

    /** The executable {@code name} on the PATH, if there is one. */
    static Optional<Path> onPath(final String name)
    {
        final String path = System.getenv("PATH");
        if (path == null)
        {
            return Optional.empty();
        }
        for (final String dir : path.split(File.pathSeparator))
        {
            if (dir.isEmpty())
            {
                continue;
            }
            final Path candidate = Path.of(dir, name);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate))
            {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /** Runs {@code command} to its end, or kills it and fails after {@code timeout}. */
    static Result run(final Duration timeout, final List<String> command) throws IOException, InterruptedException
    {
        final Path output = Files.createTempFile("deploy-tool-", ".txt");
        try
        {
            final Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(output.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS))
            {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout +
                    ":\n" + Files.readString(output));
            }
            return new Result(process.exitValue(), Files.readString(output));
        }
        finally
        {
            Files.deleteIfExists(output);
        }
    }
}
