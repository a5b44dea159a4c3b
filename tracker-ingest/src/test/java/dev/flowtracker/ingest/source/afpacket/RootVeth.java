package dev.flowtracker.ingest.source.afpacket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A veth pair with one end in this process's own network namespace ({@link #name}, no addresses, IPv6 off) and the
 * other ({@link #PEER_INTERFACE}) in a namespace of its own ({@link #namespace}, IPv6 off): frames sent into the peer
 * arrive on {@link #name}, where a source started from any thread of this process can capture them. The link carries
 * nothing else: no addresses, no IPv6 autoconfiguration. Names carry the pid and a counter; both are deleted by name
 * before creation and by {@link #close}.
 */
final class RootVeth implements AutoCloseable
{
    static final String PEER_INTERFACE = "ftpeer0";
    private static final AtomicInteger NEXT = new AtomicInteger();

    final String name;
    final String namespace;

    private RootVeth(final String name, final String namespace)
    {
        this.name = name;
        this.namespace = namespace;
    }

    static RootVeth create() throws IOException
    {
        final int n = NEXT.incrementAndGet();
        final long pid = ProcessHandle.current().pid();
        final RootVeth veth = new RootVeth("ftc" + pid + "x" + n, "ft" + pid + "-" + n + "-peer");
        veth.delete();
        try
        {
            NetnsPair.ip("netns", "add", veth.namespace);
            NetnsPair.ip("netns", "exec", veth.namespace, sysctl(), "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1");
            NetnsPair.ip("link", "add", veth.name, "type", "veth", "peer", "name", PEER_INTERFACE, "netns",
                veth.namespace);
            NetnsPair.run(List.of(sysctl(), "-q", "-w", "net.ipv6.conf." + veth.name + ".disable_ipv6=1"));
            NetnsPair.ip("link", "set", veth.name, "up");
            NetnsPair.ip("-n", veth.namespace, "link", "set", PEER_INTERFACE, "up");
            return veth;
        }
        catch (final IOException | RuntimeException e)
        {
            veth.close();
            throw e;
        }
    }

    private static String sysctl()
    {
        final String sysctl = NetnsPair.find("sysctl");
        if (sysctl == null)
        {
            throw new IllegalStateException("needs the sysctl command (procps)");
        }
        return sysctl;
    }

    private void delete()
    {
        if (Files.exists(Path.of("/sys/class/net", name)))
        {
            try
            {
                NetnsPair.ip("link", "del", name);
            }
            catch (final IOException e)
            {
                System.err.println("RootVeth: could not delete " + name + ": " + e.getMessage());
            }
        }
        if (Files.exists(Path.of("/run/netns", namespace)))
        {
            try
            {
                NetnsPair.ip("netns", "del", namespace);
            }
            catch (final IOException e)
            {
                System.err.println("RootVeth: could not delete namespace " + namespace + ": " + e.getMessage());
            }
        }
    }

    @Override
    public void close()
    {
        delete();
    }
}
