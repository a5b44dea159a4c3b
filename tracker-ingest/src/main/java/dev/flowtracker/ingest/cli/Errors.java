package dev.flowtracker.ingest.cli;

import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;

/** Turns I/O exceptions into the short text the commands print after a file's name. */
final class Errors
{
    private Errors()
    {
    }

    /** What went wrong, naming the file where the exception knows it. */
    static String describe(final Exception e)
    {
        final Throwable cause = e instanceof UncheckedIOException u ? u.getCause() : e;
        if (cause instanceof NoSuchFileException n)
        {
            return n.getFile() + ": no such file";
        }
        if (cause instanceof FileSystemException f && f.getReason() == null && f.getFile() != null)
        {
            // The JDK's message is then the path alone: say what went wrong with it too.
            final String what = switch (f)
            {
                case AccessDeniedException a -> "permission denied";
                case FileAlreadyExistsException a -> "already exists";
                case NotDirectoryException a -> "not a directory";
                case DirectoryNotEmptyException a -> "directory not empty";
                default -> f.getClass().getSimpleName();
            };
            return f.getFile() + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile()) + ": " + what;
        }
        return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    }
}
