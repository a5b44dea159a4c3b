package dev.flowtracker.ingest.source;

import java.io.Serial;

/** A source cannot open or lost its input; the message is one line that names the problem for an operator. */
public final class SourceException extends Exception
{
    @Serial
    private static final long serialVersionUID = 1L;

    public SourceException(final String message)
    {
        super(message);
    }

    public SourceException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
