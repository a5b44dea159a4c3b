package dev.flowtracker.core.tcp;

/**
 * Receives each connection once, when its record is due, and, when the tracker emits interim records, open
 * connections now and then. Called on the tracker's thread.
 */
@FunctionalInterface
public interface ConnectionListener
{
    /** The connection is final; it must not be kept beyond this call (it may be recycled). */
    void onConnectionEnd(TcpConnection connection);

    /**
     * The connection is still open and due an interim record (cumulative so far; its final record comes later,
     * through {@link #onConnectionEnd}). Read it here only: it must not be kept or changed. Ignored by default.
     */
    default void onConnectionUpdate(final TcpConnection connection)
    {
    }
}
