package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.socket.DatagramPacket;
import io.netty.util.ReferenceCountUtil;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.function.BooleanSupplier;

/**
 * One socket's datagram handler: decapsulates each datagram and hands the inner frame, in place, to its sink.
 * Everything here runs on the socket's event loop, which is delivery thread {@link #index}; it owns the
 * decapsulator, the clock and the scratch memory, and is the only writer of its counters.
 *
 * <p>Zero copy: a direct buffer with a known address is read where Netty received it (a {@link MemorySegment} over
 * the buffer's memory); a direct buffer without one through a segment over its NIO view; anything else (a heap
 * buffer) is copied once into the thread's off-heap scratch segment. Every datagram is released here.
 */
final class Receiver extends ChannelInboundHandlerAdapter
{
    private final int index;
    private final FrameSink sink;
    private final Decapsulator decapsulator;
    /** Every inner frame delivered, in turn: Ethernet, seen by this socket. */
    private final FrameDescriptor frame = new FrameDescriptor();
    private final ReceiveClock clock = new ReceiveClock();
    private final ReceiverCounters counters = new ReceiverCounters();
    /** Off-heap copy space for buffers that cannot be viewed in place, {@link MirrorSource#READ_BUFFER} bytes. */
    private final MemorySegment scratch;
    private final ByteBuffer scratchBuffer;
    /** Whether the source is closing: no frame is handed on once it is. */
    private final BooleanSupplier closing;
    private final UnexpectedClose unexpectedClose;
    private volatile Throwable lastError;

    /** Told when the socket closes although the source is not closing. */
    @FunctionalInterface
    interface UnexpectedClose
    {
        void socketClosed(int index);
    }

    Receiver(
        final int index, final FrameSink sink, final MirrorProtocol protocol, final MemorySegment scratch,
        final BooleanSupplier closing, final UnexpectedClose unexpectedClose)
    {
        this.index = index;
        this.sink = sink;
        frame.linkType(LinkType.EN10MB).interfaceId(index);
        this.decapsulator = new Decapsulator(protocol);
        this.scratch = scratch;
        this.scratchBuffer = scratch.asByteBuffer();
        this.closing = closing;
        this.unexpectedClose = unexpectedClose;
    }

    @Override
    public void channelRead(final ChannelHandlerContext ctx, final Object msg)
    {
        if (!(msg instanceof DatagramPacket packet))
        {
            ReferenceCountUtil.release(msg);
            return;
        }
        try
        {
            onDatagram(packet.content());
        }
        finally
        {
            packet.release();
        }
    }

    /**
     * Decapsulates one datagram and delivers its frame. The restricted {@link MemorySegment#reinterpret} sizes the
     * view of a direct buffer to exactly its capacity, memory Netty keeps until the caller releases the buffer.
     */
    @SuppressWarnings("restricted")
    void onDatagram(final ByteBuf buf)
    {
        final long receivedNanos = clock.nowNanos();
        counters.increment(MirrorCounter.DATAGRAMS);
        int length = buf.readableBytes();
        final MemorySegment segment;
        final long offset;
        if (buf.hasMemoryAddress())
        {
            segment = MemorySegment.ofAddress(buf.memoryAddress()).reinterpret(buf.capacity());
            offset = buf.readerIndex();
        }
        else if (buf.isDirect() && buf.nioBufferCount() == 1)
        {
            segment = MemorySegment.ofBuffer(buf.internalNioBuffer(buf.readerIndex(), length));
            offset = 0;
        }
        else
        {
            length = Math.min(length, (int)scratch.byteSize());
            scratchBuffer.clear().limit(length);
            buf.getBytes(buf.readerIndex(), scratchBuffer);
            segment = scratch;
            offset = 0;
        }
        final MirrorCounter outcome = decapsulator.decode(segment, offset, length);
        if (outcome != MirrorCounter.FRAMES)
        {
            counters.increment(outcome);
            return;
        }
        if (closing.getAsBoolean())
        {
            return;
        }
        if (length >= MirrorSource.READ_BUFFER)
        {
            counters.increment(MirrorCounter.TRUNCATED);
        }
        final int frameLength = decapsulator.frameLength;
        try
        {
            sink.onFrame(frame.wrap(segment, decapsulator.frameOffset, frameLength, frameLength)
                .timestampNanos(receivedNanos).tunnelId(decapsulator.vni));
        }
        catch (final RuntimeException e)
        {
            counters.increment(MirrorCounter.SINK_ERRORS);
            lastError = e;
        }
        finally
        {
            counters.add(MirrorCounter.BYTES, frameLength);
            counters.increment(MirrorCounter.FRAMES);
        }
    }

    @Override
    public void exceptionCaught(final ChannelHandlerContext ctx, final Throwable cause)
    {
        counters.increment(MirrorCounter.READ_ERRORS);
        lastError = cause;
    }

    @Override
    public void channelInactive(final ChannelHandlerContext ctx)
    {
        if (!closing.getAsBoolean())
        {
            unexpectedClose.socketClosed(index);
        }
        ctx.fireChannelInactive();
    }

    /** Any thread. */
    ReceiverCounters counters()
    {
        return counters;
    }

    /** The latest read or sink error on this socket, or null. Any thread. */
    Throwable lastError()
    {
        return lastError;
    }
}
