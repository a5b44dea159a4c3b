package dev.flowtracker.ingest.source.afpacket;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How {@link AfPacketSource} captures: which interfaces, how many sockets per interface, and each socket's
 * TPACKET_V3 ring. Validated on construction ({@link IllegalArgumentException} with a message naming the setting,
 * the allowed range and the value given). Immutable.
 *
 * <p>Command-line wiring: {@code --interface IF} (repeatable) → {@link Builder#addInterface}, {@code --fanout N} →
 * {@link Builder#fanout}, {@code --promiscuous} → {@link Builder#promiscuous}, {@code --no-filter} →
 * {@link Builder#tcpOnlyFilter tcpOnlyFilter(false)}, {@code --ring-blocks N} → {@link Builder#blockCount},
 * {@code --block-size N} → {@link Builder#blockSize}, {@code --block-timeout D} → {@link Builder#blockTimeout}.
 *
 * @param interfaces    network interfaces to capture on (at least one, no repeats).
 * @param fanout        sockets per interface in one {@code PACKET_FANOUT} hash group, each with its own ring and
 *                      event loop thread (1 = no fanout); the kernel hashes each flow's addresses and ports
 *                      symmetrically, so both directions of a connection reach the same socket.
 * @param blockSize     bytes per ring block: a power of two from 4 KiB to 256 MiB. A block holds many frames; a
 *                      frame longer than a block (less its headers) is truncated.
 * @param blockCount    blocks per ring (at least 2: the kernel fills one while others are read).
 * @param frameSize     the ring's nominal frame size (a multiple of 16 from 128 to the block size). TPACKET_V3
 *                      packs frames of any length into blocks; the kernel only checks that blocks divide into
 *                      frames of this size.
 * @param blockTimeout  how long the kernel fills a block before handing it over anyway ({@code tp_retire_blk_tov}):
 *                      the most a frame waits at low traffic. Whole milliseconds, 1 ms to 60 s.
 * @param promiscuous   put the interfaces in promiscuous mode while capturing (the kernel undoes it when the
 *                      sockets close).
 * @param tcpOnlyFilter attach {@link TcpOnlyFilter} so the kernel drops everything but TCP over IP (with or without
 *                      VLAN tags); turn off for TCP inside tunnels, MPLS or PPPoE.
 * @param fanoutGroup   the {@code PACKET_FANOUT} group id (1 to 65535), or 0 to let the kernel pick one no other
 *                      socket uses ({@code PACKET_FANOUT_FLAG_UNIQUEID}). Only used when {@code fanout > 1}.
 */
public record AfPacketOptions(
    List<String> interfaces, int fanout, int blockSize, int blockCount, int frameSize, Duration blockTimeout,
    boolean promiscuous, boolean tcpOnlyFilter, int fanoutGroup)
{
    public static final int DEFAULT_FANOUT = 1;
    /** 1 MiB blocks ... */
    public static final int DEFAULT_BLOCK_SIZE = 1 << 20;
    /** ... 64 of them: a 64 MiB ring per socket. */
    public static final int DEFAULT_BLOCK_COUNT = 64;
    public static final int DEFAULT_FRAME_SIZE = 2048;
    public static final Duration DEFAULT_BLOCK_TIMEOUT = Duration.ofMillis(10);
    public static final int MAX_FANOUT = 64;
    public static final int MIN_BLOCK_SIZE = 4096;
    public static final int MAX_BLOCK_SIZE = 1 << 28;
    public static final int MAX_BLOCK_COUNT = 1 << 16;
    /** One ring may not exceed this many bytes (block size times block count). */
    public static final long MAX_RING_BYTES = 1L << 34;
    public static final int MIN_FRAME_SIZE = 128;
    public static final Duration MAX_BLOCK_TIMEOUT = Duration.ofSeconds(60);
    /** Linux interface names are at most 15 bytes ({@code IFNAMSIZ} less the terminating zero). */
    public static final int MAX_INTERFACE_NAME_LENGTH = 15;

    public AfPacketOptions
    {
        interfaces = List.copyOf(interfaces);
        validateInterfaces(interfaces);
        if (fanout < 1 || fanout > MAX_FANOUT)
        {
            throw new IllegalArgumentException("fanout must be 1 to " + MAX_FANOUT + " sockets per interface, was " +
                fanout);
        }
        if (blockSize < MIN_BLOCK_SIZE || blockSize > MAX_BLOCK_SIZE || Integer.bitCount(blockSize) != 1)
        {
            throw new IllegalArgumentException(blockSizeRule(blockSize));
        }
        if (blockCount < 2 || blockCount > MAX_BLOCK_COUNT)
        {
            throw new IllegalArgumentException("ring blocks must be 2 to " + MAX_BLOCK_COUNT + ", was " + blockCount);
        }
        if ((long)blockSize * blockCount > MAX_RING_BYTES)
        {
            throw new IllegalArgumentException("a ring of " + blockCount + " blocks of " + blockSize + " bytes is " +
                "larger than " + (MAX_RING_BYTES >> 30) + " GiB");
        }
        if (frameSize < MIN_FRAME_SIZE || frameSize > blockSize || frameSize % Tpacket3.ALIGNMENT != 0)
        {
            throw new IllegalArgumentException("frame size must be a multiple of " + Tpacket3.ALIGNMENT + " from " +
                MIN_FRAME_SIZE + " to the block size (" + blockSize + "), was " + frameSize);
        }
        if (blockTimeout == null || blockTimeout.compareTo(Duration.ofMillis(1)) < 0 ||
            blockTimeout.compareTo(MAX_BLOCK_TIMEOUT) > 0 || blockTimeout.toNanos() % 1_000_000 != 0)
        {
            throw new IllegalArgumentException("block timeout must be whole milliseconds from 1ms to " +
                MAX_BLOCK_TIMEOUT.toSeconds() + "s, was " + (blockTimeout == null ? "none" : format(blockTimeout)));
        }
        if (fanoutGroup < 0 || fanoutGroup > 0xFFFF)
        {
            throw new IllegalArgumentException("fanout group must be 1 to 65535 (0: the kernel picks one), was " +
                fanoutGroup);
        }
    }

    private static void validateInterfaces(final List<String> interfaces)
    {
        if (interfaces.isEmpty())
        {
            throw new IllegalArgumentException("at least one interface is needed");
        }
        final Set<String> seen = new HashSet<>();
        for (final String name : interfaces)
        {
            if (name.isEmpty() || name.length() > MAX_INTERFACE_NAME_LENGTH || name.equals(".") ||
                name.equals("..") || !name.chars().allMatch(c -> c > ' ' && c < 0x7F && c != '/' && c != ':'))
            {
                throw new IllegalArgumentException("'" + name + "' is not an interface name (1 to " +
                    MAX_INTERFACE_NAME_LENGTH + " printable characters, no '/', ':' or spaces)");
            }
            if (!seen.add(name))
            {
                throw new IllegalArgumentException("interface " + name + " is given twice");
            }
        }
    }

    private static String blockSizeRule(final long given)
    {
        return "block size must be a power of two from " + MIN_BLOCK_SIZE + " to " + MAX_BLOCK_SIZE + " bytes, was " +
            given;
    }

    private static String format(final Duration duration)
    {
        return duration.toNanos() % 1_000_000 == 0 ? duration.toMillis() + "ms" : duration.toNanos() + "ns";
    }

    /** Defaults for everything but the interfaces, with {@code interfaces} (see {@link #builder()}). */
    public static AfPacketOptions of(final String... interfaces)
    {
        final Builder builder = builder();
        for (final String name : interfaces)
        {
            builder.addInterface(name);
        }
        return builder.build();
    }

    /**
     * Defaults: no fanout, {@value #DEFAULT_BLOCK_COUNT} blocks of 1 MiB, frame size {@value #DEFAULT_FRAME_SIZE},
     * 10 ms block timeout, not promiscuous, TCP-only filter on, kernel-picked fanout group.
     */
    public static Builder builder()
    {
        return new Builder();
    }

    /** Sockets this configuration opens: one per interface and fanout member. */
    public int sockets()
    {
        return interfaces.size() * fanout;
    }

    /** Collects settings; {@link #build} validates them all. Belongs to one thread. */
    public static final class Builder
    {
        private final List<String> interfaces = new ArrayList<>();
        private int fanout = DEFAULT_FANOUT;
        private int blockSize = DEFAULT_BLOCK_SIZE;
        private int blockCount = DEFAULT_BLOCK_COUNT;
        private int frameSize = DEFAULT_FRAME_SIZE;
        private Duration blockTimeout = DEFAULT_BLOCK_TIMEOUT;
        private boolean promiscuous;
        private boolean tcpOnlyFilter = true;
        private int fanoutGroup;

        private Builder()
        {
        }

        public Builder addInterface(final String name)
        {
            interfaces.add(name);
            return this;
        }

        public Builder interfaces(final List<String> names)
        {
            interfaces.clear();
            interfaces.addAll(names);
            return this;
        }

        public Builder fanout(final int sockets)
        {
            this.fanout = sockets;
            return this;
        }

        /**
         * Takes a long ({@code --block-size} may be parsed with a k/M suffix): a value too large is reported, not
         * cut.
         */
        public Builder blockSize(final long bytes)
        {
            if (bytes < MIN_BLOCK_SIZE || bytes > MAX_BLOCK_SIZE)
            {
                throw new IllegalArgumentException(blockSizeRule(bytes));
            }
            this.blockSize = (int)bytes;
            return this;
        }

        public Builder blockCount(final int blocks)
        {
            this.blockCount = blocks;
            return this;
        }

        public Builder frameSize(final int bytes)
        {
            this.frameSize = bytes;
            return this;
        }

        public Builder blockTimeout(final Duration timeout)
        {
            this.blockTimeout = timeout;
            return this;
        }

        /** {@code --block-timeout} as parsed by the command line's duration parser. */
        public Builder blockTimeoutNanos(final long nanos)
        {
            this.blockTimeout = Duration.ofNanos(nanos);
            return this;
        }

        public Builder promiscuous(final boolean on)
        {
            this.promiscuous = on;
            return this;
        }

        public Builder tcpOnlyFilter(final boolean on)
        {
            this.tcpOnlyFilter = on;
            return this;
        }

        public Builder fanoutGroup(final int id)
        {
            this.fanoutGroup = id;
            return this;
        }

        public AfPacketOptions build()
        {
            return new AfPacketOptions(interfaces, fanout, blockSize, blockCount, frameSize, blockTimeout,
                promiscuous, tcpOnlyFilter, fanoutGroup);
        }
    }
}
