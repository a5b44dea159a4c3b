package dev.flowtracker.ingest.cli;

/** A bad command line: reported in one line with exit code 2. */
final class UsageException extends Exception
{
    private static final long serialVersionUID = 1L;

    UsageException(final String message)
    {
        super(message);
    }
}
