package dev.flowtracker.core.flow;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.tcp.EndReason;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.tcp.TcpState;
import dev.flowtracker.core.tcp.TrafficCounters;
import dev.flowtracker.core.tcp.zeek.ZeekOptions;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * Initial RTT, from the last SYN to the first ACK, in the record and when it is not measured; and the live view as
 * segments arrive: the handshake RTT listener, the traffic counters and the active connections by phase.
 */
class ConnectionTrackerRttTest extends ConnectionTrackerTestSupport
{
    // ================================================================ initial RTT

    @Test
    void shouldMeasureInitialRttFromLastSynToFirstAck()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        client(1000, SYN, CLIENT_ISN, 0, 0);
        server(1010, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(1030, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        client(1040, PSH | ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 10);
        assertEquals(30 * MS, only().initialRttNanos());
    }

    @Test
    void shouldNotMeasureInitialRttWithoutSyn()
    {
        server(0, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        client(10, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        assertEquals(-1, only().initialRttNanos());
    }

    @Test
    void shouldNotMeasureInitialRttBeforeAnyAck()
    {
        client(0, SYN, CLIENT_ISN, 0, 0);
        server(10, SYN | ACK, SERVER_ISN, CLIENT_ISN + 1, 0);
        assertEquals(-1, only().initialRttNanos());
    }

    @Test
    void shouldKeepFirstInitialRttMeasurement()
    {
        handshake(0);
        client(100, SYN, CLIENT_ISN, 0, 0); // retransmitted SYN after the handshake
        client(150, ACK, CLIENT_ISN + 1, SERVER_ISN + 1, 0);
        assertEquals(25 * MS, only().initialRttNanos());
    }

    // ================================================================ live, as segments arrive

    @Test
    void shouldCountSegmentsFlagsStatesAndHandshakeRttLiveAsSegmentsArrive()
    {
        final ConnectionTracker tracker = new ConnectionTracker(4, c -> { }, Lifecycle.ZEEK,
            ZeekOptions.builder().build(), FlowLimits.builder().maxFlows(16).build());
        final List<Long> rtts = new ArrayList<>();
        tracker.onHandshakeRtt(rtts::add);
        final TrafficCounters counters = tracker.counters();
        tracker.onSegment(Segments.ipv4(0, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT,
            SYN, CLIENT_ISN, 0, 0, 1000));
        assertEquals(1, counters.endpoints(TrafficCounters.ORIG, TcpState.SYN_SENT));
        assertEquals(1, tracker.activeConnections(FlowPhase.OPENING));
        tracker.onSegment(Segments.ipv4(3 * MS, SERVER_IP, SERVER_PORT, CLIENT_IP, CLIENT_PORT, SYN | ACK, SERVER_ISN,
            CLIENT_ISN + 1, 0, 1000));
        tracker.onSegment(Segments.ipv4(5 * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1,
            SERVER_ISN + 1, 0, 1000));
        assertEquals(List.of(5 * MS), rtts, "last SYN to first ACK, once");
        assertEquals(1, counters.endpoints(TrafficCounters.ORIG, TcpState.ESTABLISHED));
        assertEquals(1, counters.endpoints(TrafficCounters.RESP, TcpState.ESTABLISHED));
        assertEquals(0, counters.endpoints(TrafficCounters.ORIG, TcpState.SYN_SENT));
        tracker.onSegment(Segments.ipv4(6 * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1,
            SERVER_ISN + 1, 100, 1000));
        tracker.onSegment(Segments.ipv4(300 * MS, CLIENT_IP, CLIENT_PORT, SERVER_IP, SERVER_PORT, ACK, CLIENT_ISN + 1,
            SERVER_ISN + 1, 100, 1000));
        assertAll(
            () -> assertEquals(4, counters.segments(TrafficCounters.ORIG)),
            () -> assertEquals(1, counters.segments(TrafficCounters.RESP)),
            () -> assertEquals(1, counters.analysisEvents(AnalysisFlag.RETRANSMISSION, TrafficCounters.ORIG)),
            () -> assertEquals(0, counters.analysisEvents(AnalysisFlag.RETRANSMISSION, TrafficCounters.RESP)),
            () -> assertEquals(1, tracker.activeConnections(FlowPhase.ESTABLISHED)));
        tracker.finish(EndReason.END_OF_INPUT);
        assertEquals(0, counters.endpoints(TrafficCounters.ORIG, TcpState.ESTABLISHED));
        assertEquals(0, tracker.activeConnections(FlowPhase.ESTABLISHED));
    }
}
