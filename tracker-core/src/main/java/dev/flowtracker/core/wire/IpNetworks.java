package dev.flowtracker.core.wire;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.regex.Pattern;

/**
 * IP address literals and networks as the tracker holds addresses: a version (4 or 6) and two longs, IPv4 in the low
 * 32 bits of the second, IPv6 most significant first. Parsing takes literals only (dotted-quad IPv4, IPv6 without a
 * zone): no name is ever looked up. Static; any thread; {@link #contains} allocates nothing.
 */
public final class IpNetworks
{
    /** IPv4 as four decimal numbers (the parser also takes BSD's shorter forms, such as 10.1, which are refused). */
    private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
    private IpNetworks()
    {
    }

    /**
     * {version, high, low} of an address literal.
     *
     * @throws IllegalArgumentException when {@code text} is not a dotted-quad IPv4 or zone-less IPv6 literal.
     */
    public static long[] parseAddress(final String text)
    {
        if (text.indexOf(':') < 0 && !DOTTED_QUAD.matcher(text).matches() || text.indexOf('%') >= 0)
        {
            throw new IllegalArgumentException("not dotted-quad IPv4, or an IPv6 zone");
        }
        final InetAddress address = InetAddress.ofLiteral(text);
        final byte[] bytes = address.getAddress();
        if (address instanceof Inet4Address)
        {
            return new long[]{4, 0, bits(bytes, 0, 4)};
        }
        return new long[]{6, bits(bytes, 0, 8), bits(bytes, 8, 8)};
    }

    /**
     * Whether the address ({@code version}, {@code high}, {@code low}) lies in the network of {@code prefix} bits at
     * ({@code netVersion}, {@code netHigh}, {@code netLow}); the network's host bits are ignored.
     */
    public static boolean contains(final int netVersion, final long netHigh, final long netLow, final int prefix,
        final int version, final long high, final long low)
    {
        if (version != netVersion)
        {
            return false;
        }
        if (netVersion == 4)
        {
            return ((low ^ netLow) & mask(32 - prefix) & 0xFFFF_FFFFL) == 0;
        }
        if (prefix <= 64)
        {
            return ((high ^ netHigh) & mask(64 - prefix)) == 0;
        }
        return high == netHigh && ((low ^ netLow) & mask(128 - prefix)) == 0;
    }

    /** Ones in every bit above the lowest {@code hostBits} (0 to 64). */
    private static long mask(final int hostBits)
    {
        return hostBits >= 64 ? 0 : -1L << hostBits;
    }

    private static long bits(final byte[] bytes, final int from, final int count)
    {
        long value = 0;
        for (int i = from; i < from + count; i++)
        {
            value = value << 8 | bytes[i] & 0xFF;
        }
        return value;
    }
}
