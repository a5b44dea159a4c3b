package dev.flowtracker.ingest.source.mirror;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Listen addresses as the command line gives them, defaults, and the messages of invalid options. */
class MirrorOptionsTest
{
    @Test
    void shouldParseListenAddresses() throws Exception
    {
        assertEquals(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 4789),
            MirrorOptions.parseListen("127.0.0.1:4789"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::1"), 6081),
            MirrorOptions.parseListen("[::1]:6081"));
        assertEquals(new InetSocketAddress(4789), MirrorOptions.parseListen(":4789"));
        assertEquals(new InetSocketAddress(4789), MirrorOptions.parseListen("*:4789"));
        assertEquals(new InetSocketAddress(InetAddress.getByName("::"), 0), MirrorOptions.parseListen(" [::]:0 "));
    }

    @Test
    void shouldUseTheProtocolsPortWhenNoneIsGiven() throws Exception
    {
        final MirrorOptions vxlan = MirrorOptions.of(MirrorProtocol.VXLAN, "127.0.0.1");
        assertEquals(4789, vxlan.listen().getPort());
        assertEquals(MirrorOptions.DEFAULT_THREADS, vxlan.threads());
        assertEquals(MirrorOptions.DEFAULT_RECEIVE_BUFFER_BYTES, vxlan.receiveBufferBytes());
        assertEquals(6081, MirrorOptions.of(MirrorProtocol.GENEVE, "[::1]").listen().getPort());
        assertEquals(9999, MirrorOptions.of(MirrorProtocol.GENEVE, "127.0.0.1:9999").listen().getPort());
        assertEquals("vxlan on 127.0.0.1:4789", vxlan.describe());
        assertEquals("geneve on [0:0:0:0:0:0:0:1]:6081", MirrorOptions.of(MirrorProtocol.GENEVE, "[::1]").describe());
        assertEquals(MirrorProtocol.GENEVE, MirrorProtocol.byLabel("geneve"));
    }

    @Test
    void shouldExplainBadListenAddresses()
    {
        assertMessage("port missing", () -> MirrorOptions.parseListen("127.0.0.1"));
        assertMessage("port 'x' is not a number", () -> MirrorOptions.parseListen("127.0.0.1:x"));
        assertMessage("port must be 0-65535, was 70000", () -> MirrorOptions.parseListen(":70000"));
        assertMessage("in brackets", () -> MirrorOptions.parseListen("::1:4789"));
        assertMessage("missing ']'", () -> MirrorOptions.parseListen("[::1:4789"));
        assertMessage("expected [IPV6]:PORT", () -> MirrorOptions.parseListen("[::1]4789"));
        assertMessage("listen address missing", () -> MirrorOptions.parseListen(" "));
        assertMessage("unknown host no-such-host.invalid", () -> MirrorOptions.parseListen("no-such-host.invalid:1"));
    }

    @Test
    void shouldExplainInvalidOptions()
    {
        final InetSocketAddress any = new InetSocketAddress(4789);
        assertMessage("vxlan receiver threads must be 1-64, was 0",
            () -> new MirrorOptions(MirrorProtocol.VXLAN, any).withThreads(0));
        assertMessage("threads must be 1-64, was 65",
            () -> new MirrorOptions(MirrorProtocol.VXLAN, any).withThreads(65));
        assertMessage("receive buffer must be 64 KiB to 1024 MiB, was 1000 bytes",
            () -> new MirrorOptions(MirrorProtocol.GENEVE, any).withReceiveBufferBytes(1000));
        assertMessage("mirror protocol missing", () -> new MirrorOptions(null, any));
        assertMessage("does not resolve",
            () -> new MirrorOptions(MirrorProtocol.VXLAN, InetSocketAddress.createUnresolved("x", 1)));
        assertEquals(3, new MirrorOptions(MirrorProtocol.VXLAN, any).withThreads(3).threads());
    }

    private static void assertMessage(final String part, final Executable call)
    {
        final IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "'" + e.getMessage() + "' should say '" + part + "'");
    }
}
