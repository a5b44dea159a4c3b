package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The ring reader over a ring laid out by hand as the kernel lays out TPACKET_V3 blocks: blocks handed over are read in
 * order and given back, VLAN tags the kernel took off are put back in place, and offsets or lengths that leave the
 * block stop the block's walk instead of reading outside it.
 */
class BlockRingTest
{
    private static final int BLOCK_SIZE = 4096;
    private static final int BLOCKS = 4;
    /** Where the kernel puts the first packet: after the 48-byte block descriptor, aligned. */
    private static final int FIRST_PACKET = 48;
    /** tp_mac of an Ethernet frame with PACKET_RESERVE 4: TPACKET_ALIGN(68 + 16) + 4 - 14. */
    private static final int MAC = 86;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment ring = arena.allocate((long)BLOCK_SIZE * BLOCKS, BLOCK_SIZE);
    private final List<Frame> delivered = new ArrayList<>();
    private final FrameSink sink = frame -> delivered.add(new Frame(frame.segment().asSlice(frame.offset(),
        frame.capturedLength()).toArray(ValueLayout.JAVA_BYTE), frame.wireLength(), frame.linkType(),
        frame.timestampNanos(), frame.interfaceId(), frame.tunnelId()));

    private record Frame(byte[] bytes, int wireLength, int linkType, long timestampNanos, int interfaceId,
        int tunnelId)
    {
    }

    @AfterEach
    void free()
    {
        arena.close();
    }

    @Test
    void shouldDeliverTheFramesOfHandedOverBlocksInOrderAndGiveTheBlocksBack()
    {
        final BlockRing reader = new BlockRing(ring, BLOCK_SIZE, BLOCKS, 3);
        writeBlock(0, List.of(frame(60, 1), frame(1514, 2)), 0);
        writeBlock(1, List.of(frame(100, 3)), 0);
        // block 2 still the kernel's: reading stops there, and block 3 is not looked at out of order
        writeBlock(3, List.of(frame(70, 9)), 0);
        setStatus(3, Tpacket3.TP_STATUS_USER);
        setStatus(2, Tpacket3.TP_STATUS_KERNEL);

        assertEquals(3, reader.drain(sink));
        assertEquals(List.of(1, 2, 3), delivered.stream().map(f -> (int)f.bytes()[20]).toList());
        final Frame first = delivered.get(0);
        assertEquals(LinkType.EN10MB, first.linkType());
        assertEquals(3, first.interfaceId());
        assertEquals(FrameDescriptor.NO_TUNNEL, first.tunnelId());
        assertEquals(60, first.wireLength());
        assertEquals(1_700_000_001L * 1_000_000_000L + 1, first.timestampNanos());
        assertEquals(Tpacket3.TP_STATUS_KERNEL, status(0), "block 0 given back");
        assertEquals(Tpacket3.TP_STATUS_KERNEL, status(1), "block 1 given back");
        assertEquals(Tpacket3.TP_STATUS_USER, status(3), "block 3 untouched until its turn");
        assertEquals(3, reader.frames());
        assertEquals(60 + 1514 + 100, reader.bytes());
        assertEquals(2, reader.blocks());

        writeBlock(2, List.of(frame(80, 4)), 0);
        delivered.clear();
        assertEquals(2, reader.drain(sink), "blocks 2 and 3, in order");
        assertEquals(List.of(4, 9), delivered.stream().map(f -> (int)f.bytes()[20]).toList());
        writeBlock(0, List.of(frame(90, 5)), 0);
        delivered.clear();
        assertEquals(1, reader.drain(sink), "wraps around to block 0");
        assertEquals(0, reader.malformedBlocks());
    }

    @Test
    void shouldPutBackTheVlanTagTheKernelTookOff()
    {
        final BlockRing reader = new BlockRing(ring, BLOCK_SIZE, BLOCKS, 0);
        final byte[] untagged = frame(64, 7);
        writeBlock(0, List.of(untagged), 0x0064_0000_0000L | 0x88A8); // TCI 100, TPID 802.1ad
        reader.drain(sink);
        final byte[] tagged = delivered.get(0).bytes();
        assertEquals(68, tagged.length);
        assertEquals(68, delivered.get(0).wireLength());
        final byte[] expected = FrameInjector.withTags(untagged, 0x88A8, 100);
        assertArrayEquals(expected, tagged);
        assertEquals(1, reader.vlanTagsRestored());
    }

    @Test
    void shouldStopABlockWhoseOffsetsLeaveIt()
    {
        final BlockRing reader = new BlockRing(ring, BLOCK_SIZE, BLOCKS, 0);
        // A packet whose captured length runs past the block's end.
        writeBlock(0, List.of(frame(60, 1), frame(60, 2)), 0);
        final long second = secondPacket(0);
        ring.set(ValueLayout.JAVA_INT, second + Tpacket3.SNAPLEN_OFFSET, BLOCK_SIZE);
        // A first-packet offset outside the block.
        writeBlock(1, List.of(frame(60, 3)), 0);
        ring.set(ValueLayout.JAVA_INT, (long)BLOCK_SIZE + Tpacket3.BLOCK_FIRST_PKT_OFFSET, BLOCK_SIZE - 8);
        // A next-packet step of zero with packets left to read, and a huge packet count.
        writeBlock(2, List.of(frame(60, 4), frame(60, 5)), 0);
        ring.set(ValueLayout.JAVA_INT, 2L * BLOCK_SIZE + FIRST_PACKET + Tpacket3.NEXT_OFFSET_OFFSET, 0);
        ring.set(ValueLayout.JAVA_INT, 2L * BLOCK_SIZE + Tpacket3.BLOCK_NUM_PKTS_OFFSET, -1);
        // tp_mac pointing into the packet header.
        writeBlock(3, List.of(frame(60, 6)), 0);
        ring.set(ValueLayout.JAVA_SHORT, 3L * BLOCK_SIZE + FIRST_PACKET + Tpacket3.MAC_OFFSET, (short)8);

        assertEquals(2, reader.drain(sink), "the packets before each fault");
        assertEquals(List.of(1, 4), delivered.stream().map(f -> (int)f.bytes()[20]).toList());
        assertEquals(4, reader.malformedBlocks());
        for (int block = 0; block < BLOCKS; block++)
        {
            assertEquals(Tpacket3.TP_STATUS_KERNEL, status(block), "every block given back");
        }
    }

    @Test
    void shouldSkipAFrameWhoseSinkThrowsAndDeliverTheRest()
    {
        final BlockRing reader = new BlockRing(ring, BLOCK_SIZE, BLOCKS, 0);
        writeBlock(0, List.of(frame(60, 1), frame(60, 2), frame(60, 3)), 0);
        final FrameSink failingOnSecond = frame ->
        {
            if (frame.segment().get(ValueLayout.JAVA_BYTE, frame.offset() + 20) == 2)
            {
                throw new IllegalStateException("a bug downstream");
            }
            sink.onFrame(frame);
        };
        assertEquals(3, reader.drain(failingOnSecond));
        assertEquals(List.of(1, 3), delivered.stream().map(f -> (int)f.bytes()[20]).toList());
        assertEquals(1, reader.sinkFailures());
        assertEquals(Tpacket3.TP_STATUS_KERNEL, status(0));
    }

    /** A frame of {@code length} bytes: MAC addresses, EtherType IPv4, {@code marker} at byte 20. */
    private static byte[] frame(final int length, final int marker)
    {
        final byte[] frame = new byte[length];
        for (int i = 0; i < 12; i++)
        {
            frame[i] = (byte)(0xA0 + i);
        }
        frame[12] = 0x08;
        frame[20] = (byte)marker;
        return frame;
    }

    /**
     * Lays out {@code frames} in block {@code block} as the kernel does and hands it over. {@code vlan}: 0, or TPID
     * in the low 16 bits and TCI in bits 32 to 47, reported as taken off every frame.
     */
    private void writeBlock(final int block, final List<byte[]> frames, final long vlan)
    {
        final long base = (long)block * BLOCK_SIZE;
        ring.asSlice(base, BLOCK_SIZE).fill((byte)0);
        ring.set(ValueLayout.JAVA_INT, base + Tpacket3.BLOCK_NUM_PKTS_OFFSET, frames.size());
        ring.set(ValueLayout.JAVA_INT, base + Tpacket3.BLOCK_FIRST_PKT_OFFSET, FIRST_PACKET);
        long packet = base + FIRST_PACKET;
        int sequence = 0;
        for (final byte[] frame : frames)
        {
            final int step = align(MAC + frame.length);
            final boolean last = ++sequence == frames.size();
            ring.set(ValueLayout.JAVA_INT, packet + Tpacket3.NEXT_OFFSET_OFFSET, last ? 0 : step);
            ring.set(ValueLayout.JAVA_INT, packet + Tpacket3.SEC_OFFSET, 1_700_000_000 + sequence);
            ring.set(ValueLayout.JAVA_INT, packet + Tpacket3.NSEC_OFFSET, sequence);
            ring.set(ValueLayout.JAVA_INT, packet + Tpacket3.SNAPLEN_OFFSET, frame.length);
            ring.set(ValueLayout.JAVA_INT, packet + Tpacket3.LEN_OFFSET, frame.length);
            int status = 0;
            if (vlan != 0)
            {
                status |= Tpacket3.TP_STATUS_VLAN_VALID | Tpacket3.TP_STATUS_VLAN_TPID_VALID;
                ring.set(ValueLayout.JAVA_INT, packet + Tpacket3.VLAN_TCI_OFFSET, (int)(vlan >>> 32));
                ring.set(ValueLayout.JAVA_SHORT, packet + Tpacket3.VLAN_TPID_OFFSET, (short)vlan);
            }
            ring.set(ValueLayout.JAVA_INT, packet + Tpacket3.STATUS_OFFSET, status);
            ring.set(ValueLayout.JAVA_SHORT, packet + Tpacket3.MAC_OFFSET, (short)MAC);
            MemorySegment.copy(frame, 0, ring, ValueLayout.JAVA_BYTE, packet + MAC, frame.length);
            packet += step;
        }
        setStatus(block, Tpacket3.TP_STATUS_USER);
    }

    private long secondPacket(final int block)
    {
        final long base = (long)block * BLOCK_SIZE;
        return base + FIRST_PACKET + ring.get(ValueLayout.JAVA_INT, base + FIRST_PACKET + Tpacket3.NEXT_OFFSET_OFFSET);
    }

    private static int align(final int length)
    {
        return (length + Tpacket3.ALIGNMENT - 1) & -Tpacket3.ALIGNMENT;
    }

    private void setStatus(final int block, final int status)
    {
        ring.set(ValueLayout.JAVA_INT, (long)block * BLOCK_SIZE + Tpacket3.BLOCK_STATUS_OFFSET, status);
    }

    private int status(final int block)
    {
        return ring.get(ValueLayout.JAVA_INT, (long)block * BLOCK_SIZE + Tpacket3.BLOCK_STATUS_OFFSET);
    }
}
