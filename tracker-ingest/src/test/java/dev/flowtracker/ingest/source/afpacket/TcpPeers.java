package dev.flowtracker.ingest.source.afpacket;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Real TCP between the two namespaces of a {@link NetnsPair}, through the kernel's own stack: a server that answers
 * every request with a fixed number of bytes, and a client that connects, sends, half-closes, reads the answer to
 * the end and closes (a complete connection: Zeek's SF). Every step is bounded in time (socket timeouts) and every
 * generator in count.
 */
final class TcpPeers
{
    static final int PORT = 8080;
    /** A port nothing listens on: connecting gets a RST (Zeek's REJ). */
    static final int CLOSED_PORT = 8081;
    static final int UDP_PORT = 9999;
    private static final int TIMEOUT_MILLIS = 5_000;

    private TcpPeers()
    {
    }

    /**
     * A server listening in the server namespace on {@code address}:{@link #PORT}; it serves connections one after
     * the other (read the request to its end, answer {@code responseBytes}, close) until closed.
     */
    static final class Server implements AutoCloseable
    {
        private final ServerSocket listener;
        private final Thread thread;
        private final AtomicInteger served = new AtomicInteger();

        private Server(final ServerSocket listener, final int responseBytes)
        {
            this.listener = listener;
            this.thread = new Thread(() -> serve(responseBytes), "test-tcp-server");
            thread.setDaemon(true);
            thread.start();
        }

        static Server start(final NetnsPair net, final String address, final int responseBytes) throws Exception
        {
            final ServerSocket listener = NetnsPair.call(net.server, 10, () ->
            {
                final ServerSocket socket = new ServerSocket();
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(InetAddress.getByName(address), PORT), 64);
                return socket;
            });
            return new Server(listener, responseBytes);
        }

        private void serve(final int responseBytes)
        {
            final byte[] response = new byte[responseBytes];
            Arrays.fill(response, (byte)'r');
            while (!listener.isClosed())
            {
                try (Socket connection = listener.accept())
                {
                    connection.setSoTimeout(TIMEOUT_MILLIS);
                    final InputStream in = connection.getInputStream();
                    final byte[] buffer = new byte[8192];
                    while (in.read(buffer) >= 0)
                    {
                        // the whole request, until the client half-closes
                    }
                    final OutputStream out = connection.getOutputStream();
                    out.write(response);
                    out.flush();
                    served.incrementAndGet();
                }
                catch (final SocketException e)
                {
                    if (listener.isClosed())
                    {
                        return;
                    }
                }
                catch (final IOException e)
                {
                    // one bad connection does not stop the server; the test's record checks will see it
                }
            }
        }

        int served()
        {
            return served.get();
        }

        @Override
        public void close() throws IOException
        {
            listener.close();
            try
            {
                thread.join(TIMEOUT_MILLIS);
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * From the client namespace: connects to {@code server}:{@code port}, sends {@code requestBytes}, half-closes,
     * reads the answer to its end, closes. Returns the bytes received.
     */
    static int exchange(final NetnsPair net, final String server, final int requestBytes) throws Exception
    {
        return NetnsPair.call(net.client, 20, () ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(InetAddress.getByName(server), PORT), TIMEOUT_MILLIS);
                socket.setSoTimeout(TIMEOUT_MILLIS);
                final byte[] request = new byte[requestBytes];
                Arrays.fill(request, (byte)'q');
                socket.getOutputStream().write(request);
                socket.shutdownOutput();
                final InputStream in = socket.getInputStream();
                final byte[] buffer = new byte[8192];
                int received = 0;
                for (int n; (n = in.read(buffer)) >= 0; )
                {
                    received += n;
                }
                return received;
            }
        });
    }

    /** From the client namespace: connects to a port nobody listens on; true when it was refused (RST). */
    static boolean refused(final NetnsPair net, final String server) throws Exception
    {
        return NetnsPair.call(net.client, 20, () ->
        {
            try (Socket socket = new Socket())
            {
                socket.connect(new InetSocketAddress(InetAddress.getByName(server), CLOSED_PORT), TIMEOUT_MILLIS);
                return false;
            }
            catch (final ConnectException e)
            {
                return true;
            }
        });
    }

    /** From the client namespace: {@code count} UDP datagrams to the server (nobody listens: ICMP errors come back). */
    static void udp(final NetnsPair net, final String server, final int count) throws Exception
    {
        NetnsPair.call(net.client, 20, () ->
        {
            try (DatagramSocket socket = new DatagramSocket())
            {
                final byte[] payload = new byte[64];
                for (int i = 0; i < count; i++)
                {
                    socket.send(new DatagramPacket(payload, payload.length, InetAddress.getByName(server), UDP_PORT));
                }
            }
            return null;
        });
    }

    /** From the client namespace: ICMP echo requests (Java sends real ICMP echo when it may open a raw socket). */
    static int ping(final NetnsPair net, final String server, final int count) throws Exception
    {
        return NetnsPair.call(net.client, 30, () ->
        {
            int answered = 0;
            for (int i = 0; i < count; i++)
            {
                if (InetAddress.getByName(server).isReachable(1000))
                {
                    answered++;
                }
            }
            return answered;
        });
    }
}
