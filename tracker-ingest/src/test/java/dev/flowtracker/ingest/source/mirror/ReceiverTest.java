package dev.flowtracker.ingest.source.mirror;

import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.SourceFrames.Frame;
import dev.flowtracker.ingest.source.SourceFrames.Recorder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledDirectByteBuf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * One socket's handler on its own, fed Netty buffers of each kind: a direct buffer read in place by address, one
 * read through its NIO view, a heap buffer copied to scratch memory; at an offset inside the buffer each time.
 */
class ReceiverTest
{
    private static final int VNI = 321;

    /** A VXLAN datagram around an inner frame of {@code length} bytes 0, 1, 2... */
    private static byte[] datagram(final int length)
    {
        final byte[] bytes = new byte[VxlanHeader.LENGTH + length];
        VxlanHeader.write(MemorySegment.ofArray(bytes), 0, VNI);
        for (int i = 0; i < length; i++)
        {
            bytes[VxlanHeader.LENGTH + i] = (byte)i;
        }
        return bytes;
    }

    private static byte[] frame(final int length)
    {
        final byte[] bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = (byte)i;
        }
        return bytes;
    }

    /** The buffer holding {@code datagram} after 5 bytes of something else, its reader index on the datagram. */
    private static ByteBuf at5(final ByteBuf buf, final byte[] datagram)
    {
        buf.writeBytes(new byte[5]);
        buf.writeBytes(datagram);
        buf.readerIndex(5);
        return buf;
    }

    private static void deliverAllKinds(final Receiver receiver, final byte[] datagram)
    {
        final ByteBuf direct = at5(Unpooled.directBuffer(datagram.length + 5), datagram);
        final ByteBuf nio = at5(new UnpooledDirectByteBuf(ByteBufAllocator.DEFAULT, datagram.length + 5,
            datagram.length + 5), datagram);
        final ByteBuf heap = at5(Unpooled.buffer(datagram.length + 5), datagram);
        assertFalse(nio.hasMemoryAddress(), "the NIO path needs a direct buffer without an address");
        assertFalse(heap.isDirect());
        for (final ByteBuf buf : List.of(direct, nio, heap))
        {
            try
            {
                receiver.onDatagram(buf);
            }
            finally
            {
                buf.release();
            }
        }
    }

    @Test
    void shouldDeliverTheInnerFrameFromEveryKindOfBuffer()
    {
        final Recorder recorder = new Recorder();
        try (Arena arena = Arena.ofConfined())
        {
            final Receiver receiver = new Receiver(3, recorder.apply(0), MirrorProtocol.VXLAN,
                arena.allocate(MirrorSource.READ_BUFFER), () -> false, i -> { });
            deliverAllKinds(receiver, datagram(100));
            assertEquals(3, receiver.counters().get(MirrorCounter.FRAMES));
            assertEquals(300, receiver.counters().get(MirrorCounter.BYTES));
            assertEquals(3, receiver.counters().get(MirrorCounter.DATAGRAMS));
        }
        final List<Frame> frames = recorder.frames().get(0);
        assertEquals(3, frames.size());
        for (final Frame f : frames)
        {
            assertArrayEquals(frame(100), f.data());
            assertEquals(100, f.wireLength());
            assertEquals(LinkType.EN10MB, f.linkType());
            assertEquals(3, f.interfaceId());
            assertEquals(VNI, f.tunnelId());
        }
    }

    @Test
    void shouldCountADatagramThatFilledTheBufferAsTruncatedAndStillDeliverIt()
    {
        final Recorder recorder = new Recorder();
        try (Arena arena = Arena.ofConfined())
        {
            final Receiver receiver = new Receiver(0, recorder.apply(0), MirrorProtocol.VXLAN,
                arena.allocate(MirrorSource.READ_BUFFER), () -> false, i -> { });
            deliverAllKinds(receiver, datagram(MirrorSource.READ_BUFFER - VxlanHeader.LENGTH));
            deliverAllKinds(receiver, datagram(MirrorSource.MAX_INNER_FRAME));
            assertEquals(3, receiver.counters().get(MirrorCounter.TRUNCATED));
            assertEquals(6, receiver.counters().get(MirrorCounter.FRAMES));
        }
        assertEquals(MirrorSource.READ_BUFFER - VxlanHeader.LENGTH, recorder.frames().get(0).get(2).data().length);
    }

    @Test
    void shouldCountAFailingSinkAndGoOn()
    {
        final AtomicBoolean fail = new AtomicBoolean(true);
        final int[] taken = new int[1];
        final FrameSink sink = frame ->
        {
            if (fail.get())
            {
                throw new IllegalStateException("a bug in the sink");
            }
            taken[0]++;
        };
        try (Arena arena = Arena.ofConfined())
        {
            final Receiver receiver = new Receiver(0, sink, MirrorProtocol.VXLAN,
                arena.allocate(MirrorSource.READ_BUFFER), () -> false, i -> { });
            deliverAllKinds(receiver, datagram(64));
            fail.set(false);
            deliverAllKinds(receiver, datagram(64));
            assertEquals(3, receiver.counters().get(MirrorCounter.SINK_ERRORS));
            assertEquals(6, receiver.counters().get(MirrorCounter.FRAMES));
            assertTrue(receiver.lastError().getMessage().contains("a bug in the sink"));
        }
        assertEquals(3, taken[0]);
    }

    @Test
    void shouldDeliverNothingOnceClosing()
    {
        final Recorder recorder = new Recorder();
        try (Arena arena = Arena.ofConfined())
        {
            final Receiver receiver = new Receiver(0, recorder.apply(0), MirrorProtocol.VXLAN,
                arena.allocate(MirrorSource.READ_BUFFER), () -> true, i -> { });
            deliverAllKinds(receiver, datagram(64));
            assertEquals(0, receiver.counters().get(MirrorCounter.FRAMES));
        }
        assertEquals(0, recorder.calls());
    }
}
