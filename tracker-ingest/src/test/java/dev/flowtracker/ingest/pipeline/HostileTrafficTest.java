package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.flow.FlowLimits;
import dev.flowtracker.core.flow.FlowPhase;
import dev.flowtracker.core.flow.FlowRemoval;
import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.ingest.source.FrameDescriptor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Attack traffic through the real pipeline (decode, ring, two shard workers) into a 10,000-flow table: SYN floods
 * from spoofed sources, RST floods, ACK scans, half-open storms, sequence numbers that wrap mid-connection and
 * duplicate storms. In every case the table never holds more than its capacity, removals are counted by reason and
 * phase, emergency mode engages when the table fills, every connection created gets exactly one record (nothing is
 * lost silently), and the few real connections kept busy through the flood come out whole. {@link SynFloodTest}
 * runs the long version of the SYN flood for memory.
 */
class HostileTrafficTest
{
    private static final int MAX_FLOWS = 10_000;
    private static final int WORKERS = 2;
    private static final int LINKTYPE_RAW = 101;
    private static final long MICROSECOND = 1_000;
    private static final long MILLISECOND = 1_000_000;
    private static final int FIN = 0x01;
    private static final int SYN = 0x02;
    private static final int RST = 0x04;
    private static final int PSH = 0x08;
    private static final int ACK = 0x10;
    /** The attacked server, 192.0.2.1:80; real clients come from 198.51.100.0/24. */
    private static final int SERVER = 0xC000_0201;
    private static final int REAL_CLIENTS = 0xC633_6400;

    /** One run: the pipeline, what its records said, and what was seen while feeding it. */
    private static final class Run
    {
        final AtomicLongArray byReason = new AtomicLongArray(EndReason.values().length);
        /** Records of the real (non-attack) connections, by client port. */
        final Map<Integer, String> real = new ConcurrentHashMap<>();
        final Pipeline pipeline = new Pipeline(WORKERS, 1 << 14, true, Lifecycle.ZEEK,
            ZeekOptions.builder().ignoreChecksums(true).build(), FlowLimits.builder().maxFlows(MAX_FLOWS).build(),
            worker -> this::onRecord);
        private final byte[] frame = new byte[40 + 1460];
        private final MemorySegment segment = MemorySegment.ofArray(frame);
        private final FrameDescriptor descriptor = new FrameDescriptor().linkType(LINKTYPE_RAW);
        long frames;
        /** The most flows seen held while the workers were busy: reported, not exact (see {@link #watch}). */
        long peakHeld;
        /** The most flows held at a quiescent moment (ring drained, workers idle): an exact count. */
        long peakHeldQuiet;
        long peakRss;
        long nanos = 1_000_000_000L;

        private void onRecord(final TcpConnection c)
        {
            byReason.incrementAndGet(c.endReason().ordinal());
            if ((c.originatorAddressLow() & 0xFFFF_FF00L) == (REAL_CLIENTS & 0xFFFF_FFFFL))
            {
                real.put(c.originatorPort(), String.format(Locale.ROOT, "%s %s pkts=%d/%d bytes=%d/%d retx=%d ooo=%d",
                    c.endReason().label(), c.zeek().connState(), c.originator().packets(), c.responder().packets(),
                    c.zeek().origBytes(), c.zeek().respBytes(),
                    c.originator().analysisCount(AnalysisFlag.RETRANSMISSION),
                    c.originator().analysisCount(AnalysisFlag.OUT_OF_ORDER)));
            }
        }

        /** Sends one raw IPv4 TCP segment at the current packet time. */
        void send(final int src, final int srcPort, final int dst, final int dstPort, final int flags, final int seq,
            final int ack, final int payload)
        {
            final int length = 40 + payload;
            frame[0] = 0x45;
            frame[2] = (byte)(length >>> 8);
            frame[3] = (byte)length;
            frame[8] = 64;
            frame[9] = 6;
            putInt(12, src);
            putInt(16, dst);
            frame[20] = (byte)(srcPort >>> 8);
            frame[21] = (byte)srcPort;
            frame[22] = (byte)(dstPort >>> 8);
            frame[23] = (byte)dstPort;
            putInt(24, seq);
            putInt(28, ack);
            frame[32] = 0x50;
            frame[33] = (byte)flags;
            frame[34] = (byte)0xFF;
            frame[35] = (byte)0xFF;
            pipeline.onFrame(descriptor.wrap(segment, 0, length, length).timestampNanos(nanos));
            if (++frames % 4096 == 0)
            {
                watch();
            }
            if (frames % 16_384 == 0)
            {
                peakHeldQuiet = Math.max(peakHeldQuiet, heldOnceQuiet());
            }
        }

        private void putInt(final int at, final int value)
        {
            frame[at] = (byte)(value >>> 24);
            frame[at + 1] = (byte)(value >>> 16);
            frame[at + 2] = (byte)(value >>> 8);
            frame[at + 3] = (byte)value;
        }

        /**
         * Samples the flows held and the process's resident memory. The workers' phase counts are read one after
         * the other while they run, so connections moving between phases meanwhile may be counted twice: an
         * estimate (the exact count is {@link #heldOnceQuiet}).
         */
        private void watch()
        {
            peakHeld = Math.max(peakHeld, held());
            if (frames % (1 << 16) == 0)
            {
                peakRss = Math.max(peakRss, residentSetBytes());
            }
        }

        private long held()
        {
            long held = 0;
            for (final FlowPhase phase : FlowPhase.values())
            {
                held += pipeline.totals().activeConnections(phase);
            }
            return held;
        }

        /** The flows held once every published frame has been tracked and the workers wait for more. */
        private long heldOnceQuiet()
        {
            while (pipeline.ringRemaining() < pipeline.ringSize())
            {
                Thread.onSpinWait();
            }
            return held();
        }

        /** A real client's connection from {@code port}: this handshake, {@link #realData}, {@link #realClose}. */
        void realOpen(final int port)
        {
            send(REAL_CLIENTS | 1, port, SERVER, 80, SYN, 1000, 0, 0);
            send(SERVER, 80, REAL_CLIENTS | 1, port, SYN | ACK, 5000, 1001, 0);
            send(REAL_CLIENTS | 1, port, SERVER, 80, ACK, 1001, 5001, 0);
        }

        void realData(final int port, final int round)
        {
            send(REAL_CLIENTS | 1, port, SERVER, 80, ACK | PSH, 1001 + round * 100, 5001, 100);
            send(SERVER, 80, REAL_CLIENTS | 1, port, ACK, 5001, 1001 + (round + 1) * 100, 0);
        }

        void realClose(final int port, final int rounds)
        {
            final int end = 1001 + rounds * 100;
            send(REAL_CLIENTS | 1, port, SERVER, 80, FIN | ACK, end, 5001, 0);
            send(SERVER, 80, REAL_CLIENTS | 1, port, FIN | ACK, 5001, end + 1, 0);
            send(REAL_CLIENTS | 1, port, SERVER, 80, ACK, end + 1, 5002, 0);
        }

        /** Finishes and checks the books every hostile run must keep. */
        Run finishAndCheck(final String name)
        {
            peakHeldQuiet = Math.max(peakHeldQuiet, heldOnceQuiet());
            pipeline.finish();
            peakRss = Math.max(peakRss, residentSetBytes());
            long records = 0;
            for (int i = 0; i < byReason.length(); i++)
            {
                records += byReason.get(i);
            }
            final long capacity = pipeline.totals().flowsRemoved(FlowRemoval.CAPACITY);
            final long emergency = pipeline.totals().flowsRemoved(FlowRemoval.EMERGENCY_TIMEOUT);
            final long idle = pipeline.totals().flowsRemoved(FlowRemoval.IDLE_TIMEOUT);
            System.out.printf(Locale.ROOT, "HostileTrafficTest %s: %,d frames, %,d connections, %,d records " +
                    "(%,d evicted, %,d timeout, %,d fin, %,d rst, %,d end_of_input); removed %,d for capacity, " +
                    "%,d by emergency and %,d by idle timeouts; emergency entered %d times; at most %,d flows held " +
                    "(%,d sampled while busy); flow tables %,d KB off-heap; test JVM peak RSS %,d MB%n",
                name, frames, pipeline.totals().connectionsCreated(), records, reason(EndReason.EVICTED),
                reason(EndReason.TIMEOUT), reason(EndReason.FIN), reason(EndReason.RST),
                reason(EndReason.END_OF_INPUT), capacity, emergency, idle, pipeline.totals().emergencyEntries(),
                peakHeldQuiet, peakHeld, pipeline.totals().flowTableOffHeapBytes() >> 10, peakRss >> 20);

            assertEquals(0, pipeline.workerFailures(), "no worker threw");
            assertEquals(frames, pipeline.stats().tcpSegments(), "every frame decoded as a TCP segment");
            assertEquals(pipeline.totals().connectionsCreated(), records,
                "one record per connection: none lost silently");
            assertTrue(peakHeldQuiet <= MAX_FLOWS, "held " + peakHeldQuiet + " flows in a table of " + MAX_FLOWS);
            assertTrue(reason(EndReason.EVICTED) <= capacity + emergency, "an evicted record was removed by the table");
            assertTrue(capacity + emergency + idle <= records, "each removal is a record");
            return this;
        }

        long reason(final EndReason reason)
        {
            return byReason.get(reason.ordinal());
        }
    }

    /** The real clients' connections came out whole: opened, every round of data, closed by FIN, never evicted. */
    private static void assertRealConnectionsSurvived(final Run run, final int connections, final int rounds)
    {
        assertEquals(connections, run.real.size(), () -> "real connections: " + run.real);
        final String whole = String.format(Locale.ROOT, "fin SF pkts=%d/%d bytes=%d/0 retx=0 ooo=0", 2 + rounds + 2,
            1 + rounds + 1, rounds * 100);
        run.real.forEach((port, record) -> assertEquals(whole, record, "real connection from port " + port));
    }

    /** Interleaves {@code attack} (one attack segment per call, by index) with ten real connections kept busy. */
    private static Run flood(final String name, final int attacks, final AttackStep attack)
    {
        final Run run = new Run();
        final int realConnections = 10;
        int rounds = 0;
        for (int port = 0; port < realConnections; port++)
        {
            run.realOpen(40_000 + port);
        }
        for (int i = 0; i < attacks; i++)
        {
            run.nanos += MICROSECOND;
            attack.send(run, i);
            if (i % 500 == 499)
            {
                // Every half millisecond of packet time each real connection exchanges a round of data.
                for (int port = 0; port < realConnections; port++)
                {
                    run.realData(40_000 + port, rounds);
                }
                rounds++;
            }
        }
        for (int port = 0; port < realConnections; port++)
        {
            run.realClose(40_000 + port, rounds);
        }
        run.finishAndCheck(name);
        assertRealConnectionsSurvived(run, realConnections, rounds);
        return run;
    }

    @FunctionalInterface
    private interface AttackStep
    {
        void send(Run run, int index);
    }

    /** 10.0.0.0/8, a different source per index. */
    private static int spoofed(final int index)
    {
        return 0x0A00_0000 | (index * 2_654_435 & 0x00FF_FFFF);
    }

    @Test
    void synFloodFromSpoofedSourcesEvictsAndCountsAndSparesBusyConnections()
    {
        final int syns = 200_000;
        final Run run = flood("SYN flood", syns,
            (r, i) -> r.send(spoofed(i), 1024 + i % 60_000, SERVER, 80, SYN, i * 7919, 0, 0));
        assertTrue(run.pipeline.totals().emergencyEntries() > 0, "a filling table enters emergency mode");
        assertTrue(run.pipeline.totals().flowsRemoved(FlowRemoval.CAPACITY, FlowPhase.OPENING) +
            run.pipeline.totals().flowsRemoved(FlowRemoval.EMERGENCY_TIMEOUT, FlowPhase.OPENING) >= syns - MAX_FLOWS,
            "the SYNs made room for each other");
        assertEquals(0, run.pipeline.totals().flowsRemoved(FlowRemoval.CAPACITY, FlowPhase.ESTABLISHED),
            "nothing real evicted");
    }

    @Test
    void rstFloodIsTrackedBoundedAndCounted()
    {
        final int rsts = 200_000;
        final Run run = flood("RST flood", rsts,
            (r, i) -> r.send(spoofed(i), 1024 + i % 60_000, SERVER, 80, RST, i * 31, 0, 0));
        assertTrue(run.reason(EndReason.RST) + run.reason(EndReason.EVICTED) + run.reason(EndReason.TIMEOUT) >=
            rsts - MAX_FLOWS, "the resets ended or were removed");
    }

    @Test
    void ackScanFillsTheTableWithMidStreamFlowsThatAreEvictedInTheirPhase()
    {
        final int probes = 200_000;
        final int scanner = 0xCB00_7101;
        final Run run = flood("ACK scan", probes,
            (r, i) -> r.send(scanner, 33_000 + (i & 0x3FFF), 0xC000_0000 | (i >>> 14) + 2, 1 + i % 1024, ACK,
                i, i * 13, 0));
        assertTrue(run.pipeline.totals().flowsRemoved(FlowRemoval.CAPACITY) + run.pipeline.totals().flowsRemoved(
            FlowRemoval.EMERGENCY_TIMEOUT) >= probes - MAX_FLOWS, "the probes were evicted");
    }

    @Test
    void halfOpenStormOfAnsweredSynsNeverCompletedIsEvicted()
    {
        final int clients = 100_000;
        final Run run = flood("half-open storm", 2 * clients, (r, i) ->
        {
            final int client = spoofed(i / 2);
            final int port = 1024 + (i / 2) % 60_000;
            if (i % 2 == 0)
            {
                r.send(client, port, SERVER, 80, SYN, i, 0, 0);
            }
            else
            {
                r.send(SERVER, 80, client, port, SYN | ACK, 77, i, 0);
            }
        });
        assertTrue(run.pipeline.totals().emergencyEntries() > 0, "a filling table enters emergency mode");
        assertEquals(clients + 10, run.pipeline.totals().connectionsCreated(), "one connection per SYN and SYN+ACK");
    }

    @Test
    void sequenceNumbersWrappingMidConnectionAreCountedRight()
    {
        // 30,000 transfers (three times the table) from ISNs 250 bytes before the wrap, a thousand at a time.
        final Run run = new Run();
        final int transfers = 30_000;
        final int batch = 1_000;
        final int isn = 0xFFFF_FF06;
        for (int first = 0; first < transfers; first += batch)
        {
            for (int step = 0; step < 9; step++)
            {
                run.nanos += MILLISECOND;
                for (int c = first; c < first + batch; c++)
                {
                    final int port = 1024 + c % 60_000;
                    final int client = REAL_CLIENTS | (c / 60_000 + 1);
                    final int data = isn + 1 + 100 * Math.min(4, Math.max(0, step - 3));
                    switch (step)
                    {
                        case 0 -> run.send(client, port, SERVER, 80, SYN, isn, 0, 0);
                        case 1 -> run.send(SERVER, 80, client, port, SYN | ACK, isn, isn + 1, 0);
                        case 2 -> run.send(client, port, SERVER, 80, ACK, isn + 1, isn + 1, 0);
                        case 3, 4, 5, 6 -> run.send(client, port, SERVER, 80, ACK | PSH, data, isn + 1, 100);
                        case 7 -> run.send(client, port, SERVER, 80, FIN | ACK, isn + 401, isn + 1, 0);
                        default ->
                        {
                            run.send(SERVER, 80, client, port, FIN | ACK, isn + 1, isn + 402, 0);
                            run.send(client, port, SERVER, 80, ACK, isn + 402, isn + 2, 0);
                        }
                    }
                }
            }
        }
        run.finishAndCheck("wrapping sequence numbers");
        assertEquals(transfers, run.real.size());
        run.real.forEach((port, record) -> assertEquals("fin SF pkts=8/2 bytes=400/0 retx=0 ooo=0", record,
            "transfer from port " + port));
        for (final FlowRemoval removal : FlowRemoval.values())
        {
            assertEquals(0, run.pipeline.totals().flowsRemoved(removal, FlowPhase.OPENING) +
                run.pipeline.totals().flowsRemoved(removal, FlowPhase.ESTABLISHED), "only closed transfers made room");
        }
    }

    @Test
    void duplicateStormsStayOneConnectionEach()
    {
        final Run run = new Run();
        final int duplicates = 100_000;
        run.realOpen(40_000);
        for (int i = 0; i < duplicates; i++)
        {
            run.nanos += MICROSECOND;
            run.realData(40_000, 0); // the same data segment and ACK, again and again
        }
        run.realClose(40_000, 1);
        for (int i = 0; i < duplicates; i++)
        {
            run.nanos += MICROSECOND;
            run.send(REAL_CLIENTS | 1, 40_001, SERVER, 80, SYN, 4242, 0, 0); // one SYN, repeated
        }
        run.finishAndCheck("duplicate storm");
        assertEquals(2, run.pipeline.totals().connectionsCreated(), "duplicates are not new connections");
        assertEquals(String.format(Locale.ROOT, "fin SF pkts=%d/%d bytes=100/0 retx=%d ooo=0", 2 + duplicates + 2,
            1 + duplicates + 1, duplicates - 1), run.real.get(40_000));
        assertTrue(run.real.get(40_001).startsWith("end_of_input S0 pkts=" + duplicates + "/0 "), run.real.get(40_001));
    }

    private static long residentSetBytes()
    {
        try
        {
            for (final String line : Files.readAllLines(Path.of("/proc/self/status")))
            {
                if (line.startsWith("VmRSS:"))
                {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        }
        catch (final IOException e)
        {
            throw new UncheckedIOException(e);
        }
        return 0;
    }
}
