package dev.flowtracker.ingest.http;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/** HTTP/1.1 over a plain socket, for what java.net.http hides: source addresses, pipelining, half requests. */
final class RawHttp
{
    /** One response: status, the head as received, body. */
    record Response(int status, String head, String body)
    {
    }

    private RawHttp()
    {
    }

    /** A loopback address other than 127.0.0.1 (the whole 127/8 is loopback on Linux): another client. */
    static InetAddress loopback(final int last) throws IOException
    {
        return InetAddress.getByAddress(new byte[] {127, 0, 0, (byte)last});
    }

    /** A connection to {@code server} from {@code from}, reads bounded by {@code timeoutMillis}. */
    static Socket connect(final InetAddress from, final InetSocketAddress server, final int timeoutMillis)
        throws IOException
    {
        final Socket socket = new Socket();
        socket.bind(new InetSocketAddress(from, 0));
        socket.connect(server, timeoutMillis);
        socket.setSoTimeout(timeoutMillis);
        return socket;
    }

    static String get(final String path, final String authorization)
    {
        return "GET " + path + " HTTP/1.1\r\nHost: tracker\r\n" +
            (authorization == null ? "" : "Authorization: " + authorization + "\r\n") + "\r\n";
    }

    static String basic(final String user, final String password)
    {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":" + password).getBytes(StandardCharsets.UTF_8));
    }

    static void send(final Socket socket, final String text) throws IOException
    {
        socket.getOutputStream().write(text.getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
    }

    /** Reads one response (Content-Length framed), or null at the end of the stream before one began. */
    static Response read(final InputStream in) throws IOException
    {
        final ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (matched < 4)
        {
            final int b = in.read();
            if (b < 0)
            {
                if (head.size() == 0)
                {
                    return null;
                }
                throw new IOException("cut off in the head: " + head.toString(StandardCharsets.US_ASCII));
            }
            head.write(b);
            matched = b == "\r\n\r\n".charAt(matched) ? matched + 1 : b == '\r' ? 1 : 0;
        }
        final String text = head.toString(StandardCharsets.US_ASCII);
        int length = 0;
        for (final String line : text.split("\r\n"))
        {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:"))
            {
                length = Integer.parseInt(line.substring("content-length:".length()).strip());
            }
        }
        final byte[] body = in.readNBytes(length);
        return new Response(Integer.parseInt(text.substring(9, 12)), text, new String(body, StandardCharsets.UTF_8));
    }

    /** One request on a new connection from {@code from}; the response, or null when closed without one. */
    static Response exchange(final InetAddress from, final InetSocketAddress server, final String request,
        final int timeoutMillis) throws IOException
    {
        try (Socket socket = connect(from, server, timeoutMillis))
        {
            send(socket, request);
            return read(socket.getInputStream());
        }
    }

    /** Whether the server closed (or reset) {@code socket} within its read timeout; reads and drops any answer. */
    static boolean closedByServer(final Socket socket) throws IOException
    {
        try
        {
            while (socket.getInputStream().read() >= 0)
            {
                // an answer before the close is fine
            }
            return true;
        }
        catch (final java.net.SocketTimeoutException e)
        {
            return false;
        }
        catch (final java.net.SocketException e)
        {
            return true; // reset
        }
    }
}
