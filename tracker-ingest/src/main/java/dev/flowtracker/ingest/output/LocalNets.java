package dev.flowtracker.ingest.output;

import dev.flowtracker.core.wire.IpNetworks;

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
    private final int[] prefixes;
    private final String text;

    private LocalNets(final List<long[]> networks, final String text)
    {
        final int n = networks.size();
        versions = new int[n];
        highs = new long[n];
        lows = new long[n];
        prefixes = new int[n];
        for (int i = 0; i < n; i++)
        {
            final long[] network = networks.get(i); // version, high, low, bits
            versions[i] = (int)network[0];
            highs[i] = network[1];
            lows[i] = network[2];
            prefixes[i] = (int)network[3];
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
            if (IpNetworks.contains(versions[i], highs[i], lows[i], prefixes[i], ipVersion, high, low))
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
        final long[] address;
        try
        {
            address = IpNetworks.parseAddress(slash < 0 ? entry : entry.substring(0, slash));
        }
        catch (final IllegalArgumentException e)
        {
            throw new IllegalArgumentException("not a network: '" + entry + "' (e.g. 10.0.0.0/8 or fd00::/8)");
        }
        final int maxBits = address[0] == 4 ? 32 : 128;
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
        return new long[] {address[0], address[1], address[2], bits};
    }
}
