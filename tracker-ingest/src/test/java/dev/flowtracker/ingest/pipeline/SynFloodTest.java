package dev.flowtracker.ingest.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.source.FrameDescriptor;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLongArray;

import org.junit.jupiter.api.Test;

/**
 * Ten million SYNs from distinct spoofed sources through the pipeline into a 100,000-flow table: memory stays
 * flat, the table evicts and counts, and every connection still gets its record.
 */
class SynFloodTest
{
    private static final int SYNS = 10_000_000;
    private static final int MAX_FLOWS = 100_000;
    private static final int WORKERS = 2;
    /** Raw IPv4, no link header. */
    private static final int LINKTYPE_RAW = 101;
    private static final long MICROSECOND = 1_000;

    @Test
    void shouldKeepMemoryFlatAndEmitEveryRecordUnderASynFlood() throws IOException
    {
        final AtomicLongArray recordsByReason = new AtomicLongArray(EndReason.values().length);
        final FlowLimits limits = FlowLimits.builder().maxFlows(MAX_FLOWS).build();
        final Pipeline pipeline = new Pipeline(WORKERS, 1 << 14, true, Lifecycle.ZEEK,
            ZeekOptions.builder().ignoreChecksums(true).build(), limits,
            worker -> connection -> recordsByReason.incrementAndGet(connection.endReason().ordinal()));
        final byte[] syn = syn();
        final FrameDescriptor frame =
            new FrameDescriptor().wrap(MemorySegment.ofArray(syn), 0, syn.length, syn.length).linkType(LINKTYPE_RAW);
        long rssAtWarmUp = 0;
        long rssPeak = 0;
        for (int i = 0; i < SYNS; i++)
        {
            // A new source address and port for every SYN: 10.0.0.0/8 sources, ports 1024..65023.
            final int source = 0x0A00_0000 | (i & 0x00FF_FFFF);
            syn[12] = (byte)(source >>> 24);
            syn[13] = (byte)(source >>> 16);
            syn[14] = (byte)(source >>> 8);
            syn[15] = (byte)source;
            final int port = 1024 + (i >>> 24) * 7919 % 64000;
            syn[20] = (byte)(port >>> 8);
            syn[21] = (byte)port;
            pipeline.onFrame(frame.timestampNanos(i * MICROSECOND));
            if (i % 1_000_000 == 999_999)
            {
                final long rss = residentSetBytes();
                if (i == 1_999_999)
                {
                    rssAtWarmUp = rss; // the flow table has been full and recycling for a while
                }
                rssPeak = Math.max(rssPeak, rss);
            }
        }
        pipeline.finish();

        long records = 0;
        for (int i = 0; i < recordsByReason.length(); i++)
        {
            records += recordsByReason.get(i);
        }
        final long evicted = pipeline.totals().flowsRemoved(FlowRemoval.CAPACITY);
        final long timedOut = pipeline.totals().flowsRemoved(FlowRemoval.IDLE_TIMEOUT) +
            pipeline.totals().flowsRemoved(FlowRemoval.EMERGENCY_TIMEOUT);
        System.out.printf(Locale.ROOT, "SynFloodTest: %,d SYNs, capacity %,d: %,d records, %,d evicted for capacity, " +
                "%,d by timeouts, Zeek timers %,d, open at the end %,d; RSS %,d MB after 2 M SYNs, peak %,d MB%n",
            SYNS, MAX_FLOWS, records, evicted, timedOut, recordsByReason.get(EndReason.TIMEOUT.ordinal()),
            recordsByReason.get(EndReason.END_OF_INPUT.ordinal()), rssAtWarmUp >> 20, rssPeak >> 20);

        assertEquals(SYNS, records, "one record per SYN, none lost");
        assertEquals(SYNS, pipeline.stats().tcpSegments());
        assertTrue(evicted > 0, "a full table evicts");
        assertEquals(evicted + pipeline.totals().flowsRemoved(FlowRemoval.EMERGENCY_TIMEOUT),
            recordsByReason.get(EndReason.EVICTED.ordinal()), "every eviction is a record with end_reason evicted");
        assertTrue(pipeline.totals().flowsRemoved(FlowRemoval.CAPACITY, FlowPhase.OPENING) == evicted,
            "they were all SYNs");
        assertTrue(recordsByReason.get(EndReason.END_OF_INPUT.ordinal()) <= MAX_FLOWS + WORKERS,
            "no more open at the end than the table holds");
        assertTrue(rssPeak - rssAtWarmUp < 96L << 20,
            "resident memory grew by " + ((rssPeak - rssAtWarmUp) >> 20) + " MB after the table filled");
    }

    private static long residentSetBytes() throws IOException
    {
        for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
        {
            if (line.startsWith("VmRSS:"))
            {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** A 40-byte IPv4 TCP SYN to 192.0.2.1:80 (checksums are not verified in this test). */
    private static byte[] syn()
    {
        final byte[] p = new byte[40];
        p[0] = 0x45;
        p[3] = 40;
        p[8] = 64;
        p[9] = 6;
        p[16] = (byte)192;
        p[18] = 2;
        p[19] = 1;
        p[23] = 80;
        p[27] = 1;
        p[32] = 0x50;
        p[33] = 0x02;
        p[34] = (byte)0xFF;
        p[35] = (byte)0xFF;
        return p;
    }
}
