package dev.flowtracker.ingest.output;

/**
 * Text forms of addresses held as longs: dotted IPv4 and RFC 5952 IPv6 (lower case, longest zero run as ::). Appends
 * to an {@link AsciiRecord} and allocates nothing.
 */
public final class AddressFormat
{
    private AddressFormat()
    {
    }

    public static void append(final AsciiRecord out, final int ipVersion, final long high, final long low)
    {
        if (ipVersion == 4)
        {
            appendIpv4(out, low);
        }
        else
        {
            appendIpv6(out, high, low);
        }
    }

    public static void appendIpv4(final AsciiRecord out, final long address)
    {
        out.append((address >>> 24) & 0xFF).append('.').append((address >>> 16) & 0xFF).append('.')
            .append((address >>> 8) & 0xFF).append('.').append(address & 0xFF);
    }

    public static void appendIpv6(final AsciiRecord out, final long high, final long low)
    {
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; )
        {
            if (group(high, low, i) != 0)
            {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && group(high, low, j) == 0)
            {
                j++;
            }
            if (j - i > bestLength)
            {
                bestStart = i;
                bestLength = j - i;
            }
            i = j;
        }
        for (int i = 0; i < 8; i++)
        {
            if (i == bestStart)
            {
                out.append("::");
                i += bestLength - 1;
                continue;
            }
            if (i > 0 && i != bestStart + bestLength)
            {
                out.append(':');
            }
            out.appendHex16(group(high, low, i));
        }
    }

    /** The 16-bit group {@code i} (0 to 7, most significant first) of the address. */
    private static int group(final long high, final long low, final int i)
    {
        return (int)((i < 4 ? high : low) >>> (48 - 16 * (i & 3))) & 0xFFFF;
    }
}
