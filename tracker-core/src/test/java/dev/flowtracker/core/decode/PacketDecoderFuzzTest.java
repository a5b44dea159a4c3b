package dev.flowtracker.core.decode;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.flowtracker.core.SampleCapture;
import dev.flowtracker.core.wire.LinkType;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static dev.flowtracker.core.decode.FrameBuilder.ACK;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_II;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_ERSPAN_III;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_MPLS;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_PPPOE_SESSION;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_QINQ;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_TRANSPARENT_ETHERNET;
import static dev.flowtracker.core.decode.FrameBuilder.ETHERTYPE_VLAN;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_CHECKSUM;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_KEY;
import static dev.flowtracker.core.decode.FrameBuilder.GRE_SEQUENCE;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_GRE;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_IPV4;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_IPV6;
import static dev.flowtracker.core.decode.FrameBuilder.PROTO_UDP;
import static dev.flowtracker.core.decode.FrameBuilder.PSH;
import static dev.flowtracker.core.decode.FrameBuilder.SYN;
import static dev.flowtracker.core.decode.FrameBuilder.concat;
import static dev.flowtracker.core.decode.FrameBuilder.u16;
import static dev.flowtracker.core.decode.FrameBuilder.u32;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Coverage-guided fuzzing of {@link PacketDecoder} over every link type it supports and every encapsulation it
 * walks (see docs/reliability.md for how to run it longer). In the normal test run this replays the seeds and any
 * committed findings; with {@code JAZZER_FUZZ=1} Jazzer mutates them.
 *
 * <p>Input: byte 0 picks the link type (low 7 bits, modulo the table below; the last entry is an unsupported one)
 * and whether checksums are verified (top bit); bytes 1-2 are a signed 16-bit difference of the wire length from the
 * captured length; the rest is the captured frame. Besides "never throws", each input must decode the same way
 * wherever the frame lies in memory (no read outside it), after any other frame (no state kept), and with checksum
 * verification on or off (apart from the checksum results), and a decoded TCP header must lie inside the frame.
 */
class PacketDecoderFuzzTest
{
    static final int[] LINK_TYPES = {
        LinkType.EN10MB, LinkType.RAW, LinkType.RAW_DLT_12, LinkType.RAW_DLT_14, LinkType.IPV4, LinkType.IPV6,
        LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.NULL, LinkType.LOOP, LinkType.NFLOG, LinkType.FDDI, 147};
    private static final int HEADER = 3;
    /** Guard bytes either side of the frame in the second decoding. */
    private static final int GUARD = 64;

    private static final int CLIENT = 0x0A00_0001;
    private static final int SERVER = 0xC0A8_0102;
    private static final int OUTER_A = 0xAC10_0001;
    private static final int OUTER_B = 0xAC10_0002;

    /** A busy frame decoded between the two decodings of the input: anything it leaves behind shows. */
    private static final byte[] OTHER_FRAME = FrameBuilder.ethernet(ETHERTYPE_IPV6,
        FrameBuilder.ipv6(0x2001_0DB8L << 32, 1, 0xFD00L << 48, 2).fragment(0, true)
            .payload(FrameBuilder.tcp().flags(SYN | ACK).mss(1400).windowScale(9).sackPermitted().timestamps(7, 8)
                .sack(1, 2, 3, 4, 5, 6, 7, 8).payload(33).build()).build());

    @MethodSource("seeds")
    @FuzzTest(maxDuration = "60s")
    void decodesAnyFrameWithoutReadingOutsideIt(final byte[] input)
    {
        if (input.length < HEADER)
        {
            return;
        }
        final int linkType = LINK_TYPES[(input[0] & 0x7F) % LINK_TYPES.length];
        final boolean verify = (input[0] & 0x80) != 0;
        final int captured = input.length - HEADER;
        final int wire = Math.max(0, captured + (short)(((input[1] & 0xFF) << 8) | (input[2] & 0xFF)));
        final String where = "linktype " + linkType + ", captured " + captured + ", wire " + wire;

        // Exactly the captured bytes: a read past them throws.
        final byte[] exact = new byte[captured];
        System.arraycopy(input, HEADER, exact, 0, captured);
        final PacketDecoder decoder = new PacketDecoder();
        decoder.verifyChecksums(verify);
        final DecodedPacket first = new DecodedPacket();
        final DecodeEvent event =
            decode(decoder, MemorySegment.ofArray(exact), 0, captured, wire, linkType, first, where);
        checkOutcome(event, first, captured, wire, where);

        // Inside guard bytes: a read before or after the frame changes the outcome.
        final byte[] guarded = new byte[GUARD + captured + GUARD];
        Arrays.fill(guarded, (byte)0x45);
        System.arraycopy(exact, 0, guarded, GUARD, captured);
        final DecodedPacket second = new DecodedPacket();
        decoder.decode(MemorySegment.ofArray(OTHER_FRAME), 0, OTHER_FRAME.length, OTHER_FRAME.length,
            LinkType.EN10MB, second);
        assertEquals(event, decode(decoder, MemorySegment.ofArray(guarded), GUARD, captured, wire, linkType, second,
            where), where);
        assertSameFields(first, second, true, where);

        // Checksum verification changes nothing but the checksum results.
        final PacketDecoder other = new PacketDecoder();
        other.verifyChecksums(!verify);
        final DecodedPacket third = new DecodedPacket();
        assertEquals(event, decode(other, MemorySegment.ofArray(exact), 0, captured, wire, linkType, third, where),
            where);
        assertSameFields(first, third, false, where);

        if (first.fragmentLength >= 0)
        {
            final Defragmenter defragmenter = new Defragmenter(2);
            for (int i = 0; i < 2; i++)
            {
                final DecodedPacket released = defragmenter.offer(first, event == DecodeEvent.TCP_SEGMENT);
                if (released != null)
                {
                    assertTrue(released.payloadLength >= 0 && released.ipLength >= 0, () -> "reassembled: " + where);
                }
            }
            assertTrue(defragmenter.pending() <= 2, where);
        }
    }

    private static DecodeEvent decode(
        final PacketDecoder decoder, final MemorySegment segment, final long offset, final int captured,
        final int wire, final int linkType, final DecodedPacket out, final String where)
    {
        final DecodeEvent event = decoder.decode(segment, offset, captured, wire, linkType, out);
        assertNotNull(event, where);
        return event;
    }

    private static void checkOutcome(
        final DecodeEvent event, final DecodedPacket p, final int captured, final int wire, final String where)
    {
        if (event != DecodeEvent.TCP_SEGMENT)
        {
            assertTrue(event.kind() == DecodeEvent.Kind.SKIPPED || event.kind() == DecodeEvent.Kind.MALFORMED,
                () -> "a frame that is not tracked ends with a skip or malformed event, not " + event + ": " + where);
            return;
        }
        final long onWire = Math.max(captured, wire);
        assertTrue(p.ipVersion == 4 || p.ipVersion == 6, () -> "ip version: " + where);
        assertTrue(p.srcPort >= 0 && p.srcPort <= 0xFFFF && p.dstPort >= 0 && p.dstPort <= 0xFFFF, where);
        assertTrue(p.flags >= 0 && p.flags <= 0x1FF && p.window >= 0 && p.window <= 0xFFFF, where);
        // The TCP header lies inside the frame: at least its fixed fields were captured, and no more than the frame.
        assertTrue(p.tcpCapturedLength >= 16 && p.tcpCapturedLength <= captured,
            () -> "TCP bytes " + p.tcpCapturedLength + " of a " + captured + "-byte frame: " + where);
        assertTrue(p.ipLength >= 0 && p.ipLength <= onWire, () -> "ip length " + p.ipLength + ": " + where);
        if (p.tcpHeaderComplete)
        {
            assertTrue(p.tcpHeaderLength >= 20 && p.tcpHeaderLength <= 60, () -> "header " + p.tcpHeaderLength);
            assertTrue((long)p.tcpHeaderLength + p.payloadLength <= p.ipLength,
                () -> "header and payload fit the IP length: " + where);
            assertTrue(p.payloadLength >= 0 && p.capturedPayloadLength >= 0 &&
                p.capturedPayloadLength <= p.payloadLength, () -> "payload lengths: " + where);
            assertTrue(p.capturedPayloadLength <= Math.max(0, p.tcpCapturedLength - p.tcpHeaderLength),
                () -> "captured payload inside the captured TCP bytes: " + where);
        }
        else
        {
            assertNotNull(p.warning, () -> "a bogus TCP header is flagged: " + where);
            assertEquals(0, p.payloadLength, () -> "no payload is claimed from a bogus header: " + where);
        }
        assertTrue(p.payloadBeyondLinkLength >= 0 && p.payloadBeyondLinkLength <= p.payloadLength, where);
        assertTrue(p.sackBlockCount >= 0 && p.sackBlockCount <= DecodedPacket.MAX_SACK_BLOCKS, where);
        assertTrue(p.mss >= -1 && p.mss <= 0xFFFF && p.windowScale >= -1 && p.windowScale <= 0xFF, where);
        assertTrue(p.warning == null || p.warning.kind() == DecodeEvent.Kind.WARNING, where);
    }

    /** Every decoded field equal; the checksum results too when {@code checksums}. */
    private static void assertSameFields(
        final DecodedPacket a, final DecodedPacket b, final boolean checksums, final String where)
    {
        final List<String> differences = new ArrayList<>();
        same(differences, "ipVersion", a.ipVersion, b.ipVersion);
        same(differences, "srcHigh", a.srcHigh, b.srcHigh);
        same(differences, "srcLow", a.srcLow, b.srcLow);
        same(differences, "dstHigh", a.dstHigh, b.dstHigh);
        same(differences, "dstLow", a.dstLow, b.dstLow);
        same(differences, "ipLength", a.ipLength, b.ipLength);
        same(differences, "ipFragmented", a.ipFragmented ? 1 : 0, b.ipFragmented ? 1 : 0);
        same(differences, "tunnelId", a.tunnelId, b.tunnelId);
        same(differences, "encapsulations", a.encapsulations, b.encapsulations);
        same(differences, "srcPort", a.srcPort, b.srcPort);
        same(differences, "dstPort", a.dstPort, b.dstPort);
        same(differences, "seq", a.seq, b.seq);
        same(differences, "ack", a.ack, b.ack);
        same(differences, "flags", a.flags, b.flags);
        same(differences, "window", a.window, b.window);
        same(differences, "tcpHeaderLength", a.tcpHeaderLength, b.tcpHeaderLength);
        same(differences, "tcpHeaderComplete", a.tcpHeaderComplete ? 1 : 0, b.tcpHeaderComplete ? 1 : 0);
        same(differences, "payloadLength", a.payloadLength, b.payloadLength);
        same(differences, "payloadBeyondLinkLength", a.payloadBeyondLinkLength, b.payloadBeyondLinkLength);
        same(differences, "capturedPayloadLength", a.capturedPayloadLength, b.capturedPayloadLength);
        same(differences, "mss", a.mss, b.mss);
        same(differences, "windowScale", a.windowScale, b.windowScale);
        same(differences, "sackPermitted", a.sackPermitted ? 1 : 0, b.sackPermitted ? 1 : 0);
        same(differences, "hasTimestamps", a.hasTimestamps ? 1 : 0, b.hasTimestamps ? 1 : 0);
        same(differences, "tsVal", a.tsVal, b.tsVal);
        same(differences, "tsEcr", a.tsEcr, b.tsEcr);
        same(differences, "fastOpen", a.fastOpen ? 1 : 0, b.fastOpen ? 1 : 0);
        same(differences, "sackBlockCount", a.sackBlockCount, b.sackBlockCount);
        for (int i = 0; i < 2 * Math.min(a.sackBlockCount, DecodedPacket.MAX_SACK_BLOCKS); i++)
        {
            same(differences, "sackBlocks[" + i + "]", a.sackBlocks[i], b.sackBlocks[i]);
        }
        same(differences, "fragmentLength", a.fragmentLength, b.fragmentLength);
        if (a.fragmentLength >= 0)
        {
            // The datagram's identity means something only for a fragment (it is not cleared between frames).
            same(differences, "fragmentSrcHigh", a.fragmentSrcHigh, b.fragmentSrcHigh);
            same(differences, "fragmentSrcLow", a.fragmentSrcLow, b.fragmentSrcLow);
            same(differences, "fragmentDstHigh", a.fragmentDstHigh, b.fragmentDstHigh);
            same(differences, "fragmentDstLow", a.fragmentDstLow, b.fragmentDstLow);
            same(differences, "fragmentId", a.fragmentId, b.fragmentId);
            same(differences, "fragmentOffset", a.fragmentOffset, b.fragmentOffset);
            same(differences, "fragmentMore", a.fragmentMore ? 1 : 0, b.fragmentMore ? 1 : 0);
        }
        same(differences, "warning", a.warning == null ? -1 : a.warning.ordinal(),
            b.warning == null ? -1 : b.warning.ordinal());
        same(differences, "ipLengthExceedsFrame", a.ipLengthExceedsFrame ? 1 : 0, b.ipLengthExceedsFrame ? 1 : 0);
        same(differences, "tcpCapturedLength", a.tcpCapturedLength, b.tcpCapturedLength);
        if (checksums)
        {
            same(differences, "ipChecksum", a.ipChecksum, b.ipChecksum);
            same(differences, "tcpChecksum", a.tcpChecksum, b.tcpChecksum);
        }
        if (!differences.isEmpty())
        {
            fail("the same frame decoded differently (" + String.join(", ", differences) + "): " + where);
        }
    }

    private static void same(final List<String> differences, final String field, final long a, final long b)
    {
        if (a != b)
        {
            differences.add(field + " " + a + " vs " + b);
        }
    }

    // ---------------------------------------------------------------- seeds

    /** One fuzz input: the link type's index, a wire length equal to the captured one, the frame. */
    static byte[] input(final int linkType, final byte[] frame)
    {
        int index = -1;
        for (int i = 0; i < LINK_TYPES.length; i++)
        {
            if (LINK_TYPES[i] == linkType)
            {
                index = i;
            }
        }
        assertTrue(index >= 0, "no fuzz index for link type " + linkType);
        return concat(new byte[] {(byte)index, 0, 0}, frame);
    }

    /**
     * Every link type and encapsulation the decoder handles (built by {@link FrameBuilder}), and the distinct frame
     * shapes of the project's sample capture.
     */
    static Stream<byte[]> seeds()
    {
        final byte[] v4 = FrameBuilder.ipv4(CLIENT, SERVER).payload(FrameBuilder.tcp().flags(SYN).mss(1460)
            .sackPermitted().timestamps(1, 0).nop().windowScale(7).build()).build();
        final byte[] v4Data = FrameBuilder.ipv4(CLIENT, SERVER)
            .payload(FrameBuilder.tcp().flags(PSH | ACK).timestamps(5, 6).sack(10, 20).payload(40).build()).build();
        final byte[] v6 = FrameBuilder.ipv6(0x2001_0DB8L << 32, 1, 0xFD00L << 48, 2).hopByHop(0).routing(1)
            .destinationOptions(0).fragment(0, true).authentication(3)
            .payload(FrameBuilder.tcp().flags(ACK).sack(1, 2, 3, 4).payload(12).build()).build();
        final byte[] eth = FrameBuilder.ethernet(ETHERTYPE_IPV4, v4);
        final List<byte[]> seeds = new ArrayList<>();
        seeds.add(input(LinkType.EN10MB, eth));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(ETHERTYPE_IPV4, v4Data)));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(ETHERTYPE_IPV6, v6)));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernetTagged(new int[] {ETHERTYPE_QINQ, ETHERTYPE_VLAN},
            ETHERTYPE_IPV4, v4)));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(ETHERTYPE_MPLS,
            FrameBuilder.mpls(2, true, FrameBuilder.pseudowireControlWord(eth)))));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(ETHERTYPE_MPLS, FrameBuilder.mpls(3, true, v6))));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(ETHERTYPE_PPPOE_SESSION,
            FrameBuilder.pppoe(FrameBuilder.PPP_IPV4, true, v4))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_GRE,
            FrameBuilder.gre(GRE_CHECKSUM | GRE_KEY | GRE_SEQUENCE, ETHERTYPE_IPV6, v6))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_GRE,
            FrameBuilder.gre(GRE_SEQUENCE, ETHERTYPE_ERSPAN_II, FrameBuilder.erspanII(eth)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_GRE,
            FrameBuilder.gre(GRE_SEQUENCE, ETHERTYPE_ERSPAN_III, FrameBuilder.erspanIII(true, eth)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_GRE, FrameBuilder.pptpGre(v4))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_UDP, FrameBuilder.udp(1, 4789, FrameBuilder.vxlan(3, eth)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_UDP, FrameBuilder.udp(1, 6081,
            FrameBuilder.geneve(3, ETHERTYPE_TRANSPARENT_ETHERNET, 2, eth)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_UDP, FrameBuilder.udp(1, 6081,
            FrameBuilder.geneve(4, ETHERTYPE_IPV4, 0, v4)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_UDP, FrameBuilder.udp(1, 4754,
            FrameBuilder.gre(0, ETHERTYPE_IPV4, v4)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_UDP, FrameBuilder.udp(3544, 1,
            FrameBuilder.teredo(true, true, v6)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_UDP, FrameBuilder.udp(2152, 2152,
            FrameBuilder.gtpU(1, true, v4)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_UDP, FrameBuilder.udp(5072, 5072,
            FrameBuilder.ayiya(PROTO_IPV6, v6)))));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_IPV6, v6)));
        seeds.add(input(LinkType.EN10MB, outer(PROTO_IPV4, v4)));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(0x88E7, concat(u32(0x0000_0001), eth))));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(0x8903, concat(u16(0x0001), eth))));
        seeds.add(input(LinkType.EN10MB, FrameBuilder.ethernet(0x8926, concat(u32(0), u16(ETHERTYPE_IPV4), v4))));
        seeds.add(input(LinkType.RAW, v4Data));
        seeds.add(input(LinkType.RAW_DLT_12, v6));
        seeds.add(input(LinkType.RAW_DLT_14, v4));
        seeds.add(input(LinkType.IPV4, v4Data));
        seeds.add(input(LinkType.IPV6, v6));
        seeds.add(input(LinkType.LINUX_SLL, FrameBuilder.sll(ETHERTYPE_IPV4, v4)));
        seeds.add(input(LinkType.LINUX_SLL2, FrameBuilder.sll2(ETHERTYPE_IPV6, v6)));
        seeds.add(input(LinkType.NULL, FrameBuilder.nullLink(2, true, v4)));
        seeds.add(input(LinkType.NULL, FrameBuilder.nullLink(24, false, v6)));
        seeds.add(input(LinkType.LOOP, FrameBuilder.loop(30, v6)));
        seeds.add(input(LinkType.NFLOG, FrameBuilder.nflog(2, v4)));
        seeds.add(input(LinkType.FDDI, FrameBuilder.fddi(ETHERTYPE_IPV4, v4)));
        final Set<String> shapes = new HashSet<>();
        for (final SampleCapture.Frame frame : SampleCapture.frames())
        {
            // One frame per length: the sample's handshakes, data segments, closes and its few non-TCP frames.
            if (shapes.add(frame.linkType() + "/" + frame.data().length) && frame.data().length <= 1600)
            {
                seeds.add(input(frame.linkType(), frame.data()));
            }
        }
        return seeds.stream();
    }

    private static byte[] outer(final int protocol, final byte[] payload)
    {
        return FrameBuilder.ethernet(ETHERTYPE_IPV4, FrameBuilder.ipv4(OUTER_A, OUTER_B).protocol(protocol)
            .payload(payload).build());
    }
}
