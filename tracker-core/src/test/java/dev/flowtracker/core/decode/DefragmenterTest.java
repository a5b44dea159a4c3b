package dev.flowtracker.core.decode;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

class DefragmenterTest
{
    private static DecodedPacket fragment(
        final int id, final int offset, final int length, final boolean more, final long nanos)
    {
        final DecodedPacket p = new DecodedPacket();
        p.resetDecodedFields();
        p.fragmentSrcLow = 0x0A000001L;
        p.fragmentDstLow = 0x0A000002L;
        p.fragmentId = id;
        p.fragmentOffset = offset;
        p.fragmentLength = length;
        p.fragmentMore = more;
        p.timestampNanos = nanos;
        return p;
    }

    private static DecodedPacket firstTcpFragment(final int id, final int length, final long nanos)
    {
        final DecodedPacket p = fragment(id, 0, length, true, nanos);
        p.ipFragmented = true;
        p.ipLength = length + 20;
        p.tcpHeaderLength = 20;
        p.payloadLength = length - 20;
        p.seq = 1234;
        return p;
    }

    @Test
    void shouldReleaseTheSegmentWithTheWholeLengthWhenTheLastFragmentArrives()
    {
        final Defragmenter defragmenter = new Defragmenter(4);
        assertNull(defragmenter.offer(firstTcpFragment(7, 1480, 100), true));
        assertNull(defragmenter.offer(fragment(7, 1480, 1480, true, 200), false));
        final DecodedPacket whole = defragmenter.offer(fragment(7, 2960, 40, false, 300), false);
        assertNotNull(whole);
        assertEquals(3000 - 20, whole.payloadLength);
        assertEquals(3020, whole.ipLength);
        assertEquals(300, whole.timestampNanos, "the completing frame's time, as tshark reports it");
        assertEquals(1234, whole.seq);
        assertFalse(whole.ipFragmented);
        assertEquals(0, defragmenter.pending());
        assertEquals(1, defragmenter.completed());
    }

    @Test
    void shouldAddTheLaterFragmentsToThePayloadTheAnalysisSeesToo()
    {
        final Defragmenter defragmenter = new Defragmenter(4);
        final DecodedPacket first = firstTcpFragment(8, 1480, 100);
        first.payloadBeyondLinkLength = 6;
        assertNull(defragmenter.offer(first, true));
        final DecodedPacket whole = defragmenter.offer(fragment(8, 1480, 40, false, 200), false);
        assertNotNull(whole);
        assertEquals(1520 - 20, whole.payloadLength);
        assertEquals(1520 - 20 - 6, whole.analysisPayloadLength());
    }

    @Test
    void shouldCompleteWhenTheFirstFragmentArrivesLast()
    {
        final Defragmenter defragmenter = new Defragmenter(4);
        assertNull(defragmenter.offer(fragment(9, 1480, 100, false, 100), false));
        final DecodedPacket whole = defragmenter.offer(firstTcpFragment(9, 1480, 200), true);
        assertNotNull(whole);
        assertEquals(1580 - 20, whole.payloadLength);
        assertEquals(200, whole.timestampNanos);
    }

    @Test
    void shouldKeepDatagramsWithDifferentIdsApart()
    {
        final Defragmenter defragmenter = new Defragmenter(4);
        assertNull(defragmenter.offer(firstTcpFragment(1, 1000, 1), true));
        assertNull(defragmenter.offer(firstTcpFragment(2, 1000, 2), true));
        assertNull(defragmenter.offer(fragment(3, 1000, 10, false, 3), false));
        assertEquals(3, defragmenter.pending());
        assertEquals(1000 + 10 - 20, defragmenter.offer(fragment(2, 1000, 10, false, 4), false).payloadLength);
        assertEquals(2, defragmenter.pending());
    }

    @Test
    void shouldReleaseNothingForADatagramWithoutTcp()
    {
        final Defragmenter defragmenter = new Defragmenter(4);
        assertNull(defragmenter.offer(fragment(5, 0, 1000, true, 1), false));
        assertNull(defragmenter.offer(fragment(5, 1000, 10, false, 2), false));
        assertEquals(0, defragmenter.pending());
        assertEquals(1, defragmenter.completed());
    }

    @Test
    void shouldEvictTheOldestPendingDatagramWhenFull()
    {
        final Defragmenter defragmenter = new Defragmenter(2);
        defragmenter.offer(firstTcpFragment(1, 1000, 1), true);
        defragmenter.offer(firstTcpFragment(2, 1000, 2), true);
        defragmenter.offer(firstTcpFragment(3, 1000, 3), true);
        assertEquals(1, defragmenter.evicted());
        assertEquals(2, defragmenter.pending());
        assertNull(defragmenter.offer(fragment(1, 1000, 10, false, 4), false), "datagram 1 was evicted");
        assertNotNull(defragmenter.offer(fragment(3, 1000, 10, false, 5), false));
    }
}
