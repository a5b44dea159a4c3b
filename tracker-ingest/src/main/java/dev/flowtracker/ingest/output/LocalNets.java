package dev.flowtracker.ingest.output;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * The networks {@code --local-nets} calls local (Zeek's {@code Site::local_nets}), for the records'
 * {@code local_orig} and {@code local_resp}: an address is local when any of the prefixes holds it. IPv4 and IPv6
 * prefixes alike, an IPv4 address held as the record holds it (in the low 32 bits). Immutable; any thread; checking
 * an address allocates nothing.
 */
public final class LocalNets
{
    /** No networks given: the records' local_orig and local_resp are null, as Zeek leaves them unset. */
    public static final LocalNets NONE = new LocalNets(List.of(), "");

    private final int[] versions;
    private final long[] highs;
    private final long[] lows;
    private final long[] highMasks;
    private final long[] lowMasks;
    private final String text;

    private LocalNets(final List<long[]> prefixes, final String text)
    {
        final int n = prefixes.size();
        versions = new int[n];
        highs = new long[n];
        lows = new long[n];
        highMasks = new long[n];
        lowMasks = new long[n];
        for (int i = 0; i < n; i++)
        {
            final long[] prefix = prefixes.get(i); // version, high, low, bits
            versions[i] = (int)prefix[0];
            final int bits = (int)prefix[3];
            if (versions[i] == 4)
            {
                highMasks[i] = 0;
                lowMasks[i] = bits == 0 ? 0 : (0xFFFF_FFFFL << (32 - bits)) & 0xFFFF_FFFFL;
            }
            else
            {
                highMasks[i] = bits == 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
                lowMasks[i] = bits <= 64 ? 0 : bits == 128 ? -1L : -1L << (128 - bits);
            }
            highs[i] = prefix[1] & highMasks[i];
            lows[i] = prefix[2] & lowMasks[i];
        }
        this.text = text;
    }

    /**
     * Parses a comma-separated list of CIDR prefixes ({@code 10.0.0.0/8,192.168.0.0/16,fd00::/8}); an address without
     * a length is a host. Only literal addresses: no name is looked up.
     *
     * @throws IllegalArgumentException naming the first bad entry.
     */
    public static LocalNets parse(final String list)
    {
        final List<long[]> prefixes = new ArrayList<>();
        for (final String entry : list.split(",", -1))
        {
            final String trimmed = entry.strip();
            if (trimmed.isEmpty() && list.isBlank())
            {
                continue;
            }
            prefixes.add(prefix(trimmed));
        }
        return new LocalNets(prefixes, list.strip());
    }

    /** Whether networks were given (else local_orig and local_resp are unknown). */
    public boolean configured()
    {
        return versions.length > 0;
    }

    /** Whether the address (as a flow record holds it: IPv4 in the low 32 bits) lies in one of the networks. */
    public boolean contains(final int ipVersion, final long high, final long low)
    {
        for (int i = 0; i < versions.length; i++)
        {
            if (versions[i] == ipVersion && (high & highMasks[i]) == highs[i] && (low & lowMasks[i]) == lows[i])
            {
                return true;
            }
        }
        return false;
    }

    @Override
    public String toString()
    {
        return text;
    }

    private static long[] prefix(final String entry)
    {
        final int slash = entry.indexOf('/');
        final String address = slash < 0 ? entry : entry.substring(0, slash);
        // Literals only, in their plain forms (InetAddress would take 1.2.3 for 1.2.0.3, or look a name up).
        if (!(address.indexOf(':') >= 0 && address.matches("[0-9A-Fa-f:.]+") ||
            address.matches("\\d{1,3}(\\.\\d{1,3}){3}")))
        {
            throw new IllegalArgumentException("not a network: '" + entry + "' (e.g. 10.0.0.0/8 or fd00::/8)");
        }
        final InetAddress parsed;
        try
        {
            parsed = InetAddress.getByName(address);
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalArgumentException("not a network: '" + entry + "' (e.g. 10.0.0.0/8 or fd00::/8)");
        }
        final int maxBits = parsed instanceof Inet4Address ? 32 : 128;
        int bits = maxBits;
        if (slash >= 0)
        {
            try
            {
                bits = Integer.parseInt(entry.substring(slash + 1));
            }
            catch (final NumberFormatException e)
            {
                bits = -1;
            }
            if (bits < 0 || bits > maxBits)
            {
                throw new IllegalArgumentException("bad prefix length in '" + entry + "': 0 to " + maxBits);
            }
        }
        final byte[] bytes = parsed.getAddress();
        if (parsed instanceof Inet6Address)
        {
            final ByteBuffer buffer = ByteBuffer.wrap(bytes);
            return new long[] {6, buffer.getLong(), buffer.getLong(), bits};
        }
        return new long[] {4, 0, ByteBuffer.wrap(bytes).getInt() & 0xFFFF_FFFFL, bits};
    }
}
