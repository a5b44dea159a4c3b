package dev.flowtracker.ingest.source.afpacket;

import java.io.IOException;
import java.io.Serial;

/** A C library call failed: which call, and its {@code errno}. The message reads "setsockopt(PACKET_RX_RING): ...". */
final class ErrnoException extends IOException
{
    @Serial
    private static final long serialVersionUID = 1L;

    private final String call;
    private final int errno;

    ErrnoException(final String call, final int errno)
    {
        super(call + ": " + Libc.strerror(errno) + " (errno " + errno + ")");
        this.call = call;
        this.errno = errno;
    }

    /** The call that failed, with the option it set: {@code setsockopt(PACKET_RX_RING)}. */
    String call()
    {
        return call;
    }

    int errno()
    {
        return errno;
    }
}
