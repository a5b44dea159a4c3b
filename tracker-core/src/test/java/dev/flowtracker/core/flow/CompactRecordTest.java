package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.flow.FlowStateCodecTest.Slot;
import dev.flowtracker.core.flow.FlowStateCodecTest.StateComparison;
import dev.flowtracker.core.flow.TestCaptures.Frame;
import dev.flowtracker.core.state.StateBuffer;
import dev.flowtracker.core.tcp.CompactRecord;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpConnection;
import dev.flowtracker.core.tcp.TcpInternals;
import dev.flowtracker.core.tcp.zeek.ZeekInternals;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link CompactRecord}, the flow store's record body: every field comes back exactly, or the record says it does
 * not fit and the store spills the connection's wide state, which comes back exactly too. Real captures fit.
 */
class CompactRecordTest
{
    private static final String[] NOT_ENCODED = {"TcpConnection.scheduledTimerNanos", "ZeekSummary.options"};
    /**
     * Fields whose one-step change ({@link Slot#change}) leaves the compact widths: a history byte that is no
     * letter, a threshold that is no power of ten, and instants and durations that start at {@link Long#MAX_VALUE}
     * and wrap to {@link Long#MIN_VALUE}.
     */
    private static final Set<String> TOO_WIDE_WHEN_CHANGED = Set.of("letters", "scaledThreshold", "attemptAt",
        "deleteAt", "inactivityAt", "rttMinNanos");

    @Test
    void shouldCarryEveryFieldThroughTheCompactRecordOrSayItDoesNotFit()
    {
        int fitted = 0;
        for (final Slot slot : Slot.all())
        {
            final TcpConnection changed = new TcpConnection();
            slot.change(changed);
            final String name = slot.name();
            final byte[] record = new byte[CompactRecord.BYTES];
            final boolean fits = new CompactRecord().encode(changed, new StateBuffer(record));
            if (TOO_WIDE_WHEN_CHANGED.contains(name))
            {
                assertFalse(fits, () -> slot.path() + " should not fit");
                continue;
            }
            assertTrue(fits, () -> slot.path() + " does not fit");
            final TcpConnection decoded = new TcpConnection();
            TcpInternals.setAnalysisCount(decoded.a, 3, 99); // decode assigns every field, whatever the object held
            new CompactRecord().decode(new StateBuffer(record), decoded);
            StateComparison.assertDeepEquals(changed, decoded, slot.path(), NOT_ENCODED);
            fitted++;
        }
        assertTrue(fitted > 200, "fitted " + fitted);
    }

    @Test
    void shouldSayAValueTooWideDoesNotFitAndKeepTheFieldsReadDirectly()
    {
        final TcpConnection connection = established(1_000_000_000L);
        TcpInternals.setPackets(connection.a, 1L << 32);
        final byte[] record = new byte[CompactRecord.BYTES];
        assertFalse(new CompactRecord().encode(connection, new StateBuffer(record)));
        final MemorySegment segment = MemorySegment.ofArray(record);
        assertEquals(connection.firstTimestampNanos, CompactRecord.encodedFirstTimestampNanos(segment, 0));
        assertEquals(connection.generation, CompactRecord.encodedGeneration(segment, 0));
    }

    @Test
    void shouldKeepNanosecondTimesWithin39HoursOfTheLastPacketAndSayWhenOneIsNot()
    {
        final TcpConnection connection = established(1_700_000_000_123_456_789L);
        final long hour = 3_600_000_000_000L;
        connection.idleSinceNanos = connection.lastTimestampNanos + 39 * hour + 1;
        ZeekInternals.setInactivityAt(connection.zeek, connection.lastTimestampNanos - 39 * hour - 7);
        assertRoundTrip(connection);
        connection.idleSinceNanos = connection.lastTimestampNanos + 40 * hour;
        final byte[] record = new byte[CompactRecord.BYTES];
        assertFalse(new CompactRecord().encode(connection, new StateBuffer(record)), "40 hours");
        connection.idleSinceNanos = Long.MIN_VALUE;
        assertFalse(new CompactRecord().encode(connection, new StateBuffer(record)), "a difference past 64 bits");
    }

    /** A flow too wide for its record is spilled on eviction, comes back whole, and its spill is then reused. */
    @Test
    void shouldSpillAFlowTooWideForItsRecordAndBringItBackWhole()
    {
        final FlowStateStore store = new FlowStateStore(16, 1, ZeekOptions.DEFAULTS, false);
        final int wide = store.acquire();
        final TcpConnection original = established(1_000_000_000L);
        TcpInternals.setPackets(original.a, 5_000_000_000L);
        ZeekInternals.setMissedBytesA(original.zeek, 1L << 40);
        TcpInternals.setSynCount(original.b, 70_000);
        final TcpConnection bound = store.bindFresh(wide);
        copy(original, bound);
        final int other = store.acquire();
        copy(established(2_000_000_000L), store.bindFresh(other));
        assertEquals(1, store.spilled(), "evicted and spilled");
        final TcpConnection back = store.bind(wide);
        assertEquals(0, store.spilled(), "bound again: the spill is free");
        StateComparison.assertDeepEquals(original, back, "spilled", NOT_ENCODED);
        final TcpConnection view = store.view(other);
        StateComparison.assertDeepEquals(established(2_000_000_000L), view, "compact", NOT_ENCODED);
        store.bind(other);
        assertEquals(1, store.spilled(), "evicted and spilled again");
        store.release(wide);
        assertEquals(0, store.spilled(), "released: its spill is free");
    }

    /** Every live connection of Zeek's TCP traces, at three points of each, fits its compact record exactly. */
    @Test
    void shouldFitEveryConnectionOfTheCorpusTracesExactly() throws IOException
    {
        final Path pcaps = TestCaptures.corpus().resolve("pcaps");
        assumeTrue(Files.isDirectory(pcaps), () -> "skipped: no corpus at " + pcaps);
        final List<Path> captures;
        try (Stream<Path> files = Files.list(pcaps.resolve("zeek")))
        {
            captures = files
                .filter(f -> f.getFileName().toString().startsWith("tcp__") && TestCaptures.isClassicPcap(f))
                .sorted().toList();
        }
        assertFalse(captures.isEmpty());
        final List<String> spilled = new ArrayList<>();
        int checked = 0;
        for (final Path capture : captures)
        {
            final List<Frame> frames = TestCaptures.read(capture);
            for (final Lifecycle lifecycle : Lifecycle.values())
            {
                final ConnectionTracker tracker = new ConnectionTracker(4, c -> { }, lifecycle, ZeekOptions.DEFAULTS);
                int done = 0;
                for (final int cut : new int[]{frames.size() / 3, frames.size() * 2 / 3, frames.size()})
                {
                    for (; done < cut; done++)
                    {
                        final Frame frame = frames.get(done);
                        tracker.advanceTime(frame.nanos());
                        if (frame.segment() != null)
                        {
                            tracker.onSegment(frame.segment());
                        }
                    }
                    final List<TcpConnection> live = new ArrayList<>();
                    tracker.forEachActive(c -> live.add(wideCopy(c)));
                    for (final TcpConnection c : live)
                    {
                        if (!fitsAndRoundTrips(c))
                        {
                            spilled.add(capture.getFileName() + " " + lifecycle + " at " + cut);
                        }
                        checked++;
                    }
                }
            }
        }
        assertTrue(checked > 50, "checked " + checked);
        assertEquals(List.of(), spilled, "connections that would be spilled");
    }

    private static void assertRoundTrip(final TcpConnection connection)
    {
        assertTrue(fitsAndRoundTrips(connection), "does not fit");
    }

    private static boolean fitsAndRoundTrips(final TcpConnection connection)
    {
        final byte[] record = new byte[CompactRecord.BYTES];
        if (!new CompactRecord().encode(connection, new StateBuffer(record)))
        {
            return false;
        }
        final TcpConnection decoded = new TcpConnection();
        new CompactRecord().decode(new StateBuffer(record), decoded);
        StateComparison.assertDeepEquals(connection, decoded, "compact round trip", NOT_ENCODED);
        return true;
    }

    private static TcpConnection wideCopy(final TcpConnection connection)
    {
        final TcpConnection copy = new TcpConnection();
        copy(connection, copy);
        return copy;
    }

    private static void copy(final TcpConnection from, final TcpConnection to)
    {
        final ByteBuffer buffer = ByteBuffer.allocate(FlowStateCodec.MAX_ENCODED_BYTES);
        FlowStateCodec.encode(from, buffer);
        FlowStateCodec.decode(buffer.flip(), to);
    }

    /** A connection after a handshake and some data, its first packet at {@code nanos}. */
    private static TcpConnection established(final long nanos)
    {
        final List<TcpConnection> live = new ArrayList<>();
        final ConnectionTracker tracker = new ConnectionTracker(4, c -> { });
        final int[][] packets = {
            {1, Tcp.SYN, 1000, 0, 0}, {0, Tcp.SYN | Tcp.ACK, 5000, 1001, 0}, {1, Tcp.ACK, 1001, 5001, 0},
            {1, Tcp.ACK | Tcp.PSH, 1001, 5001, 100}, {0, Tcp.ACK, 5001, 1101, 0}};
        long time = nanos;
        for (final int[] s : packets)
        {
            final DecodedPacket p = new DecodedPacket();
            p.resetDecodedFields();
            p.timestampNanos = time;
            time += 1_000_000L;
            p.ipVersion = 4;
            p.srcLow = s[0] == 1 ? 1 : 2;
            p.dstLow = s[0] == 1 ? 2 : 1;
            p.srcPort = s[0] == 1 ? 40_000 : 80;
            p.dstPort = s[0] == 1 ? 80 : 40_000;
            p.flags = s[1];
            p.seq = s[2];
            p.ack = s[3];
            p.payloadLength = s[4];
            p.capturedPayloadLength = s[4];
            p.window = 65535;
            p.mss = 1460;
            p.tcpHeaderLength = 20;
            p.tcpHeaderComplete = true;
            p.ipLength = 40 + s[4];
            p.tcpCapturedLength = 20 + s[4];
            tracker.onSegment(p);
        }
        tracker.forEachActive(c -> live.add(wideCopy(c)));
        assertEquals(1, live.size());
        return live.get(0);
    }
}
