package dev.flowtracker.ingest.source.afpacket;

import dev.flowtracker.ingest.source.FrameSink;

import io.netty.channel.IoEvent;
import io.netty.channel.IoEventLoop;
import io.netty.channel.IoRegistration;
import io.netty.channel.epoll.EpollIoEvent;
import io.netty.channel.epoll.EpollIoHandle;
import io.netty.channel.epoll.EpollIoOps;
import io.netty.channel.unix.FileDescriptor;

import java.util.concurrent.TimeUnit;

/**
 * One capture socket as a Netty {@link EpollIoHandle}: registered on its own epoll event loop for EPOLLIN (level
 * triggered), it reads every block the kernel has handed over each time the socket is readable. The socket is
 * readable exactly when a block is waiting (the kernel wakes the loop when it retires a block: full, or at the block
 * timeout), so an idle capture costs no CPU.
 *
 * <p>EPOLLERR: the pending socket error is read (which clears it). {@code ENETDOWN} means the interface went down
 * (the kernel resumes capture when it comes back up) or is being removed. Which one only shows a moment later (the
 * kernel unbinds the socket after reporting the error), so the loop then looks once after
 * {@value #FIRST_CHECK_MILLIS} ms and every {@value #CHECK_MILLIS} ms until frames flow again: a removed interface
 * ends this socket's delivery with a failure.
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

    static final long FIRST_CHECK_MILLIS = 100;
    static final long CHECK_MILLIS = 1000;

    private final PacketSocket socket;
    private final BlockRing ring;
    private final FrameSink sink;
    private final Listener listener;
    private final IoEventLoop loop;
    private final FileDescriptor descriptor;
    /** Whether a look at the interface is scheduled (after ENETDOWN). */
    private boolean checking;
    private long framesWhenDown;
    private volatile long interfaceDownEvents;
    private volatile long socketErrors;

    /** @param loop the event loop this handle will be registered on (it schedules the interface checks). */
    RingIoHandle(final PacketSocket socket, final BlockRing ring, final FrameSink sink, final Listener listener,
        final IoEventLoop loop)
    {
        this.socket = socket;
        this.ring = ring;
        this.sink = sink;
        this.listener = listener;
        this.loop = loop;
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
            framesWhenDown = ring.frames();
            if (!checking)
            {
                checking = true;
                loop.schedule(() -> checkInterface(registration), FIRST_CHECK_MILLIS, TimeUnit.MILLISECONDS);
            }
            return;
        }
        socketErrors++;
    }

    /** On the loop, after ENETDOWN: stop if the interface is gone, stop looking once frames flow again. */
    private void checkInterface(final IoRegistration registration)
    {
        if (!registration.isValid())
        {
            checking = false;
            return;
        }
        if (!socket.interfacePresent())
        {
            checking = false;
            ring.drain(sink); // what arrived before the interface went away
            registration.cancel();
            listener.onSocketFailed(this, "AF_PACKET capture on " + socket.interfaceName() +
                ": the interface was removed");
            return;
        }
        if (ring.frames() != framesWhenDown)
        {
            checking = false; // up again: the kernel resumed capture
            return;
        }
        loop.schedule(() -> checkInterface(registration), CHECK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Nothing to release here: the source closes the socket once its event loop has stopped. */
    @Override
    public void close()
    {
    }

    IoEventLoop loop()
    {
        return loop;
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
