package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;
import dev.flowtracker.core.wire.Tcp;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The bounded flow table: capacity, least-recently-active eviction, idle timeouts per phase, emergency mode. */
class BoundedFlowTableTest
{
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
    private static final long SERVER_IP = 0xC0A8_0102L;
    private static final int SERVER_PORT = 80;

    /** What a connection looked like when emitted (the object itself is recycled). */
    record Ended(int clientPort, long clientIp, EndReason reason, String history, long packets)
    {
    }

    private final List<Ended> ended = new ArrayList<>();

    private ConnectionTracker tracker(final FlowLimits limits, final Lifecycle lifecycle)
    {
        return new ConnectionTracker(16, c -> ended.add(new Ended(c.originatorPort(), c.originatorAddressLow(),
            c.endReason(), c.zeek().history(), c.originator().packets() + c.responder().packets())),
            lifecycle, ZeekOptions.DEFAULTS, limits);
    }

    private static DecodedPacket segment(
        final long nanos, final long srcIp, final int srcPort, final long dstIp, final int dstPort, final int flags,
        final int seq, final int ack, final int payload)
    {
        return Segments.ipv4(nanos, srcIp, srcPort, dstIp, dstPort, flags, seq, ack, payload, 65535);
    }

    private static long client(final int n)
    {
        return 0x0A00_0000L + n;
    }

    private static void syn(final ConnectionTracker tracker, final long nanos, final int n)
    {
        tracker.onSegment(segment(nanos, client(n), 40000 + n, SERVER_IP, SERVER_PORT, Tcp.SYN, 1000 * n, 0, 0));
    }

    /** A full open: SYN, SYN+ACK, ACK within a millisecond of {@code nanos}. */
    private static void open(final ConnectionTracker tracker, final long nanos, final int n)
    {
        final int isn = 1000 * n;
        tracker.onSegment(segment(nanos, client(n), 40000 + n, SERVER_IP, SERVER_PORT, Tcp.SYN, isn, 0, 0));
        tracker.onSegment(segment(nanos + 100_000, SERVER_IP, SERVER_PORT, client(n), 40000 + n, Tcp.SYN | Tcp.ACK,
            7, isn + 1, 0));
        tracker.onSegment(segment(nanos + 200_000, client(n), 40000 + n, SERVER_IP, SERVER_PORT, Tcp.ACK, isn + 1,
            8, 0));
    }

    private static void data(final ConnectionTracker tracker, final long nanos, final int n, final int offset)
    {
        tracker.onSegment(segment(nanos, client(n), 40000 + n, SERVER_IP, SERVER_PORT, Tcp.ACK | Tcp.PSH,
            1000 * n + 1 + offset, 8, 10));
    }

    /** FIN each way and the last ACK, starting at {@code nanos}, after {@code sent} payload bytes from the client. */
    private static void close(final ConnectionTracker tracker, final long nanos, final int n, final int sent)
    {
        final int clientFinSeq = 1000 * n + 1 + sent;
        tracker.onSegment(segment(nanos, client(n), 40000 + n, SERVER_IP, SERVER_PORT, Tcp.FIN | Tcp.ACK,
            clientFinSeq, 8, 0));
        tracker.onSegment(segment(nanos + 100_000, SERVER_IP, SERVER_PORT, client(n), 40000 + n, Tcp.FIN | Tcp.ACK,
            8, clientFinSeq + 1, 0));
        tracker.onSegment(segment(nanos + 200_000, client(n), 40000 + n, SERVER_IP, SERVER_PORT, Tcp.ACK,
            clientFinSeq + 1, 9, 0));
    }

    private static FlowLimits.Builder limits(final int maxFlows)
    {
        // Thresholds at 100 % keep emergency mode out of the tests that are not about it.
        return FlowLimits.builder().maxFlows(maxFlows).emergencyThresholds(100, 100);
    }

    private List<Integer> endedPorts()
    {
        return ended.stream().map(e -> e.clientPort() - 40000).toList();
    }

    @ParameterizedTest
    @EnumSource(Lifecycle.class)
    void shouldEvictTheLeastRecentlyActiveConnectionWhenFull(final Lifecycle lifecycle)
    {
        final ConnectionTracker tracker = tracker(limits(4).build(), lifecycle);
        for (int n = 1; n <= 4; n++)
        {
            open(tracker, n * SECOND, n);
        }
        data(tracker, 5 * SECOND, 1, 0); // connection 1 is now the most recently active

        open(tracker, 6 * SECOND, 5);
        open(tracker, 7 * SECOND, 6);

        assertEquals(List.of(2, 3), endedPorts(), "the two least recently active go, not the oldest");
        assertTrue(ended.stream().allMatch(e -> e.reason() == EndReason.EVICTED));
        assertEquals(3, ended.get(0).packets(), "the evicted record still carries its counts");
        assertEquals(4, tracker.activeConnections());
        assertEquals(2, tracker.removed(FlowRemoval.CAPACITY, FlowPhase.ESTABLISHED));
        assertEquals(0, tracker.removed(FlowRemoval.CAPACITY, FlowPhase.OPENING));

        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(List.of(2, 3, 1, 4, 5, 6), endedPorts(), "every connection is emitted exactly once");
    }

    @Test
    void shouldExpireAnUnansweredSynAfterTheOpeningTimeout()
    {
        final ConnectionTracker tracker = tracker(limits(100).build(), Lifecycle.TSHARK);
        syn(tracker, 0, 1);
        open(tracker, SECOND, 2);

        tracker.advanceTime(30 * SECOND - 1);
        assertTrue(ended.isEmpty(), "not before 30 s");
        tracker.advanceTime(30 * SECOND);

        assertEquals(List.of(new Ended(40001, client(1), EndReason.TIMEOUT, "S", 1)), ended);
        assertEquals(1, tracker.removed(FlowRemoval.IDLE_TIMEOUT, FlowPhase.OPENING));
        assertEquals(1, tracker.activeConnections(), "the established connection stays");
    }

    @Test
    void shouldExpireAnIdleEstablishedConnectionAfterTheEstablishedTimeout()
    {
        final ConnectionTracker tracker = tracker(
            limits(100).timeout(FlowPhase.ESTABLISHED, 600 * SECOND).build(), Lifecycle.TSHARK);
        open(tracker, 0, 1);
        data(tracker, 500 * SECOND, 1, 0); // activity restarts the idle clock

        tracker.advanceTime(1_000 * SECOND);
        assertTrue(ended.isEmpty(), "idle for 500 s only");
        tracker.advanceTime(1_100 * SECOND + 200_000);

        assertEquals(1, ended.size());
        assertEquals(EndReason.TIMEOUT, ended.getFirst().reason());
        assertEquals(1, tracker.removed(FlowRemoval.IDLE_TIMEOUT, FlowPhase.ESTABLISHED));
    }

    @Test
    void shouldLetAClosedConnectionLingerForTheClosedTimeoutOnly()
    {
        final ConnectionTracker tracker = tracker(limits(100).build(), Lifecycle.TSHARK);
        open(tracker, 0, 1);
        close(tracker, SECOND, 1, 0);

        tracker.advanceTime(11 * SECOND);
        assertTrue(ended.isEmpty(), "closed at 1.0002 s, 9.9998 s ago");
        tracker.advanceTime(11 * SECOND + 200_000);

        assertEquals(1, ended.size());
        assertEquals(EndReason.FIN, ended.getFirst().reason(), "a closed connection keeps its own end reason");
        assertEquals(1, tracker.removed(FlowRemoval.IDLE_TIMEOUT, FlowPhase.CLOSED));
    }

    @Test
    void shouldSwitchToEmergencyTimeoutsWhenNearlyFullAndBackWhenDrained()
    {
        final FlowLimits limits = FlowLimits.builder().maxFlows(10).emergencyThresholds(80, 40)
            .emergencyTimeout(FlowPhase.OPENING, 2 * SECOND).build();
        final ConnectionTracker tracker = tracker(limits, Lifecycle.TSHARK);
        for (int n = 1; n <= 7; n++)
        {
            syn(tracker, n * 100_000_000L, n);
        }
        assertFalse(tracker.inEmergency(), "70 % full");
        syn(tracker, SECOND, 8);
        assertTrue(tracker.inEmergency(), "80 % full");
        assertEquals(1, tracker.emergencyEntries());

        tracker.advanceTime(2 * SECOND + 500_000_000L);

        // SYNs idle for 2 s or more go, oldest first, until the table is below 40 %: then the normal 30 s applies.
        assertEquals(List.of(1, 2, 3, 4, 5), endedPorts());
        assertTrue(ended.stream().allMatch(e -> e.reason() == EndReason.EVICTED));
        assertEquals(5, tracker.removed(FlowRemoval.EMERGENCY_TIMEOUT, FlowPhase.OPENING));
        assertFalse(tracker.inEmergency(), "below 40 % again");
        assertEquals(3, tracker.activeConnections());
    }

    @Test
    void shouldRecycleSlotsWithoutCarryingStateOver()
    {
        final ConnectionTracker bounded = tracker(limits(2).build(), Lifecycle.TSHARK);
        final List<Ended> fromUnbounded = new ArrayList<>();
        final ConnectionTracker unbounded = new ConnectionTracker(16, c -> fromUnbounded.add(new Ended(
            c.originatorPort(), c.originatorAddressLow(), c.endReason(), c.zeek().history(),
            c.originator().packets() + c.responder().packets())), Lifecycle.TSHARK, ZeekOptions.DEFAULTS);
        for (final ConnectionTracker t : List.of(bounded, unbounded))
        {
            // Each connection closes and lingers out before the next needs its slot.
            for (int n = 1; n <= 6; n++)
            {
                final long start = n * 100 * SECOND;
                open(t, start, n);
                data(t, start + SECOND, n, 0);
                close(t, start + 2 * SECOND, n, 10);
            }
            t.finish(EndReason.END_OF_INPUT);
        }
        assertEquals(fromUnbounded, ended, "a recycled connection starts from nothing");
        assertEquals(5, bounded.removed(FlowRemoval.IDLE_TIMEOUT, FlowPhase.CLOSED));
    }

    @Test
    void shouldKeepTheSlotAcrossPortReuse()
    {
        final ConnectionTracker tracker = tracker(limits(1).build(), Lifecycle.TSHARK);
        open(tracker, 0, 1);
        close(tracker, SECOND, 1, 0);
        // The same 4-tuple with a new ISN: a new connection in the same, only, slot; nothing is evicted.
        tracker.onSegment(segment(2 * SECOND, client(1), 40001, SERVER_IP, SERVER_PORT, Tcp.SYN, 555_555, 0, 0));
        tracker.finish(EndReason.END_OF_INPUT);

        assertEquals(List.of(EndReason.FIN, EndReason.END_OF_INPUT), ended.stream().map(Ended::reason).toList());
        assertEquals(0, tracker.removed(FlowRemoval.CAPACITY, FlowPhase.CLOSED));
        assertEquals("S", ended.get(1).history());
    }

    @Test
    void shouldRejectNonsenseLimits()
    {
        assertThrows(IllegalArgumentException.class, () -> FlowLimits.builder().maxFlows(0));
        assertThrows(IllegalArgumentException.class, () -> FlowLimits.builder().timeout(FlowPhase.CLOSED, 0));
        assertThrows(IllegalArgumentException.class, () -> FlowLimits.builder().emergencyThresholds(50, 80));
    }

    @Test
    void shouldSplitCapacityBetweenShards()
    {
        final FlowLimits limits = FlowLimits.builder().maxFlows(10).build();
        assertEquals(4, limits.perShard(3).maxFlows());
        assertEquals(limits.timeoutNanos(FlowPhase.OPENING), limits.perShard(3).timeoutNanos(FlowPhase.OPENING));
        assertEquals(0, FlowLimits.UNBOUNDED.perShard(3).maxFlows());
    }
}
