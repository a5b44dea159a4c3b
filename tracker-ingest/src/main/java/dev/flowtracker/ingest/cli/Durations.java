package dev.flowtracker.ingest.cli;

import java.util.concurrent.TimeUnit;

/** Parses command-line durations: a whole number with a unit, {@code ms}, {@code s}, {@code m} or {@code h}. */
final class Durations
{
    private Durations()
    {
    }

    /** The duration in nanoseconds; {@code option} names the flag in the error. */
    static long parseNanos(final String text, final String option)
    {
        final String trimmed = text.trim();
        int split = 0;
        while (split < trimmed.length() && Character.isDigit(trimmed.charAt(split)))
        {
            split++;
        }
        final TimeUnit unit;
        long multiplier = 1;
        switch (trimmed.substring(split))
        {
            case "ms" -> unit = TimeUnit.MILLISECONDS;
            case "s" -> unit = TimeUnit.SECONDS;
            case "m" -> unit = TimeUnit.MINUTES;
            case "h" -> unit = TimeUnit.HOURS;
            case "d" ->
            {
                unit = TimeUnit.HOURS;
                multiplier = 24;
            }
            default -> throw new UsageException(option + " needs a duration such as 500ms, 30s, 5m or 1h, got '" +
                text + "'");
        }
        if (split == 0 || split > 12)
        {
            throw new UsageException(option + " needs a duration such as 500ms, 30s, 5m or 1h, got '" + text + "'");
        }
        final long nanos = unit.toNanos(Long.parseLong(trimmed.substring(0, split)) * multiplier);
        if (nanos <= 0)
        {
            throw new UsageException(option + " must be longer than zero, got '" + text + "'");
        }
        return nanos;
    }
}
