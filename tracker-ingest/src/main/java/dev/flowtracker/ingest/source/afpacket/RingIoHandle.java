package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.ingest.source.FrameSink;

import io.netty.channel.IoEvent;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

/**
 * One capture socket as a Netty {@link EpollIoHandle}: registered on its own epoll event loop for EPOLLIN (level
 * triggered), it reads every block the kernel has handed over each time the socket is readable. The socket is
 * readable exactly when a block is waiting (the kernel wakes the loop when it retires a block: full, or at the block
 * timeout), so an idle capture costs no CPU.
 *
 * <p>EPOLLERR: the pending socket error is read (which clears it). {@code ENETDOWN} means the interface went down
 * (the kernel resumes capture when it comes back up) or was removed; a removed interface ends this socket's
 * delivery with a failure.
 *
 * <p>Everything here runs on the socket's event loop thread, which alone calls its {@link FrameSink}.
 */
final class RingIoHandle implements EpollIoHandle
{
    /** What the source learns from the event loop. */
    interface Listener
    {
        /** The socket can no longer capture (its interface is gone); it has been deregistered. */
        void onSocketFailed(RingIoHandle handle, String message);
    }

    private final PacketSocket socket;
    private final BlockRing ring;
    private final FrameSink sink;
    private final Listener listener;
    private final FileDescriptor descriptor;
    private volatile long interfaceDownEvents;
    private volatile long socketErrors;

    RingIoHandle(final PacketSocket socket, final BlockRing ring, final FrameSink sink, final Listener listener)
    {
        this.socket = socket;
        this.ring = ring;
        this.sink = sink;
        this.listener = listener;
        this.descriptor = new FileDescriptor(socket.fd());
    }

    /** The socket's descriptor for epoll. Closed by {@link PacketSocket#close}, never through Netty. */
    @Override
    public FileDescriptor fd()
    {
        return descriptor;
    }

    @Override
    public void handle(final IoRegistration registration, final IoEvent event)
    {
        final EpollIoOps ops = ((EpollIoEvent)event).ops();
        if (ops.contains(EpollIoOps.EPOLLERR))
        {
            onError(registration);
        }
        if (registration.isValid())
        {
            ring.drain(sink);
        }
    }

    private void onError(final IoRegistration registration)
    {
        final int error = socket.takeError();
        if (error == 0)
        {
            return;
        }
        if (error == Libc.ENETDOWN)
        {
            interfaceDownEvents++;
            if (!socket.interfacePresent())
            {
                ring.drain(sink); // what arrived before the interface went away
                registration.cancel();
                listener.onSocketFailed(this, "AF_PACKET capture on " + socket.interfaceName() +
                    ": the interface was removed");
            }
            return;
        }
        socketErrors++;
    }

    /** Nothing to release here: the source closes the socket once its event loop has stopped. */
    @Override
    public void close()
    {
    }

    PacketSocket socket()
    {
        return socket;
    }

    BlockRing ring()
    {
        return ring;
    }

    /** Times the interface went down (or away) under this socket. */
    long interfaceDownEvents()
    {
        return interfaceDownEvents;
    }

    /** Socket errors other than the interface going down (counted, capture goes on). */
    long socketErrors()
    {
        return socketErrors;
    }
}
