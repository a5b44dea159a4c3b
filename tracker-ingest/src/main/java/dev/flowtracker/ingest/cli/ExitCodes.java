package dev.flowtracker.ingest.cli;

/** Process exit codes, documented in {@code --help}. */
final class ExitCodes
{
    static final int OK = 0;
    static final int INPUT_ERROR = 1;
    static final int USAGE = 2;

    private ExitCodes()
    {
    }
}
