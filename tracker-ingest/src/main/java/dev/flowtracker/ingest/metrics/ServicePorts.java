package dev.flowtracker.ingest.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.TreeSet;

/**
 * The responder ports that metrics split connections by ({@code --service-ports}): each listed port is a label value
 * of its own and every other port is {@code other}, so the label's cardinality is bounded by the list, however many
 * ports the traffic uses. Immutable; any thread.
 */
public final class ServicePorts
{
    /** Most ports in the list: each is a label value on several series. */
    public static final int MAX_PORTS = 64;
    /** Well-known services a tap commonly sees. */
    public static final ServicePorts DEFAULTS = of(List.of(22, 25, 53, 80, 110, 143, 443, 445, 993, 995, 1433, 3306,
        3389, 5432, 6379, 8080, 8443, 9092));

    private static final String OTHER = "other";

    /** Index of each port's label, {@link #others} for ports not listed. */
    private final byte[] indexByPort = new byte[65536];
    private final String[] labels;

    private ServicePorts(final int[] ports)
    {
        labels = new String[ports.length + 1];
        Arrays.fill(indexByPort, (byte)ports.length);
        for (int i = 0; i < ports.length; i++)
        {
            indexByPort[ports[i]] = (byte)i;
            labels[i] = Integer.toString(ports[i]);
        }
        labels[ports.length] = OTHER;
    }

    /**
     * The given ports, in ascending order, duplicates once.
     *
     * @throws IllegalArgumentException for a port outside 1 to 65535 or more than {@link #MAX_PORTS} ports.
     */
    public static ServicePorts of(final List<Integer> ports)
    {
        final TreeSet<Integer> sorted = new TreeSet<>();
        for (final int port : ports)
        {
            if (port < 1 || port > 65535)
            {
                throw new IllegalArgumentException("a service port is 1 to 65535, got " + port);
            }
            sorted.add(port);
        }
        if (sorted.size() > MAX_PORTS)
        {
            throw new IllegalArgumentException("at most " + MAX_PORTS + " service ports, got " + sorted.size());
        }
        return new ServicePorts(sorted.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Parses a comma-separated list such as {@code 22,80,443}; an empty text is no port (all {@code other}). */
    public static ServicePorts parse(final String text)
    {
        final List<Integer> ports = new ArrayList<>();
        for (final String part : text.split(",", -1))
        {
            final String trimmed = part.trim();
            if (trimmed.isEmpty() && text.isBlank())
            {
                continue;
            }
            try
            {
                ports.add(Integer.parseInt(trimmed));
            }
            catch (final NumberFormatException e)
            {
                throw new IllegalArgumentException("a service port is a number from 1 to 65535, got '" + part + "'");
            }
        }
        return of(ports);
    }

    /** Label values: the ports listed, then {@code other}. */
    public int size()
    {
        return labels.length;
    }

    /** The label of value {@code index}. */
    public String label(final int index)
    {
        return labels[index];
    }

    /** The label index of a responder port (any int: the low 16 bits are the port). */
    public int indexOf(final int port)
    {
        return indexByPort[port & 0xFFFF];
    }

    /** The index of {@code other}. */
    public int others()
    {
        return labels.length - 1;
    }
}
