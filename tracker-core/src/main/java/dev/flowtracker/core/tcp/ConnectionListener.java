package dev.flowtracker.core.tcp;

/** Receives each connection once, when its record is due. Called on the tracker's thread. */
@FunctionalInterface
public interface ConnectionListener
{
    /** The connection is final; it must not be kept beyond this call (it may be recycled). */
    void onConnectionEnd(TcpConnection connection);
}
