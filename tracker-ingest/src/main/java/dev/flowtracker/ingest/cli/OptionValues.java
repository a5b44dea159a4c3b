package dev.flowtracker.ingest.cli;

import dev.flowtracker.core.tcp.Lifecycle;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.function.Function;

/**
 * Option values from text, with their ranges: the one place the commands' numbers, sizes and addresses are read and
 * checked, whether they come from a flag, a {@code TRACKER_*} variable or a config file. Each refusal is a
 * {@link UsageException} whose message starts with the option's name.
 */
final class OptionValues
{
    private OptionValues()
    {
    }

    /** A whole number from 1 to {@code max}; {@code why} says what bounds it (may be null). */
    static int positiveInt(final String text, final String option, final int max, final String why)
    {
        return (int)positive(text, option, max, why);
    }

    /** A whole number of at least 1. */
    static int positiveInt(final String text, final String option)
    {
        return positiveInt(text, option, Integer.MAX_VALUE, null);
    }

    /** A whole number from 1 to {@code max}; {@code why} says what bounds it (may be null). */
    static long positive(final String text, final String option, final long max, final String why)
    {
        final long value;
        try
        {
            value = Long.parseLong(text.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new UsageException(option + " needs a number, got '" + text + "'");
        }
        if (value < 1)
        {
            throw new UsageException(option + " must be at least 1, was " + value);
        }
        if (value > max)
        {
            throw new UsageException(option + " must be at most " + max + (why == null ? "" : " (" + why + ")") +
                ", was " + value);
        }
        return value;
    }

    /** A whole number from {@code min} to {@code max}. */
    static int intInRange(final String text, final String option, final int min, final int max)
    {
        final long value;
        try
        {
            value = Long.parseLong(text.trim());
        }
        catch (final NumberFormatException e)
        {
            throw new UsageException(option + " needs a number, got '" + text + "'");
        }
        if (value < min || value > max)
        {
            throw new UsageException(option + " must be " + min + " to " + max + ", was " + value);
        }
        return (int)value;
    }

    /** A byte count with an optional k/M/G suffix (powers of 1024). */
    static long bytes(final String text, final String option)
    {
        final String trimmed = text.trim();
        long multiplier = 1;
        String digits = trimmed;
        if (!trimmed.isEmpty())
        {
            switch (Character.toLowerCase(trimmed.charAt(trimmed.length() - 1)))
            {
                case 'k' -> multiplier = 1L << 10;
                case 'm' -> multiplier = 1L << 20;
                case 'g' -> multiplier = 1L << 30;
                default -> multiplier = 1;
            }
            if (multiplier > 1)
            {
                digits = trimmed.substring(0, trimmed.length() - 1);
            }
        }
        final long value;
        try
        {
            value = Long.parseLong(digits);
        }
        catch (final NumberFormatException e)
        {
            throw new UsageException(option + " needs a size such as 1000000, 64M or 1G, got '" + text + "'");
        }
        if (value < 1 || value > Long.MAX_VALUE / multiplier)
        {
            throw new UsageException(option + " must be at least 1 byte, got '" + text + "'");
        }
        return value * multiplier;
    }

    /**
     * {@code parser}'s value of {@code text}; its IllegalArgumentException becomes a usage error that names
     * {@code option}.
     */
    static <T> T parsed(final String text, final String option, final Function<String, T> parser)
    {
        try
        {
            return parser.apply(text);
        }
        catch (final IllegalArgumentException e)
        {
            throw new UsageException(option + ": " + e.getMessage());
        }
    }

    /** A duration in nanoseconds (see {@link Durations}). */
    static long nanos(final String text, final String option)
    {
        return Durations.parseNanos(text, option);
    }

    /** zeek or tshark. */
    static Lifecycle lifecycle(final String label)
    {
        final Lifecycle lifecycle = Lifecycle.byLabel(label.trim());
        if (lifecycle == null)
        {
            throw new UsageException("unknown lifecycle '" + label + "': use zeek or tshark");
        }
        return lifecycle;
    }

    /** HOST:PORT, [IPv6]:PORT or :PORT (all addresses); port 0 picks a free one. */
    static InetSocketAddress listenAddress(final String text, final String option)
    {
        final int colon = text.lastIndexOf(':');
        if (colon < 0)
        {
            throw new UsageException(option + " needs HOST:PORT, got '" + text + "'");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        final int port;
        try
        {
            port = Integer.parseInt(text.substring(colon + 1));
        }
        catch (final NumberFormatException e)
        {
            throw new UsageException(option + " needs a port number after ':', got '" + text + "'");
        }
        if (port < 0 || port > 65535)
        {
            throw new UsageException(option + " port must be 0 to 65535, got " + port);
        }
        try
        {
            return host.isEmpty() ? new InetSocketAddress(port) :
                new InetSocketAddress(InetAddress.getByName(host), port);
        }
        catch (final UnknownHostException e)
        {
            throw new UsageException(option + ": unknown host '" + host + "'");
        }
    }
}
