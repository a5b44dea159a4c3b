package dev.flowtracker.ingest.source.afpacket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

/** The capture options: defaults, and one clear message per invalid setting (the command line shows them as is). */
class AfPacketOptionsTest
{
    @Test
    void shouldDefaultToOneSocketPerInterfaceA64MiBRingAndTheTcpOnlyFilter()
    {
        final AfPacketOptions options = AfPacketOptions.of("eth0", "eth1");
        assertEquals(List.of("eth0", "eth1"), options.interfaces());
        assertEquals(1, options.fanout());
        assertEquals(1 << 20, options.blockSize());
        assertEquals(64, options.blockCount());
        assertEquals(2048, options.frameSize());
        assertEquals(Duration.ofMillis(10), options.blockTimeout());
        assertFalse(options.promiscuous());
        assertTrue(options.tcpOnlyFilter());
        assertEquals(0, options.fanoutGroup());
        assertEquals(2, options.sockets());
        assertEquals(2, new AfPacketSource(options).deliveryThreads());
    }

    @Test
    void shouldTakeEveryCommandLineSettingThroughTheBuilder()
    {
        final AfPacketOptions options = AfPacketOptions.builder().addInterface("eth0").fanout(4).blockSize(4L << 20)
            .blockCount(16).blockTimeoutNanos(50_000_000L).promiscuous(true).tcpOnlyFilter(false).fanoutGroup(77)
            .frameSize(4096).build();
        assertEquals(4, options.sockets());
        assertEquals(4 << 20, options.blockSize());
        assertEquals(16, options.blockCount());
        assertEquals(Duration.ofMillis(50), options.blockTimeout());
        assertTrue(options.promiscuous());
        assertFalse(options.tcpOnlyFilter());
        assertEquals(77, options.fanoutGroup());
        assertEquals(4096, options.frameSize());
        final AfPacketSource source = new AfPacketSource(options);
        assertEquals("af_packet", source.kind());
        assertEquals("eth0 (fanout 4)", source.description());
        assertTrue(source.live());
        assertEquals(4, source.deliveryThreads());
    }

    @Test
    void shouldRejectInvalidSettingsWithMessagesThatNameThem()
    {
        assertRejected(b -> { }, "at least one interface is needed");
        assertRejected(b -> b.addInterface("eth0").addInterface("eth0"), "interface eth0 is given twice");
        assertRejected(b -> b.addInterface("a-very-long-interface"),
            "'a-very-long-interface' is not an interface name (1 to 15 printable characters, no '/', ':' or spaces)");
        assertRejected(b -> b.addInterface("eth 0"),
            "'eth 0' is not an interface name (1 to 15 printable characters, no '/', ':' or spaces)");
        assertRejected(b -> b.addInterface("eth0").fanout(0), "fanout must be 1 to 64 sockets per interface, was 0");
        assertRejected(b -> b.addInterface("eth0").blockSize(5000),
            "block size must be a power of two from 4096 to 268435456 bytes, was 5000");
        assertRejected(b -> b.addInterface("eth0").blockSize(1L << 33),
            "block size must be a power of two from 4096 to 268435456 bytes, was 8589934592");
        assertRejected(b -> b.addInterface("eth0").blockCount(1), "ring blocks must be 2 to 65536, was 1");
        assertRejected(b -> b.addInterface("eth0").blockSize(1 << 28).blockCount(1 << 7),
            "a ring of 128 blocks of 268435456 bytes is larger than 16 GiB");
        assertRejected(b -> b.addInterface("eth0").frameSize(100),
            "frame size must be a multiple of 16 from 128 to the block size (1048576), was 100");
        assertRejected(b -> b.addInterface("eth0").blockTimeout(Duration.ofMillis(0)),
            "block timeout must be whole milliseconds from 1ms to 60s, was 0ms");
        assertRejected(b -> b.addInterface("eth0").blockTimeoutNanos(1_500_000),
            "block timeout must be whole milliseconds from 1ms to 60s, was 1500000ns");
        assertRejected(b -> b.addInterface("eth0").blockTimeout(Duration.ofMinutes(2)),
            "block timeout must be whole milliseconds from 1ms to 60s, was 120000ms");
        assertRejected(b -> b.addInterface("eth0").fanoutGroup(70_000),
            "fanout group must be 1 to 65535 (0: the kernel picks one), was 70000");
    }

    private static void assertRejected(final Consumer<AfPacketOptions.Builder> settings, final String message)
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        {
            final AfPacketOptions.Builder builder = AfPacketOptions.builder();
            settings.accept(builder);
            builder.build();
        });
        assertEquals(message, e.getMessage());
    }
}
