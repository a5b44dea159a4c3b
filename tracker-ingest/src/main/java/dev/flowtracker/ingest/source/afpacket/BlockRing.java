package dev.flowtracker.ingest.source.afpacket;

import static dev.flowtracker.ingest.source.afpacket.Tpacket3.BLOCK_DESCRIPTOR_LENGTH;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.BLOCK_FIRST_PKT_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.BLOCK_NUM_PKTS_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.BLOCK_STATUS_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.HEADER_AND_ADDRESS_LENGTH;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.HEADER_LENGTH;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.LEN_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.MAC_ADDRESSES_LENGTH;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.MAC_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.NEXT_OFFSET_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.NSEC_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.SEC_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.SNAPLEN_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.STATUS_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.TP_STATUS_CSUMNOTREADY;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.TP_STATUS_KERNEL;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.TP_STATUS_USER;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.TP_STATUS_VLAN_TPID_VALID;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.TP_STATUS_VLAN_VALID;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.VLAN_TAG_LENGTH;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.VLAN_TCI_OFFSET;
import static dev.flowtracker.ingest.source.afpacket.Tpacket3.VLAN_TPID_OFFSET;

import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Reads a TPACKET_V3 ring (layout in {@link Tpacket3}): visits the blocks in the kernel's fill order, and for each
 * block the kernel has handed over ({@code TP_STATUS_USER}, read with acquire ordering) hands every packet to the
 * {@link FrameSink} in place, then gives the block back ({@code TP_STATUS_KERNEL}, written with release ordering).
 * No copy and no allocation per packet.
 *
 * <p>The ring is shared with the kernel, so nothing read from it is trusted: every offset and length is checked
 * against the block before use. A block whose packet list leaves it is counted in {@link #malformedBlocks()}; the
 * packets before the fault are delivered and the block is given back.
 *
 * <p>VLAN: the kernel takes the outer 802.1Q/802.1ad tag off received frames and reports it in {@code tp_vlan_tci}
 * ({@code TP_STATUS_VLAN_VALID}). The decoder needs it in the frame, so the tag is put back in place: the 12 MAC
 * address bytes move 4 bytes towards the packet header (into the slack {@code PACKET_RESERVE} guarantees) and the
 * TPID (from {@code tp_vlan_tpid}, else 0x8100) and TCI go after them; captured and wire lengths grow by 4, as
 * libpcap does. Frames with too little slack are delivered without the tag and counted in
 * {@link #vlanTagsNotRestored()}.
 *
 * <p>Owned by one thread (the socket's event loop): {@link #drain} and the plain counters. The totals
 * ({@link #frames()}, {@link #bytes()}, ...) are published once per drain and may be read from any thread.
 */
final class BlockRing
{
    /** Unaligned layouts: a corrupt offset must fail a bounds check, not an alignment check. */
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT_BIG_ENDIAN =
        ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN);
    /** The block status word (blocks start page-aligned), read with acquire and written with release ordering. */
    private static final VarHandle STATUS = ValueLayout.JAVA_INT.varHandle();

    private final MemorySegment ring;
    private final int blockSize;
    private final int blockCount;
    private final int interfaceId;
    /** Every frame delivered, in turn: an Ethernet frame of this socket, of no mirror session. */
    private final FrameDescriptor descriptor = new FrameDescriptor();
    /** The block the kernel fills next after the ones already read: where the next drain starts. */
    private int nextBlock;

    private long framesOwned;
    private long bytesOwned;
    private long blocksOwned;
    private long malformedBlocksOwned;
    private long vlanTagsRestoredOwned;
    private long checksumsPendingOwned;
    private long vlanTagsNotRestoredOwned;
    private long sinkFailuresOwned;

    private volatile long frames;
    private volatile long bytes;
    private volatile long blocks;
    private volatile long malformedBlocks;
    private volatile long vlanTagsRestored;
    private volatile long checksumsPending;
    private volatile long vlanTagsNotRestored;
    private volatile long sinkFailures;

    /**
     * @param ring        the mapped ring, {@code blockSize * blockCount} bytes, readable and writable.
     * @param interfaceId passed with every frame (the socket's index in its source).
     */
    BlockRing(final MemorySegment ring, final int blockSize, final int blockCount, final int interfaceId)
    {
        if (ring.byteSize() < (long)blockSize * blockCount)
        {
            throw new IllegalArgumentException("ring of " + ring.byteSize() + " bytes is smaller than " + blockCount +
                " blocks of " + blockSize);
        }
        this.ring = ring;
        this.blockSize = blockSize;
        this.blockCount = blockCount;
        this.interfaceId = interfaceId;
        descriptor.linkType(LinkType.EN10MB).interfaceId(interfaceId).tunnelId(FrameDescriptor.NO_TUNNEL);
    }

    /**
     * Delivers the packets of every block the kernel has handed over, in order, and gives each block back; at most
     * one lap of the ring per call, so a busy ring cannot hold the thread forever (the socket stays readable and
     * the event loop calls again).
     *
     * @return packets delivered.
     */
    int drain(final FrameSink sink)
    {
        int delivered = 0;
        for (int visited = 0; visited < blockCount; visited++)
        {
            final long block = (long)nextBlock * blockSize;
            final int status = (int)STATUS.getAcquire(ring, block + BLOCK_STATUS_OFFSET);
            if ((status & TP_STATUS_USER) == 0)
            {
                break;
            }
            delivered += deliverBlock(block, sink);
            STATUS.setRelease(ring, block + BLOCK_STATUS_OFFSET, TP_STATUS_KERNEL);
            blocksOwned++;
            nextBlock = nextBlock + 1 == blockCount ? 0 : nextBlock + 1;
        }
        if (delivered > 0 || blocksOwned != blocks)
        {
            publish();
        }
        return delivered;
    }

    private int deliverBlock(final long block, final FrameSink sink)
    {
        final long packets = Integer.toUnsignedLong(ring.get(INT, block + BLOCK_NUM_PKTS_OFFSET));
        long packet = Integer.toUnsignedLong(ring.get(INT, block + BLOCK_FIRST_PKT_OFFSET));
        int delivered = 0;
        for (long i = 0; i < packets; i++)
        {
            if (packet < BLOCK_DESCRIPTOR_LENGTH || packet > blockSize - HEADER_LENGTH)
            {
                malformedBlocksOwned++;
                return delivered;
            }
            if (!deliverPacket(block, packet, sink))
            {
                malformedBlocksOwned++;
                return delivered;
            }
            delivered++;
            if (i + 1 < packets)
            {
                final long next = Integer.toUnsignedLong(ring.get(INT, block + packet + NEXT_OFFSET_OFFSET));
                if (next < HEADER_LENGTH)
                {
                    malformedBlocksOwned++; // a zero or tiny step would revisit or overlap this packet
                    return delivered;
                }
                packet += next;
            }
        }
        return delivered;
    }

    /** Checks one packet's header against the block and hands its frame on; false if it does not fit. */
    private boolean deliverPacket(final long block, final long packet, final FrameSink sink)
    {
        final long header = block + packet;
        int capturedLength = ring.get(INT, header + SNAPLEN_OFFSET);
        int wireLength = ring.get(INT, header + LEN_OFFSET);
        final int status = ring.get(INT, header + STATUS_OFFSET);
        final int mac = Short.toUnsignedInt(ring.get(SHORT, header + MAC_OFFSET));
        if (capturedLength < 0 || wireLength < 0 || mac < HEADER_LENGTH ||
            packet + mac + capturedLength > blockSize)
        {
            return false;
        }
        final long timestampNanos = Integer.toUnsignedLong(ring.get(INT, header + SEC_OFFSET)) * 1_000_000_000L +
            Integer.toUnsignedLong(ring.get(INT, header + NSEC_OFFSET));
        long frame = header + mac;
        if ((status & TP_STATUS_VLAN_VALID) != 0)
        {
            if (mac - VLAN_TAG_LENGTH >= HEADER_AND_ADDRESS_LENGTH && capturedLength >= MAC_ADDRESSES_LENGTH)
            {
                final int tpid = (status & TP_STATUS_VLAN_TPID_VALID) != 0 ?
                    Short.toUnsignedInt(ring.get(SHORT, header + VLAN_TPID_OFFSET)) : Tpacket3.ETHERTYPE_8021Q;
                final short tci = (short)ring.get(INT, header + VLAN_TCI_OFFSET);
                MemorySegment.copy(ring, frame, ring, frame - VLAN_TAG_LENGTH, MAC_ADDRESSES_LENGTH);
                frame -= VLAN_TAG_LENGTH;
                ring.set(SHORT_BIG_ENDIAN, frame + MAC_ADDRESSES_LENGTH, (short)tpid);
                ring.set(SHORT_BIG_ENDIAN, frame + MAC_ADDRESSES_LENGTH + 2, tci);
                capturedLength += VLAN_TAG_LENGTH;
                wireLength += VLAN_TAG_LENGTH;
                vlanTagsRestoredOwned++;
            }
            else
            {
                vlanTagsNotRestoredOwned++;
            }
        }
        framesOwned++;
        bytesOwned += wireLength;
        try
        {
            final boolean checksumsPending = (status & TP_STATUS_CSUMNOTREADY) != 0;
            if (checksumsPending)
            {
                checksumsPendingOwned++;
            }
            sink.onFrame(descriptor.wrap(ring, frame, capturedLength, wireLength).timestampNanos(timestampNanos)
                .checksumsPending(checksumsPending));
        }
        catch (final RuntimeException e)
        {
            // A bug downstream: skip this frame rather than re-deliver the block or stop the loop.
            if (sinkFailuresOwned++ == 0)
            {
                System.err.println("tracker: AF_PACKET frame sink failed (further failures counted only): " + e);
            }
        }
        return true;
    }

    private void publish()
    {
        frames = framesOwned;
        bytes = bytesOwned;
        blocks = blocksOwned;
        malformedBlocks = malformedBlocksOwned;
        vlanTagsRestored = vlanTagsRestoredOwned;
        checksumsPending = checksumsPendingOwned;
        vlanTagsNotRestored = vlanTagsNotRestoredOwned;
        sinkFailures = sinkFailuresOwned;
    }

    /** Frames delivered. */
    long frames()
    {
        return frames;
    }

    /** Wire bytes of the frames delivered (restored VLAN tags included). */
    long bytes()
    {
        return bytes;
    }

    /** Blocks read and given back. */
    long blocks()
    {
        return blocks;
    }

    /** Blocks whose packet list did not fit in the block (a kernel/user layout mismatch; should stay 0). */
    long malformedBlocks()
    {
        return malformedBlocks;
    }

    /** Frames this host sent whose checksums were left to the NIC (not verified). */
    long checksumsPending()
    {
        return checksumsPending;
    }

    long vlanTagsRestored()
    {
        return vlanTagsRestored;
    }

    long vlanTagsNotRestored()
    {
        return vlanTagsNotRestored;
    }

    /** Frames whose sink threw (skipped; the rest of the block is still delivered). */
    long sinkFailures()
    {
        return sinkFailures;
    }
}
