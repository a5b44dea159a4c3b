package dev.flowtracker.core.flow;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.ManagementFactory;
import java.util.concurrent.TimeUnit;

/**
 * How many connections a tracker may hold and how long each may stay idle. {@link #UNBOUNDED} keeps every
 * connection until it ends by itself (offline analysis, tests); a bounded tracker fixes its flow table's memory at
 * start-up, recycles connection objects, expires idle connections per {@link FlowPhase}, switches to shorter
 * emergency timeouts when the table is nearly full, and evicts the least recently active connection when it is
 * full. Either way the flows' state is off-heap, one record per flow, read in place. Immutable.
 */
public final class FlowLimits
{
    /** Direct memory for each tracked connection's Zeek timers at most: two queue entries of 16 bytes. */
    public static final long TIMER_BYTES_PER_FLOW = 2L * 2 * Long.BYTES;

    public static final long DEFAULT_OPENING_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(30);
    public static final long DEFAULT_ESTABLISHED_TIMEOUT_NANOS = TimeUnit.HOURS.toNanos(1);
    public static final long DEFAULT_CLOSED_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(10);
    public static final long DEFAULT_EMERGENCY_OPENING_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(5);
    public static final long DEFAULT_EMERGENCY_ESTABLISHED_TIMEOUT_NANOS = TimeUnit.MINUTES.toNanos(2);
    public static final long DEFAULT_EMERGENCY_CLOSED_TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** Emergency mode starts when the table is this full (percent) and ends below {@link #emergencyLeavePercent}. */
    public static final int DEFAULT_EMERGENCY_ENTER_PERCENT = 95;
    public static final int DEFAULT_EMERGENCY_LEAVE_PERCENT = 85;
    /** No capacity limit, no idle timeouts, no recycling. */
    public static final FlowLimits UNBOUNDED = new FlowLimits(0, new long[3], new long[3], 100, 100);

    private final int maxFlows;
    private final long[] timeoutNanos;
    private final long[] emergencyTimeoutNanos;
    private final int emergencyEnterPercent;
    private final int emergencyLeavePercent;

    private FlowLimits(
        final int maxFlows, final long[] timeoutNanos, final long[] emergencyTimeoutNanos,
        final int emergencyEnterPercent, final int emergencyLeavePercent)
    {
        this.maxFlows = maxFlows;
        this.timeoutNanos = timeoutNanos;
        this.emergencyTimeoutNanos = emergencyTimeoutNanos;
        this.emergencyEnterPercent = emergencyEnterPercent;
        this.emergencyLeavePercent = emergencyLeavePercent;
    }

    public static Builder builder()
    {
        return new Builder();
    }

    public boolean isBounded()
    {
        return maxFlows > 0;
    }

    /** The table's capacity in connections; 0 when unbounded. */
    public int maxFlows()
    {
        return maxFlows;
    }

    public long timeoutNanos(final FlowPhase phase)
    {
        return timeoutNanos[phase.ordinal()];
    }

    public long emergencyTimeoutNanos(final FlowPhase phase)
    {
        return emergencyTimeoutNanos[phase.ordinal()];
    }

    public int emergencyEnterPercent()
    {
        return emergencyEnterPercent;
    }

    public int emergencyLeavePercent()
    {
        return emergencyLeavePercent;
    }

    /**
     * The limits for one of {@code shards} trackers that share this capacity: each gets an equal part (rounded
     * up), the same timeouts.
     */
    public FlowLimits perShard(final int shards)
    {
        if (!isBounded() || shards == 1)
        {
            return this;
        }
        final int share = (int)((maxFlows + (long)shards - 1) / shards);
        return new FlowLimits(share, timeoutNanos, emergencyTimeoutNanos, emergencyEnterPercent, emergencyLeavePercent);
    }

    /**
     * The JVM's direct-memory limit ({@code -XX:MaxDirectMemorySize}, whose default, 0, means the maximum heap):
     * the flow tables' off-heap records are allocated against it.
     */
    public static long jvmDirectMemoryLimit()
    {
        final long configured = Long.parseLong(ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
            .getVMOption("MaxDirectMemorySize").getValue());
        return configured > 0 ? configured : Runtime.getRuntime().maxMemory();
    }

    @Override
    public String toString()
    {
        if (!isBounded())
        {
            return "unbounded";
        }
        return "maxFlows=" + maxFlows +
            " timeouts(s) opening=" + seconds(timeoutNanos, FlowPhase.OPENING) +
            " established=" + seconds(timeoutNanos, FlowPhase.ESTABLISHED) +
            " closed=" + seconds(timeoutNanos, FlowPhase.CLOSED) +
            " emergency at " + emergencyEnterPercent + "%:" +
            " opening=" + seconds(emergencyTimeoutNanos, FlowPhase.OPENING) +
            " established=" + seconds(emergencyTimeoutNanos, FlowPhase.ESTABLISHED) +
            " closed=" + seconds(emergencyTimeoutNanos, FlowPhase.CLOSED);
    }

    private static double seconds(final long[] nanos, final FlowPhase phase)
    {
        return nanos[phase.ordinal()] / 1e9;
    }

    /**
     * Defaults: 1,000,000 flows; 30 s opening, 1 h established, 10 s closed; emergency 5 s, 2 min, 1 s.
     */
    public static final class Builder
    {
        private int maxFlows = 1_000_000;
        private final long[] timeoutNanos = {
            DEFAULT_OPENING_TIMEOUT_NANOS, DEFAULT_ESTABLISHED_TIMEOUT_NANOS, DEFAULT_CLOSED_TIMEOUT_NANOS};
        private final long[] emergencyTimeoutNanos = {
            DEFAULT_EMERGENCY_OPENING_TIMEOUT_NANOS, DEFAULT_EMERGENCY_ESTABLISHED_TIMEOUT_NANOS,
            DEFAULT_EMERGENCY_CLOSED_TIMEOUT_NANOS};
        private int emergencyEnterPercent = DEFAULT_EMERGENCY_ENTER_PERCENT;
        private int emergencyLeavePercent = DEFAULT_EMERGENCY_LEAVE_PERCENT;

        public Builder maxFlows(final int maxFlows)
        {
            if (maxFlows < 1)
            {
                throw new IllegalArgumentException("max flows must be at least 1, was " + maxFlows);
            }
            this.maxFlows = maxFlows;
            return this;
        }

        public Builder timeout(final FlowPhase phase, final long nanos)
        {
            timeoutNanos[phase.ordinal()] = positive(nanos, phase.label() + " timeout");
            return this;
        }

        public Builder emergencyTimeout(final FlowPhase phase, final long nanos)
        {
            emergencyTimeoutNanos[phase.ordinal()] = positive(nanos, "emergency " + phase.label() + " timeout");
            return this;
        }

        /** Emergency mode starts at {@code enter} percent full and ends below {@code leave} percent. */
        public Builder emergencyThresholds(final int enterPercent, final int leavePercent)
        {
            if (leavePercent < 1 || leavePercent > enterPercent || enterPercent > 100)
            {
                throw new IllegalArgumentException("emergency thresholds need 1 <= leave <= enter <= 100, were enter " +
                    enterPercent + " leave " + leavePercent);
            }
            this.emergencyEnterPercent = enterPercent;
            this.emergencyLeavePercent = leavePercent;
            return this;
        }

        public FlowLimits build()
        {
            for (final FlowPhase phase : FlowPhase.values())
            {
                if (emergencyTimeoutNanos[phase.ordinal()] > timeoutNanos[phase.ordinal()])
                {
                    emergencyTimeoutNanos[phase.ordinal()] = timeoutNanos[phase.ordinal()];
                }
            }
            return new FlowLimits(maxFlows, timeoutNanos.clone(), emergencyTimeoutNanos.clone(), emergencyEnterPercent,
                emergencyLeavePercent);
        }

        private static long positive(final long nanos, final String what)
        {
            if (nanos <= 0)
            {
                throw new IllegalArgumentException(what + " must be positive, was " + nanos + " ns");
            }
            return nanos;
        }
    }
}
