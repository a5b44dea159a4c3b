package dev.flowtracker.ingest.source.afpacket;

/**
 * The TPACKET_V3 receive ring's layout ({@code linux/if_packet.h}), as offsets. The ring is {@code block count}
 * blocks of {@code block size} bytes; the kernel fills one block at a time with packets, then hands it to user
 * space by setting its status to {@link #TP_STATUS_USER} (when full, or when the block timeout retires it), and
 * takes it back when user space writes {@link #TP_STATUS_KERNEL}.
 *
 * <p>A block starts with its descriptor ({@code struct tpacket_block_desc} with {@code tpacket_hdr_v1}):
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                            version                            |  0
 *  |                         offset_to_priv                        |  4
 *  |                          block_status                         |  8  TP_STATUS_KERNEL / TP_STATUS_USER
 *  |                            num_pkts                           | 12
 *  |                       offset_to_first_pkt                     | 16  from the block's start
 *  |                             blk_len                           | 20
 *  |                       seq_num (64 bits)                       | 24
 *  |                 ts_first_pkt, ts_last_pkt (2 x 64)            | 32
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * </pre>
 * and each packet with its header ({@code struct tpacket3_hdr}), then a {@code sockaddr_ll}, then the frame at
 * {@code tp_mac}:
 * <pre>
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                         tp_next_offset                        |  0  to the next packet of the block, 0 if last
 *  |                             tp_sec                            |  4
 *  |                            tp_nsec                            |  8
 *  |                           tp_snaplen                          | 12  bytes captured
 *  |                             tp_len                            | 16  bytes on the wire
 *  |                           tp_status                           | 20  TP_STATUS_VLAN_VALID, ...
 *  |            tp_mac             |            tp_net             | 24  from the packet header's start
 *  |                           tp_rxhash                           | 28
 *  |                          tp_vlan_tci                          | 32  the tag the kernel took off the frame
 *  |          tp_vlan_tpid         |           (padding)           | 36
 *  |                       (padding, 8 bytes)                      | 40
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  struct sockaddr_ll (20 bytes)                | 48
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |       (slack, at least PACKET_RESERVE bytes) ... frame        | tp_mac
 * </pre>
 */
final class Tpacket3
{
    static final int BLOCK_STATUS_OFFSET = 8;
    static final int BLOCK_NUM_PKTS_OFFSET = 12;
    static final int BLOCK_FIRST_PKT_OFFSET = 16;
    /** Bytes of the block descriptor: no packet starts before this. */
    static final int BLOCK_DESCRIPTOR_LENGTH = 48;

    static final int NEXT_OFFSET_OFFSET = 0;
    static final int SEC_OFFSET = 4;
    static final int NSEC_OFFSET = 8;
    static final int SNAPLEN_OFFSET = 12;
    static final int LEN_OFFSET = 16;
    static final int STATUS_OFFSET = 20;
    static final int MAC_OFFSET = 24;
    static final int VLAN_TCI_OFFSET = 32;
    static final int VLAN_TPID_OFFSET = 36;
    /** {@code sizeof(struct tpacket3_hdr)}. */
    static final int HEADER_LENGTH = 48;
    /** {@code TPACKET3_HDRLEN}: the header and the {@code sockaddr_ll} after it; frames start after this. */
    static final int HEADER_AND_ADDRESS_LENGTH = HEADER_LENGTH + Libc.SOCKADDR_LL_SIZE;
    /** {@code TPACKET_ALIGNMENT}: frame sizes are multiples of it. */
    static final int ALIGNMENT = 16;

    static final int TP_STATUS_KERNEL = 0;
    static final int TP_STATUS_USER = 1;
    /** The host sent the frame and left its checksums to the NIC (ip_summed = CHECKSUM_PARTIAL): not filled in yet. */
    static final int TP_STATUS_CSUMNOTREADY = 1 << 3;
    static final int TP_STATUS_VLAN_VALID = 1 << 4;
    static final int TP_STATUS_VLAN_TPID_VALID = 1 << 6;

    /** An 802.1Q tag: TPID and TCI. */
    static final int VLAN_TAG_LENGTH = 4;
    static final int ETHERTYPE_8021Q = 0x8100;
    /** Destination and source MAC: the bytes that move when a tag goes back in after them. */
    static final int MAC_ADDRESSES_LENGTH = 12;

    /** struct tpacket_req3: seven 32-bit fields. */
    static final int REQ3_LENGTH = 28;
    /** struct tpacket_stats_v3: tp_packets, tp_drops, tp_freeze_q_cnt. */
    static final int STATS3_LENGTH = 12;

    private Tpacket3()
    {
    }
}
