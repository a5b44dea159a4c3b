package dev.flowtracker.ingest.output;

import java.util.regex.Pattern;

/**
 * What a record says beyond the connection itself, the same in every record of a run: the Community ID's seed and
 * the name of the tap that saw the traffic (so records of a fleet of taps can be told apart, and joined).
 *
 * @param communityIdSeed the Community ID seed, 0 to {@value CommunityId#MAX_SEED} (0 is the spec's default).
 * @param tapName         letters, digits, {@code .}, {@code _} and {@code -}, 1 to {@value #MAX_TAP_NAME}
 *                        characters (a host name fits; nothing needs escaping in JSON or a Kafka header); null
 *                        writes no {@code tap} field.
 * @param updateIntervalNanos every how long of packet time an open connection gets an interim record (marked
 *                        {@code "interim":true}), from its first packet; 0 for none.
 */
public record RecordFields(int communityIdSeed, String tapName, long updateIntervalNanos)
{
    /** Longest tap name. */
    public static final int MAX_TAP_NAME = 253;
    /** Seed 0, no tap name: what tests and benchmarks use. */
    public static final RecordFields DEFAULTS = new RecordFields(0, null);
    /** Shortest interval between interim records: shorter would flood the sinks. */
    public static final long MIN_UPDATE_INTERVAL_NANOS = 1_000_000_000L;

    private static final Pattern TAP_NAME = Pattern.compile("[A-Za-z0-9._-]{1," + MAX_TAP_NAME + "}");

    /** No interim records. */
    public RecordFields(final int communityIdSeed, final String tapName)
    {
        this(communityIdSeed, tapName, 0);
    }

    public RecordFields
    {
        if (updateIntervalNanos != 0 && updateIntervalNanos < MIN_UPDATE_INTERVAL_NANOS)
        {
            throw new IllegalArgumentException("the update interval must be 0 (none) or at least 1 s, was " +
                updateIntervalNanos + " ns");
        }
        if (communityIdSeed < 0 || communityIdSeed > CommunityId.MAX_SEED)
        {
            throw new IllegalArgumentException("the community id seed must be 0 to " + CommunityId.MAX_SEED +
                ", was " + communityIdSeed);
        }
        if (tapName != null && !validTapName(tapName))
        {
            throw new IllegalArgumentException("a tap name is 1 to " + MAX_TAP_NAME + " letters, digits, '.', '_' " +
                "or '-', was \"" + tapName + "\"");
        }
    }

    /** Whether {@code name} may be a tap name. */
    public static boolean validTapName(final String name)
    {
        return TAP_NAME.matcher(name).matches();
    }
}
