package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.foreign.Arena;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The TCP-only filter, run by the kernel itself: attached with SO_ATTACH_FILTER to one end of an AF_UNIX datagram
 * socket pair, it sees each datagram sent from the other end as a packet starting at offset 0, just as a packet
 * socket's filter sees a frame starting at its Ethernet header; a datagram it rejects is silently dropped. (The
 * kernel's verifier accepting the program is part of the test.) No privileges needed.
 */
class TcpOnlyFilterTest
{
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int ICMP = 1;
    private static final int ICMPV6 = 58;
    private int sender = -1;
    private int receiver = -1;

    @BeforeEach
    void attachFilterToADatagramPair() throws Exception
    {
        assumeTrue(System.getProperty("os.name", "").startsWith("Linux"), "Linux only");
        final int[] pair = TestLibc.datagramPair();
        sender = pair[0];
        receiver = pair[1];
        try (Arena arena = Arena.ofConfined())
        {
            Libc.setsockopt(receiver, Libc.SOL_SOCKET, Libc.SO_ATTACH_FILTER,
                TcpOnlyFilter.program().toSockFprog(arena), "SO_ATTACH_FILTER");
        }
    }

    @AfterEach
    void closePair() throws Exception
    {
        if (sender >= 0)
        {
            Libc.close(sender);
            Libc.close(receiver);
        }
    }

    @Test
    void shouldPassTcpOverIpv4AndIpv6WithZeroOneOrTwoVlanTags() throws Exception
    {
        final List<byte[]> frames = new ArrayList<>();
        for (final byte[] l3 : List.of(ipv4(TCP), ipv6(TCP, new int[0]), ipv4Fragment(TCP)))
        {
            frames.add(ethernet(l3));
            frames.add(ethernet(l3, 0x8100));
            frames.add(ethernet(l3, 0x88A8));
            frames.add(ethernet(l3, 0x9100));
            frames.add(ethernet(l3, 0x88A8, 0x8100));
            frames.add(ethernet(l3, 0x8100, 0x8100));
        }
        for (final byte[] frame : frames)
        {
            TestLibc.send(sender, frame);
            assertArrayEquals(frame, TestLibc.receiveNow(receiver), "passed whole");
        }
    }

    @Test
    void shouldPassTcpAfterAnIpv6FragmentOrOneOptionsHeader() throws Exception
    {
        final List<byte[]> frames = List.of(
            ethernet(ipv6(44, new int[] {TCP})),             // fragment header, then TCP
            ethernet(ipv6(0, new int[] {TCP})),              // hop-by-hop, then TCP
            ethernet(ipv6(60, new int[] {TCP}), 0x8100),     // destination options, tagged
            ethernet(ipv6(43, new int[] {TCP})),             // routing
            ethernet(ipv6(0, new int[] {44, TCP})));         // hop-by-hop, fragment, TCP
        for (final byte[] frame : frames)
        {
            TestLibc.send(sender, frame);
            assertArrayEquals(frame, TestLibc.receiveNow(receiver));
        }
    }

    @Test
    void shouldDropEverythingElse() throws Exception
    {
        final List<byte[]> frames = List.of(
            ethernet(ipv4(UDP)), ethernet(ipv4(ICMP)), ethernet(ipv4(UDP), 0x8100),
            ethernet(ipv6(UDP, new int[0])), ethernet(ipv6(ICMPV6, new int[0]), 0x88A8, 0x8100),
            ethernet(ipv6(44, new int[] {UDP})), ethernet(ipv6(0, new int[] {ICMPV6})),
            ethernet(ipv6(0, new int[] {60, TCP})),          // two options headers: beyond the filter, documented
            ethernet(ipv4(TCP), 0x8100, 0x8100, 0x8100),     // three tags: beyond the filter
            arp(), mpls(ipv4(TCP)),                          // TCP inside MPLS: use no filter there
            new byte[10]);                                   // shorter than an Ethernet header
        for (final byte[] frame : frames)
        {
            TestLibc.send(sender, frame);
        }
        assertNull(TestLibc.receiveNow(receiver), "nothing passed");
    }

    @Test
    void shouldAssembleForwardJumpsOnly()
    {
        final ClassicBpf.Program program = TcpOnlyFilter.program();
        for (int i = 0; i < program.length(); i++)
        {
            if ((program.code(i) & 0x07) == ClassicBpf.JMP)
            {
                final int target = i + 1 + Math.max(program.jumpTrue(i), program.jumpFalse(i));
                assertEquals(true, target < program.length(), "instruction " + i + " jumps inside the program");
            }
        }
        assertEquals(ClassicBpf.RET, program.code(program.length() - 1) & 0x07, "ends with a return");
        final ClassicBpf backwards = new ClassicBpf().label("top").jump("top");
        assertThrows(IllegalStateException.class, backwards::build);
        assertThrows(IllegalStateException.class, () -> new ClassicBpf().jump("nowhere").build());
    }

    /** An Ethernet frame carrying {@code l3}, with the given tag TPIDs (outermost first; VLAN ids 100, 101...). */
    private static byte[] ethernet(final byte[] l3, final int... tpids)
    {
        final int etherType = (l3[0] & 0xF0) == 0x60 ? 0x86DD : 0x0800;
        final byte[] frame = new byte[12 + 4 * tpids.length + 2 + l3.length];
        frame[0] = 2;
        frame[6] = 2;
        frame[11] = 1;
        int at = 12;
        for (int i = 0; i < tpids.length; i++)
        {
            frame[at++] = (byte)(tpids[i] >>> 8);
            frame[at++] = (byte)tpids[i];
            frame[at++] = 0;
            frame[at++] = (byte)(100 + i);
        }
        frame[at++] = (byte)(etherType >>> 8);
        frame[at++] = (byte)etherType;
        System.arraycopy(l3, 0, frame, at, l3.length);
        return frame;
    }

    private static byte[] ipv4(final int protocol)
    {
        final byte[] packet = new byte[40];
        packet[0] = 0x45;
        packet[3] = 40;
        packet[8] = 64;
        packet[9] = (byte)protocol;
        return packet;
    }

    /** A non-first fragment: still protocol 6, no TCP header. */
    private static byte[] ipv4Fragment(final int protocol)
    {
        final byte[] packet = ipv4(protocol);
        packet[6] = 0x00;
        packet[7] = 0x10; // offset 16 * 8
        return packet;
    }

    /**
     * An IPv6 packet whose next header is {@code next}, followed by extension headers: {@code chain} lists what each
     * extension header announces next (the last is the transport). Options headers are 8 bytes, fragment headers 8.
     */
    private static byte[] ipv6(final int next, final int[] chain)
    {
        final byte[] packet = new byte[40 + 8 * chain.length + 20];
        packet[0] = 0x60;
        packet[6] = (byte)next;
        packet[7] = 64;
        for (int i = 0; i < chain.length; i++)
        {
            packet[40 + 8 * i] = (byte)chain[i]; // next header; hdr ext len 0 = 8 bytes
        }
        return packet;
    }

    /** One MPLS label (bottom of stack) over {@code l3}. */
    private static byte[] mpls(final byte[] l3)
    {
        final byte[] frame = new byte[12 + 2 + 4 + l3.length];
        frame[12] = (byte)0x88;
        frame[13] = 0x47;
        frame[16] = 0x01; // bottom of stack
        frame[17] = 64;
        System.arraycopy(l3, 0, frame, 18, l3.length);
        return frame;
    }

    private static byte[] arp()
    {
        final byte[] frame = new byte[42];
        frame[12] = 0x08;
        frame[13] = 0x06;
        return frame;
    }
}
