package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.tcp.AnalysisFlag;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link FlowFilter}'s conditions on {@link FlowFacts}, at the edges of prefixes, ports and counts. */
class FlowFilterTest
{
    private static final long V6_HIGH = 0x2001_0db8_0000_0001L; // 2001:db8:0:1::/64
    private static final long V6_LOW = 0x8000_0000_0000_0005L;

    @Test
    void shouldMatchIpv6NetworksAtEveryPrefixBoundary()
    {
        final FlowFacts f = facts(6, V6_HIGH, V6_LOW, 0, 1);
        for (final int prefix : new int[] {0, 1, 16, 63, 64, 65, 127, 128})
        {
            assertTrue(net6(V6_HIGH, V6_LOW, prefix).matches(f), "/" + prefix);
        }
        assertFalse(net6(V6_HIGH ^ 1, V6_LOW, 64).matches(f), "the 64th bit differs");
        assertTrue(net6(V6_HIGH ^ 1, V6_LOW, 63).matches(f), "the 64th bit is outside /63");
        assertFalse(net6(V6_HIGH, V6_LOW ^ Long.MIN_VALUE, 65).matches(f), "the 65th bit differs");
        assertTrue(net6(V6_HIGH, V6_LOW ^ Long.MIN_VALUE, 64).matches(f));
        assertFalse(net6(V6_HIGH, V6_LOW ^ 1, 128).matches(f), "the last bit differs");
        assertTrue(net6(V6_HIGH, V6_LOW ^ 1, 127).matches(f));
        assertFalse(net4(0, 0).matches(f), "an IPv4 network matches no IPv6 address");
    }

    @Test
    void shouldMatchIpv4NetworksAndEitherEndpoint()
    {
        final FlowFacts f = facts(4, 0, 0x0A00_0005L, 0, 0xC0A8_0101L);
        assertTrue(net4(0, 0).matches(f));
        assertTrue(net4(0x0A00_0004L, 31).matches(f));
        assertFalse(net4(0x0A00_0006L, 31).matches(f));
        assertTrue(net4(0xC0A8_0101L, 32).matches(f), "the responder's address");
        assertFalse(net4(0xC0A8_0100L, 32).matches(f));
        assertTrue(net4(0x8000_0000L, 1).matches(f), "192.168.1.1 is in 128.0.0.0/1");
        assertFalse(net6(0, 0, 0).matches(f), "an IPv6 network matches no IPv4 address");
    }

    @Test
    void shouldNeedEveryConditionAndCountFlagsOverBothDirections()
    {
        final FlowFacts f = facts(4, 0, 1, 0, 2);
        f.origPort = 40000;
        f.respPort = 443;
        f.connState = "SF";
        f.flags[AnalysisFlag.DUPLICATE_ACK.ordinal()] = 3;
        assertTrue(filter(443, "SF", AnalysisFlag.DUPLICATE_ACK, 3).matches(f));
        assertTrue(filter(40000, null, null, 0).matches(f));
        assertFalse(filter(80, null, null, 0).matches(f));
        assertFalse(filter(-1, "S1", null, 0).matches(f));
        assertFalse(filter(-1, null, AnalysisFlag.DUPLICATE_ACK, 4).matches(f));
        assertFalse(filter(-1, null, AnalysisFlag.ZERO_WINDOW, 1).matches(f));
        assertTrue(filter(-1, null, AnalysisFlag.ZERO_WINDOW, 0).matches(f), "min=0 keeps every connection");
        assertTrue(FlowFilter.ACTIVE.tapMatches(null) && FlowFilter.ACTIVE.tapMatches("a"));
        final FlowFilter tap = new FlowFilter(false, 0, 0, 0, 0, 0, 0, 0, -1, null, null, 0, "tap-a");
        assertTrue(tap.tapMatches("tap-a"));
        assertFalse(tap.tapMatches("tap-b") || tap.tapMatches(null));
    }

    @Test
    void shouldGiveTheRetransmissionRatioInPartsPerMillion()
    {
        final FlowFacts f = facts(4, 0, 1, 0, 2);
        f.flags[AnalysisFlag.RETRANSMISSION.ordinal()] = 2;
        f.packets = 13;
        assertEquals(153_846, f.retransmissionPpm());
        f.packets = 0;
        assertEquals(FlowFacts.NONE, f.retransmissionPpm());
        f.packets = 1;
        f.flags[AnalysisFlag.RETRANSMISSION.ordinal()] = Long.MAX_VALUE / 10;
        assertEquals(Long.MAX_VALUE, f.retransmissionPpm(), "saturates instead of overflowing");
    }

    private static FlowFacts facts(final int version, final long origHigh, final long origLow, final long respHigh,
        final long respLow)
    {
        final FlowFacts f = new FlowFacts();
        f.ipVersion = version;
        f.origHigh = origHigh;
        f.origLow = origLow;
        f.respHigh = respHigh;
        f.respLow = respLow;
        return f;
    }

    private static FlowFilter net6(final long high, final long low, final int prefix)
    {
        return new FlowFilter(false, 0, 0, 0, 6, high, low, prefix, -1, null, null, 0, null);
    }

    private static FlowFilter net4(final long address, final int prefix)
    {
        return new FlowFilter(false, 0, 0, 0, 4, 0, address, prefix, -1, null, null, 0, null);
    }

    private static FlowFilter filter(final int port, final String connState, final AnalysisFlag flag, final long min)
    {
        return new FlowFilter(false, 0, 0, 0, 0, 0, 0, 0, port, connState, flag, min, null);
    }
}
