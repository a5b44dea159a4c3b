package dev.flowtracker.ingest.output;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** --local-nets: IPv4 and IPv6 prefixes of any length, hosts, the edges of each prefix, and bad entries. */
class LocalNetsTest
{
    @Test
    void shouldHoldTheAddressesOfItsPrefixesOnly()
    {
        final LocalNets nets = LocalNets.parse("10.0.0.0/8, 192.168.1.0/24,172.16.5.9,fd00::/8,2001:db8:0:1::/64");
        assertTrue(nets.configured());
        assertTrue(nets.contains(4, 0, v4(10, 0, 0, 0)));
        assertTrue(nets.contains(4, 0, v4(10, 255, 255, 255)));
        assertFalse(nets.contains(4, 0, v4(11, 0, 0, 0)));
        assertFalse(nets.contains(4, 0, v4(9, 255, 255, 255)));
        assertTrue(nets.contains(4, 0, v4(192, 168, 1, 200)));
        assertFalse(nets.contains(4, 0, v4(192, 168, 2, 1)));
        assertTrue(nets.contains(4, 0, v4(172, 16, 5, 9)), "a host");
        assertFalse(nets.contains(4, 0, v4(172, 16, 5, 10)));
        assertTrue(nets.contains(6, 0xFD12_0000_0000_0000L, 1));
        assertFalse(nets.contains(6, 0xFE00_0000_0000_0000L, 1));
        assertTrue(nets.contains(6, 0x2001_0DB8_0000_0001L, -1L));
        assertFalse(nets.contains(6, 0x2001_0DB8_0000_0002L, 0));
        assertFalse(nets.contains(6, 0, v4(10, 0, 0, 1)), "an IPv4 prefix holds no IPv6 address");
    }

    @Test
    void shouldTakeZeroLengthAndFullLengthPrefixes()
    {
        final LocalNets all = LocalNets.parse("0.0.0.0/0");
        assertTrue(all.contains(4, 0, v4(8, 8, 8, 8)));
        assertFalse(all.contains(6, 0, 1));
        final LocalNets one = LocalNets.parse("::1/128");
        assertTrue(one.contains(6, 0, 1));
        assertFalse(one.contains(6, 0, 2));
        assertTrue(LocalNets.parse("2001:db8::/33").contains(6, 0x2001_0DB8_7FFF_0000L, 0));
        assertFalse(LocalNets.parse("2001:db8::/33").contains(6, 0x2001_0DB8_8000_0000L, 0));
        assertTrue(LocalNets.parse("::/96").contains(6, 0, 0xFFFF_FFFFL));
        assertFalse(LocalNets.parse("::/96").contains(6, 0, 0x1_0000_0000L));
    }

    @Test
    void shouldRefuseWhatIsNotANetworkAndLookUpNoName()
    {
        for (final String bad : List.of("10.0.0.0/33", "fd00::/129", "10.0.0.0/", "example.com", "10.0.0.0/x",
            "/8", "10.0.0.0/8,,", "1.2.3"))
        {
            final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> LocalNets.parse(bad),
                bad);
            assertTrue(e.getMessage().contains("'"), e.getMessage());
        }
        assertFalse(LocalNets.parse("").configured());
        assertEquals("10.0.0.0/8", LocalNets.parse(" 10.0.0.0/8 ").toString());
    }

    private static long v4(final int a, final int b, final int c, final int d)
    {
        return (long)a << 24 | b << 16 | c << 8 | d;
    }
}
