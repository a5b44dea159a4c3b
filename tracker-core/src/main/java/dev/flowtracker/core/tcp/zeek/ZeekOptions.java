package dev.flowtracker.core.tcp.zeek;

import java.util.BitSet;
import java.util.concurrent.TimeUnit;

/**
 * The Zeek settings that change conn_state, history and connection boundaries, with Zeek 9.1's defaults: the
 * likely-server ports that decide role flips, TCP timers, checksum checking, and the reassembly limits. Immutable
 * once built; shared by every tracker.
 */
public final class ZeekOptions
{
    /**
     * Zeek's default TCP {@code likely_server_ports} (every protocol script loaded): flipping a connection whose
     * first packet comes from one of these ports makes the port's owner the responder.
     */
    public static final int[] DEFAULT_LIKELY_SERVER_PORTS = {
        21, 22, 25, 53, 79, 80, 81, 88, 135, 139, 143, 389, 443, 445, 465, 502, 514, 563, 585, 587, 614, 631, 636,
        989, 990, 992, 993, 995, 1080, 1434, 1883, 2811, 3128, 3268, 3306, 3389, 5222, 5223, 5269, 5432, 6379,
        6666, 6667, 6668, 6669, 8000, 8080, 8888, 20000};

    /** Ports whose connections conn/inactivity.zeek gives an hour of inactivity once established. */
    private static final int[] LONG_INACTIVITY_PORTS = {21, 22, 23, 513};

    public static final ZeekOptions DEFAULTS = builder().build();

    private final BitSet likelyServerPorts;
    final boolean ignoreChecksums;
    final boolean reportGapsForPartial;
    final long excessiveDataWithoutAcks;
    final long synTimeoutNanos = TimeUnit.SECONDS.toNanos(5);
    final long sessionTimerNanos = TimeUnit.SECONDS.toNanos(6);
    final long connectionLingerNanos = TimeUnit.SECONDS.toNanos(5);
    final long attemptDelayNanos = TimeUnit.SECONDS.toNanos(5);
    final long closeDelayNanos = TimeUnit.SECONDS.toNanos(5);
    /** Before either side leaves the handshake Zeek uses its UDP inactivity timeout. */
    final long initialInactivityNanos = TimeUnit.MINUTES.toNanos(1);
    final long inactivityNanos = TimeUnit.MINUTES.toNanos(5);
    final long longInactivityNanos = TimeUnit.HOURS.toNanos(1);

    private ZeekOptions(final Builder builder)
    {
        this.likelyServerPorts = (BitSet)builder.likelyServerPorts.clone();
        this.ignoreChecksums = builder.ignoreChecksums;
        this.reportGapsForPartial = builder.reportGapsForPartial;
        this.excessiveDataWithoutAcks = builder.excessiveDataWithoutAcks;
    }

    public static Builder builder()
    {
        return new Builder();
    }

    public boolean isLikelyServerPort(final int port)
    {
        return likelyServerPorts.get(port);
    }

    /** Whether bad TCP checksums are ignored (Zeek's {@code -C}). */
    public boolean ignoreChecksums()
    {
        return ignoreChecksums;
    }

    long portInactivityNanos(final int port)
    {
        for (final int longPort : LONG_INACTIVITY_PORTS)
        {
            if (port == longPort)
            {
                return longInactivityNanos;
            }
        }
        return 0;
    }

    /** Builds {@link ZeekOptions}; starts from Zeek's defaults. */
    public static final class Builder
    {
        private final BitSet likelyServerPorts = new BitSet(65536);
        private boolean ignoreChecksums;
        private boolean reportGapsForPartial;
        private long excessiveDataWithoutAcks = 10L * 1024 * 1024;

        private Builder()
        {
            for (final int port : DEFAULT_LIKELY_SERVER_PORTS)
            {
                likelyServerPorts.set(port);
            }
        }

        /** Replaces the likely-server ports (e.g. the smaller set of a Zeek run in bare mode). */
        public Builder likelyServerPorts(final int... ports)
        {
            likelyServerPorts.clear();
            for (final int port : ports)
            {
                if (port < 0 || port > 65535)
                {
                    throw new IllegalArgumentException("port out of range: " + port);
                }
                likelyServerPorts.set(port);
            }
            return this;
        }

        public Builder ignoreChecksums(final boolean ignore)
        {
            this.ignoreChecksums = ignore;
            return this;
        }

        /** Zeek's {@code report_gaps_for_partial}: count gaps on connections that were never established. */
        public Builder reportGapsForPartial(final boolean report)
        {
            this.reportGapsForPartial = report;
            return this;
        }

        /** Zeek's {@code tcp_excessive_data_without_further_acks}; 0 disables the limit. */
        public Builder excessiveDataWithoutAcks(final long bytes)
        {
            this.excessiveDataWithoutAcks = bytes;
            return this;
        }

        public ZeekOptions build()
        {
            return new ZeekOptions(this);
        }
    }
}
