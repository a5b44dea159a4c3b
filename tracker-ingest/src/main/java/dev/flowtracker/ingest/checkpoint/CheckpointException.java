package dev.flowtracker.ingest.checkpoint;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A checkpoint that cannot be written or read back: the message is one line naming the file and the problem,
 * fit for a log line or a command's error output. The cause, when there is one, keeps the details.
 */
public final class CheckpointException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final transient Path file;

    public CheckpointException(final Path file, final String problem)
    {
        this(file, problem, null);
    }

    public CheckpointException(final Path file, final String problem, final Throwable cause)
    {
        super(file + ": " + firstLine(problem), cause);
        this.file = file;
    }

    /** The file at fault: a data file, a manifest, or the state directory itself. */
    public Path file()
    {
        return file;
    }

    /** Library messages (Chronicle's among them) run over several lines; ours stay on one. */
    static String firstLine(final String text)
    {
        if (text == null)
        {
            return "";
        }
        final int end = text.indexOf('\n');
        return (end < 0 ? text : text.substring(0, end)).strip();
    }
}
