package dev.flowtracker.ingest.source.file;

import java.io.IOException;

/** A capture file that cannot be read on: names the file and the byte offset where reading stopped. */
public final class CaptureFormatException extends IOException
{
    private static final long serialVersionUID = 1L;

    private final String file;
    private final long offset;

    public CaptureFormatException(final String file, final long offset, final String problem)
    {
        super(file + ": " + problem + " at byte offset " + offset);
        this.file = file;
        this.offset = offset;
    }

    public String file()
    {
        return file;
    }

    public long offset()
    {
        return offset;
    }
}
