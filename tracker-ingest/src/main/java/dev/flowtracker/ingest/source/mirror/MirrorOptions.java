package dev.flowtracker.ingest.source.mirror;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * How a {@link MirrorSource} listens. Immutable; the constructor validates and says what is wrong in an
 * {@link IllegalArgumentException} whose message can be shown to an operator as it is.
 *
 * <p>For the command line: {@code --vxlan-listen ADDR:PORT} is {@code MirrorOptions.of(MirrorProtocol.VXLAN,
 * text)}, {@code --geneve-listen ADDR:PORT} the same with {@link MirrorProtocol#GENEVE}; then {@link #withThreads}
 * and {@link #withReceiveBufferBytes} for the tuning flags.
 *
 * @param protocol           the encapsulation expected on the port.
 * @param listen             the local address and UDP port; port 0 picks a free port (tests).
 * @param threads            sockets, event loops and delivery threads: one socket per loop, all bound to
 *                           {@code listen} with SO_REUSEPORT, so the kernel spreads senders over them.
 * @param receiveBufferBytes SO_RCVBUF asked for each socket. The kernel caps it at {@code net.core.rmem_max}
 *                           (and doubles it for its bookkeeping); {@link MirrorSource#receiveBufferBytes()} reports
 *                           what was granted.
 */
public record MirrorOptions(MirrorProtocol protocol, InetSocketAddress listen, int threads, int receiveBufferBytes)
{
    public static final int DEFAULT_THREADS = 1;
    public static final int MAX_THREADS = 64;
    /** 8 MiB: about 900 jumbo or 5,500 full-size (1,514-byte) mirrored frames of slack per socket. */
    public static final int DEFAULT_RECEIVE_BUFFER_BYTES = 8 << 20;
    public static final int MIN_RECEIVE_BUFFER_BYTES = 64 << 10;
    public static final int MAX_RECEIVE_BUFFER_BYTES = 1 << 30;
    /** VNIs have 24 bits. */
    public static final int MAX_VNI = 0xFF_FFFF;

    public MirrorOptions
    {
        if (protocol == null)
        {
            throw new IllegalArgumentException("mirror protocol missing (vxlan or geneve)");
        }
        if (listen == null)
        {
            throw new IllegalArgumentException(protocol.label() + " listen address missing");
        }
        if (listen.isUnresolved())
        {
            throw new IllegalArgumentException(protocol.label() + " listen address " + listen.getHostString() +
                " does not resolve");
        }
        if (threads < 1 || threads > MAX_THREADS)
        {
            throw new IllegalArgumentException(protocol.label() + " receiver threads must be 1-" + MAX_THREADS +
                ", was " + threads);
        }
        if (receiveBufferBytes < MIN_RECEIVE_BUFFER_BYTES || receiveBufferBytes > MAX_RECEIVE_BUFFER_BYTES)
        {
            throw new IllegalArgumentException(protocol.label() + " receive buffer must be " +
                (MIN_RECEIVE_BUFFER_BYTES >> 10) + " KiB to " + (MAX_RECEIVE_BUFFER_BYTES >> 20) + " MiB, was " +
                receiveBufferBytes + " bytes");
        }
    }

    /** Default threads and receive buffer on {@code listen}. */
    public MirrorOptions(final MirrorProtocol protocol, final InetSocketAddress listen)
    {
        this(protocol, listen, DEFAULT_THREADS, DEFAULT_RECEIVE_BUFFER_BYTES);
    }

    /**
     * Options for a command-line listen argument: {@code ADDR:PORT}, {@code [IPV6]:PORT}, {@code :PORT} (every
     * IPv4 address), or {@code ADDR} alone for the protocol's IANA port (4789 for VXLAN, 6081 for Geneve).
     *
     * @throws IllegalArgumentException naming the problem (bad port, unknown host, missing brackets).
     */
    public static MirrorOptions of(final MirrorProtocol protocol, final String listen)
    {
        if (protocol == null)
        {
            throw new IllegalArgumentException("mirror protocol missing (vxlan or geneve)");
        }
        return new MirrorOptions(protocol, parseListen(listen, protocol.defaultPort()));
    }

    /**
     * Parses {@code ADDR:PORT}, {@code [IPV6]:PORT} or {@code :PORT} (every IPv4 address; {@code [::]:PORT} for
     * IPv4 and IPv6). Host names are resolved now.
     *
     * @throws IllegalArgumentException naming the problem.
     */
    public static InetSocketAddress parseListen(final String text)
    {
        return parseListen(text, -1);
    }

    /** As {@link #parseListen(String)}; without a port, {@code defaultPort} (or an error when it is -1). */
    static InetSocketAddress parseListen(final String text, final int defaultPort)
    {
        if (text == null || text.isBlank())
        {
            throw new IllegalArgumentException("listen address missing: expected ADDR:PORT");
        }
        final String trimmed = text.strip();
        final String host;
        final String port;
        if (trimmed.startsWith("["))
        {
            final int close = trimmed.indexOf(']');
            if (close < 0)
            {
                throw new IllegalArgumentException("listen address " + text + ": missing ']' after the IPv6 address");
            }
            host = trimmed.substring(1, close);
            final String rest = trimmed.substring(close + 1);
            if (!rest.isEmpty() && !rest.startsWith(":"))
            {
                throw new IllegalArgumentException("listen address " + text + ": expected [IPV6]:PORT");
            }
            port = rest.isEmpty() ? null : rest.substring(1);
        }
        else
        {
            final int colon = trimmed.lastIndexOf(':');
            if (colon >= 0 && trimmed.indexOf(':') != colon)
            {
                throw new IllegalArgumentException("listen address " + text +
                    ": write an IPv6 address in brackets, as [::1]:4789");
            }
            host = colon < 0 ? trimmed : trimmed.substring(0, colon);
            port = colon < 0 ? null : trimmed.substring(colon + 1);
        }
        final int portNumber;
        if (port == null)
        {
            if (defaultPort < 0)
            {
                throw new IllegalArgumentException("listen address " + text + ": port missing, expected ADDR:PORT");
            }
            portNumber = defaultPort;
        }
        else
        {
            portNumber = parsePort(text, port);
        }
        if (host.isEmpty() || host.equals("*"))
        {
            return new InetSocketAddress(portNumber);
        }
        try
        {
            return new InetSocketAddress(InetAddress.getByName(host), portNumber);
        }
        catch (final UnknownHostException e)
        {
            throw new IllegalArgumentException("listen address " + text + ": unknown host " + host, e);
        }
    }

    private static int parsePort(final String text, final String port)
    {
        final int value;
        try
        {
            value = Integer.parseInt(port);
        }
        catch (final NumberFormatException e)
        {
            throw new IllegalArgumentException("listen address " + text + ": port '" + port + "' is not a number", e);
        }
        if (value < 0 || value > 65535)
        {
            throw new IllegalArgumentException("listen address " + text + ": port must be 0-65535, was " + value);
        }
        return value;
    }

    public MirrorOptions withThreads(final int threads)
    {
        return new MirrorOptions(protocol, listen, threads, receiveBufferBytes);
    }

    public MirrorOptions withReceiveBufferBytes(final int receiveBufferBytes)
    {
        return new MirrorOptions(protocol, listen, threads, receiveBufferBytes);
    }

    /** {@code vxlan on 0.0.0.0:4789}, for messages. */
    public String describe()
    {
        return protocol.label() + " on " + hostAndPort(listen);
    }

    /** {@code 1.2.3.4:4789} or {@code [::1]:4789}. */
    static String hostAndPort(final InetSocketAddress address)
    {
        final String host = address.getAddress().getHostAddress();
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + address.getPort();
    }
}
