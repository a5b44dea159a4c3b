package dev.flowtracker.ingest.source.mirror;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** VXLAN and Geneve headers: every length bounds-checked, every bad datagram a counted reason. */
class DecapsulatorTest
{
    private static final int FRAME = 60;

    /** A datagram: {@code header} bytes of header space, then a {@code frame}-byte inner frame. */
    private static MemorySegment datagram(final int header, final int frame)
    {
        final MemorySegment segment = MemorySegment.ofArray(new byte[header + frame]);
        for (int i = 0; i < frame; i++)
        {
            segment.set(ValueLayout.JAVA_BYTE, header + i, (byte)i);
        }
        return segment;
    }

    @Test
    void shouldFindTheInnerFrameAndVniOfAVxlanDatagram()
    {
        final MemorySegment d = datagram(VxlanHeader.LENGTH, FRAME);
        VxlanHeader.write(d, 0, 0xABCDEF);
        final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.VXLAN);
        assertEquals(MirrorCounter.FRAMES, decapsulator.decode(d, 0, (int)d.byteSize()));
        assertEquals(VxlanHeader.LENGTH, decapsulator.frameOffset);
        assertEquals(FRAME, decapsulator.frameLength);
        assertEquals(0xABCDEF, decapsulator.vni);
    }

    @Test
    void shouldIgnoreVxlanReservedBitsButRequireTheIFlag()
    {
        final MemorySegment d = datagram(VxlanHeader.LENGTH, FRAME);
        VxlanHeader.write(d, 0, 7);
        d.set(ValueLayout.JAVA_BYTE, 0, (byte)0xFF); // every flag, reserved ones too
        d.set(ValueLayout.JAVA_BYTE, 7, (byte)0xFF); // the reserved byte after the VNI
        final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.VXLAN);
        assertEquals(MirrorCounter.FRAMES, decapsulator.decode(d, 0, (int)d.byteSize()));
        assertEquals(7, decapsulator.vni);
        d.set(ValueLayout.JAVA_BYTE, 0, (byte)(0xFF & ~VxlanHeader.I_FLAG));
        assertEquals(MirrorCounter.VXLAN_NO_VNI, decapsulator.decode(d, 0, (int)d.byteSize()));
    }

    @Test
    void shouldCountShortVxlanDatagrams()
    {
        final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.VXLAN);
        final MemorySegment d = datagram(VxlanHeader.LENGTH, 13);
        VxlanHeader.write(d, 0, 1);
        assertEquals(MirrorCounter.TOO_SHORT, decapsulator.decode(d, 0, 0));
        assertEquals(MirrorCounter.TOO_SHORT, decapsulator.decode(d, 0, 7));
        assertEquals(MirrorCounter.INNER_FRAME_TOO_SHORT, decapsulator.decode(d, 0, 8));
        assertEquals(MirrorCounter.INNER_FRAME_TOO_SHORT, decapsulator.decode(d, 0, 8 + 13));
    }

    @Test
    void shouldSkipGeneveOptionsToTheInnerFrame()
    {
        final int words = 5;
        final MemorySegment d = datagram(GeneveHeader.BASE_LENGTH + words * 4, FRAME);
        GeneveHeader.write(d, 0, MirrorOptions.MAX_VNI, words);
        final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.GENEVE);
        assertEquals(MirrorCounter.FRAMES, decapsulator.decode(d, 0, (int)d.byteSize()));
        assertEquals(GeneveHeader.BASE_LENGTH + words * 4, decapsulator.frameOffset);
        assertEquals(FRAME, decapsulator.frameLength);
        assertEquals(MirrorOptions.MAX_VNI, decapsulator.vni);
    }

    @Test
    void shouldCountGeneveOptionsThatRunPastTheDatagram()
    {
        final MemorySegment d = datagram(GeneveHeader.MAX_LENGTH, 0);
        GeneveHeader.write(d, 0, 1, 63);
        final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.GENEVE);
        assertEquals(MirrorCounter.GENEVE_OPTIONS_TRUNCATED, decapsulator.decode(d, 0, GeneveHeader.MAX_LENGTH - 1));
        // Options that end exactly at the end leave no frame.
        assertEquals(MirrorCounter.INNER_FRAME_TOO_SHORT, decapsulator.decode(d, 0, GeneveHeader.MAX_LENGTH));
        assertEquals(MirrorCounter.TOO_SHORT, decapsulator.decode(d, 0, GeneveHeader.BASE_LENGTH - 1));
    }

    @Test
    void shouldCountBadGeneveVersionsAndSkipControlAndNonEthernetPayloads()
    {
        final MemorySegment d = datagram(GeneveHeader.BASE_LENGTH, FRAME);
        final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.GENEVE);
        GeneveHeader.write(d, 0, 1, 0);
        d.set(ValueLayout.JAVA_BYTE, 0, (byte)0x40); // version 1
        assertEquals(MirrorCounter.GENEVE_BAD_VERSION, decapsulator.decode(d, 0, (int)d.byteSize()));
        GeneveHeader.write(d, 0, 1, 0);
        d.set(ValueLayout.JAVA_BYTE, 1, (byte)GeneveHeader.CONTROL_FLAG);
        assertEquals(MirrorCounter.GENEVE_CONTROL, decapsulator.decode(d, 0, (int)d.byteSize()));
        GeneveHeader.write(d, 0, 1, 0);
        d.set(ValueLayout.JAVA_BYTE, 1, (byte)GeneveHeader.CRITICAL_FLAG); // read regardless
        assertEquals(MirrorCounter.FRAMES, decapsulator.decode(d, 0, (int)d.byteSize()));
        GeneveHeader.write(d, 0, 1, 0);
        d.set(ValueLayout.JAVA_BYTE, 2, (byte)0x08); // protocol type 0x0800, IPv4
        d.set(ValueLayout.JAVA_BYTE, 3, (byte)0x00);
        assertEquals(MirrorCounter.GENEVE_NOT_ETHERNET, decapsulator.decode(d, 0, (int)d.byteSize()));
    }

    @Test
    void shouldDecodeAtAnOffsetInTheSegment()
    {
        final int at = 100;
        final MemorySegment d = datagram(at + VxlanHeader.LENGTH, FRAME);
        VxlanHeader.write(d, at, 99);
        final Decapsulator decapsulator = new Decapsulator(MirrorProtocol.VXLAN);
        assertEquals(MirrorCounter.FRAMES, decapsulator.decode(d, at, VxlanHeader.LENGTH + FRAME));
        assertEquals(at + VxlanHeader.LENGTH, decapsulator.frameOffset);
        assertEquals(99, decapsulator.vni);
    }

    @Test
    void shouldRejectVnisWiderThan24BitsWhenWriting()
    {
        final MemorySegment d = datagram(GeneveHeader.MAX_LENGTH, 0);
        assertThrows(IllegalArgumentException.class, () -> VxlanHeader.write(d, 0, 1 << 24));
        assertThrows(IllegalArgumentException.class, () -> VxlanHeader.write(d, 0, -1));
        assertThrows(IllegalArgumentException.class, () -> GeneveHeader.write(d, 0, 1, 64));
    }
}
