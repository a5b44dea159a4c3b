package dev.flowtracker.ingest.output;

/** Text forms of addresses held as longs: dotted IPv4 and RFC 5952 IPv6 (lower case, longest zero run as ::). */
public final class AddressFormat
{
    private AddressFormat()
    {
    }

    public static void append(final StringBuilder out, final int ipVersion, final long high, final long low)
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

    public static void appendIpv4(final StringBuilder out, final long address)
    {
        out.append((address >>> 24) & 0xFF).append('.').append((address >>> 16) & 0xFF).append('.')
            .append((address >>> 8) & 0xFF).append('.').append(address & 0xFF);
    }

    public static void appendIpv6(final StringBuilder out, final long high, final long low)
    {
        final int[] groups = new int[8];
        for (int i = 0; i < 4; i++)
        {
            groups[i] = (int)(high >>> (48 - 16 * i)) & 0xFFFF;
            groups[i + 4] = (int)(low >>> (48 - 16 * i)) & 0xFFFF;
        }
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < 8; )
        {
            if (groups[i] != 0)
            {
                i++;
                continue;
            }
            int j = i;
            while (j < 8 && groups[j] == 0)
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
            out.append(Integer.toHexString(groups[i]));
        }
    }
}
