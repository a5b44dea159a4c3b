package dev.flowtracker.ingest.http;

import dev.flowtracker.core.tcp.AnalysisFlag;
import dev.flowtracker.core.wire.IpNetworks;
import dev.flowtracker.ingest.output.RecordFields;
import dev.flowtracker.ingest.pipeline.FlowFilter;
import dev.flowtracker.ingest.pipeline.FlowQuery;

import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A {@code /flows} request's parameters, checked: each known one well-formed, no unknown one (a misspelt filter
 * that is ignored silently would answer a different question). Addresses are literals only: nothing here looks a
 * name up. Immutable; made on the HTTP query thread.
 *
 * @param filter     which connections.
 * @param sort       by what.
 * @param descending highest first (the default) or lowest first.
 * @param limit      at most this many records.
 */
record FlowParameters(FlowFilter filter, FlowQuery.Sort sort, boolean descending, int limit)
{
    /** The parameters {@code /flows} takes. */
    static final Set<String> NAMES = Set.of("limit", "sort", "order", "ended", "host", "net", "port", "conn_state",
        "flag", "min", "tap");
    /** Zeek's conn_state values. */
    static final Set<String> CONN_STATES = Set.of("S0", "S1", "SF", "REJ", "S2", "S3", "RSTO", "RSTR", "RSTOS0",
        "RSTRH", "SH", "SHR", "OTH");

    /** A parameter that is unknown or malformed: answered 400, naming it. */
    static final class BadParameter extends Exception
    {
        private static final long serialVersionUID = 1L;
        private final String parameter;

        BadParameter(final String parameter, final String message)
        {
            super(message, null, false, false);
            this.parameter = parameter;
        }

        String parameter()
        {
            return parameter;
        }
    }

    /** Checks and reads {@code parameters} (each one's first value). */
    static FlowParameters parse(final Map<String, String> parameters) throws BadParameter
    {
        for (final String name : parameters.keySet())
        {
            if (!NAMES.contains(name))
            {
                throw new BadParameter(name, "unknown parameter " + name + " (known: " +
                    NAMES.stream().sorted().collect(Collectors.joining(", ")) + ")");
            }
        }
        final int limit = (int)number(parameters, "limit", HttpApi.DEFAULT_LIMIT, 1, HttpApi.MAX_LIMIT);
        final FlowQuery.Sort sort = FlowQuery.Sort.named(parameters.getOrDefault("sort", "bytes"));
        if (sort == null)
        {
            throw new BadParameter("sort", "sort must be one of " + Arrays.stream(FlowQuery.Sort.values())
                .map(FlowQuery.Sort::label).collect(Collectors.joining(", ")));
        }
        final boolean descending = choice(parameters, "order", "desc", "asc");
        final boolean ended = !choice(parameters, "ended", "false", "true");
        final long[] host = address(parameters.get("host"), "host");
        final long[] net = network(parameters.get("net"));
        final int port = (int)number(parameters, "port", -1, 0, 65535);
        final String connState = parameters.get("conn_state");
        if (connState != null && !CONN_STATES.contains(connState))
        {
            throw new BadParameter("conn_state", "conn_state must be one of Zeek's: " +
                CONN_STATES.stream().sorted().collect(Collectors.joining(", ")));
        }
        final AnalysisFlag flag = flag(parameters.get("flag"));
        if (flag == null && parameters.containsKey("min"))
        {
            throw new BadParameter("min", "min counts a flag: give flag too");
        }
        final long min = number(parameters, "min", 1, 0, Long.MAX_VALUE);
        final String tap = parameters.get("tap");
        if (tap != null && !RecordFields.validTapName(tap))
        {
            throw new BadParameter("tap", "a tap name is 1 to " + RecordFields.MAX_TAP_NAME +
                " letters, digits, '.', '_' or '-'");
        }
        return new FlowParameters(new FlowFilter(ended, (int)host[0], host[1], host[2], (int)net[0], net[1], net[2],
            (int)net[3], port, connState, flag, min, tap), sort, descending, limit);
    }

    private static long number(final Map<String, String> parameters, final String name, final long absent,
        final long min, final long max) throws BadParameter
    {
        final String text = parameters.get(name);
        if (text == null)
        {
            return absent;
        }
        long value;
        try
        {
            value = Long.parseLong(text);
        }
        catch (final NumberFormatException e)
        {
            value = min - 1;
        }
        if (value < min || value > max)
        {
            throw new BadParameter(name, name + " must be a number from " + min + " to " + max);
        }
        return value;
    }

    /** True for {@code first} (also when absent), false for {@code second}. */
    private static boolean choice(final Map<String, String> parameters, final String name, final String first,
        final String second) throws BadParameter
    {
        final String text = parameters.getOrDefault(name, first);
        if (!text.equals(first) && !text.equals(second))
        {
            throw new BadParameter(name, name + " must be " + first + " or " + second);
        }
        return text.equals(first);
    }

    private static AnalysisFlag flag(final String name) throws BadParameter
    {
        if (name == null)
        {
            return null;
        }
        for (final AnalysisFlag flag : AnalysisFlag.values())
        {
            if (flag.label().equals(name))
            {
                return flag;
            }
        }
        throw new BadParameter("flag", "flag must be one of tshark's analysis flags: " +
            Arrays.stream(AnalysisFlag.values()).map(AnalysisFlag::label).collect(Collectors.joining(", ")));
    }

    /** {version, high, low} of an address literal; {0, 0, 0} when absent. */
    private static long[] address(final String text, final String name) throws BadParameter
    {
        if (text == null)
        {
            return new long[3];
        }
        try
        {
            return IpNetworks.parseAddress(text);
        }
        catch (final IllegalArgumentException e)
        {
            throw new BadParameter(name, name + " must be an IPv4 or IPv6 address literal");
        }
    }

    /** {version, high, low, prefix} of a CIDR network; {0, 0, 0, 0} when absent. */
    private static long[] network(final String text) throws BadParameter
    {
        if (text == null)
        {
            return new long[4];
        }
        final int slash = text.indexOf('/');
        if (slash < 0)
        {
            throw new BadParameter("net",
                "net must be a network in CIDR notation, such as 10.0.0.0/8 or 2001:db8::/32");
        }
        final long[] address = address(text.substring(0, slash), "net");
        final int bits = address[0] == 4 ? 32 : 128;
        int prefix;
        try
        {
            prefix = Integer.parseInt(text.substring(slash + 1));
        }
        catch (final NumberFormatException e)
        {
            prefix = -1;
        }
        if (prefix < 0 || prefix > bits)
        {
            throw new BadParameter("net", "net's prefix length must be a number from 0 to " + bits);
        }
        return new long[]{address[0], address[1], address[2], prefix};
    }
}
