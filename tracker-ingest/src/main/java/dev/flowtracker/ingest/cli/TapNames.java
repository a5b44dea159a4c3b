package dev.flowtracker.ingest.cli;

import dev.flowtracker.ingest.output.RecordFields;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** The default tap name: this host's name as the kernel knows it, made fit for a record field. */
final class TapNames
{
    private static final Path KERNEL_HOST_NAME = Path.of("/proc/sys/kernel/hostname");

    private TapNames()
    {
    }

    /**
     * The kernel's host name (no DNS lookup that could hang at start), or {@code HOSTNAME}, or {@code localhost};
     * characters a tap name may not hold become {@code -}.
     */
    static String ofThisHost()
    {
        String name = null;
        try
        {
            name = Files.readString(KERNEL_HOST_NAME, StandardCharsets.US_ASCII).trim();
        }
        catch (final IOException | SecurityException e)
        {
            name = System.getenv("HOSTNAME");
        }
        if (name == null || name.isEmpty())
        {
            return "localhost";
        }
        final String fit = name.replaceAll("[^A-Za-z0-9._-]", "-");
        return RecordFields.validTapName(fit) ? fit : fit.substring(0, RecordFields.MAX_TAP_NAME);
    }
}
