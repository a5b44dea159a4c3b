package dev.flowtracker.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

/** Where the deployment material is, and readers for its YAML and JSON. Stateless; any thread. */
final class DeployFiles
{
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();

    private DeployFiles()
    {
    }

    /** The repository's root (surefire passes it as {@code tracker.repo.root}). */
    static Path root()
    {
        return Path.of(System.getProperty("tracker.repo.root", "..")).toAbsolutePath().normalize();
    }

    /** A path under {@code deploy/}. */
    static Path deploy(final String relative)
    {
        return root().resolve("deploy").resolve(relative);
    }

    static JsonNode yaml(final Path file)
    {
        try
        {
            return YAML.readTree(file.toFile());
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    static JsonNode json(final Path file)
    {
        try
        {
            return JSON.readTree(file.toFile());
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The files of a directory whose names end with {@code suffix}, sorted. */
    static List<Path> list(final Path dir, final String suffix)
    {
        try (Stream<Path> files = Files.list(dir))
        {
            return files.filter(f -> f.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    /**
     * Every JVM option a tracker process needs: the root pom's {@code tracker.jvm.args} and
     * {@code tracker.chronicle.jvm.args} (surefire passes both).
     */
    static List<String> trackerJvmOptions()
    {
        final List<String> options = new ArrayList<>();
        for (final String property : List.of("tracker.jvm.args", "tracker.chronicle.jvm.args"))
        {
            final String value = System.getProperty(property);
            if (value == null || value.isBlank())
            {
                throw new IllegalStateException("system property " + property + " is not set: run through Maven");
            }
            options.addAll(Arrays.asList(value.trim().split("\\s+")));
        }
        return options;
    }

    static String read(final Path file)
    {
        try
        {
            return Files.readString(file);
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }
}
