package dev.flowtracker.ingest.cli;

/**
 * A bad command line, environment variable or config file value: reported in one line with exit code 2. Unchecked
 * so that the option setters picocli calls can throw it; {@link TrackerCli} unwraps it from picocli's exception.
 */
final class UsageException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    UsageException(final String message)
    {
        super(message);
    }
}
