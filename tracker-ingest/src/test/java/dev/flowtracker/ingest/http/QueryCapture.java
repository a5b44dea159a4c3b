package dev.flowtracker.ingest.http;

import dev.flowtracker.ingest.source.file.PcapTestWriter;
import dev.flowtracker.ingest.source.file.TestFrames;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A capture made for flow queries: five IPv4 connections that differ in exactly what {@code /flows} filters and sorts
 * by. Without a trickle (below) every connection is still active when the capture has been read.
 *
 * <pre>
 * (last packets in this order)
 * connection  orig            resp           packets  payload  retransmissions  max ACK RTT
 * BULK        10.0.0.1:40001  10.0.0.9:80      207   100 000   4 (ratio 1.9 %)  1 ms
 * LOSSY       10.0.0.2:40002  10.0.0.9:443      13       600   2 (ratio 15 %)   1 ms
 * SLOW        10.1.0.3:40003  10.0.0.9:8080      7+       20   0                200 ms
 * REJECTED    10.0.0.4:40004  10.0.0.9:9          2        0   0                0.1 ms (conn_state REJ)
 * UNANSWERED  10.0.0.5:40005  10.0.0.9:22         1        0   0                none   (conn_state S0)
 * </pre>
 * REJECTED and UNANSWERED end 5 s of packet time after their last packet (Zeek's close and attempt delays).
 * With {@code trickleSeconds} the SLOW connection then sends 10 bytes every 100 ms for that long (ACKed at once),
 * so a paced replay keeps it active. Public for the tests of {@code tracker top}.
 */
public final class QueryCapture
{
    public static final int BULK_PORT = 40001;
    public static final int LOSSY_PORT = 40002;
    public static final int SLOW_PORT = 40003;
    public static final int REJECTED_PORT = 40004;
    public static final int UNANSWERED_PORT = 40005;
    public static final String SERVER = "10.0.0.9";

    private static final int SERVER_IP = 0x0A00_0009;
    private static final long START_SECONDS = 1_800_000_000L;

    private final PcapTestWriter pcap = PcapTestWriter.ethernet();

    private QueryCapture()
    {
    }

    public static Path write(final Path file, final int trickleSeconds) throws IOException
    {
        final QueryCapture c = new QueryCapture();
        c.bulk();
        c.rejected();
        c.unanswered();
        c.lossy();
        c.slow(trickleSeconds);
        return c.pcap.writeTo(file);
    }

    /** At {@code micros} after the start, with its TCP checksum set (Zeek ignores segments whose checksum is bad). */
    private void at(final long micros, final byte[] frame)
    {
        pcap.record(START_SECONDS + micros / 1_000_000, micros % 1_000_000, withTcpChecksum(frame));
    }

    /** Sets the checksum of {@link TestFrames#tcp}'s frame: Ethernet, a 20-byte IPv4 header, TCP. */
    static byte[] withTcpChecksum(final byte[] frame)
    {
        final int ip = 14;
        final int tcp = ip + 20;
        final int tcpLength = frame.length - tcp;
        long sum = 6 + tcpLength;
        for (int i = ip + 12; i < ip + 20; i += 2)
        {
            sum += (frame[i] & 0xFF) << 8 | frame[i + 1] & 0xFF; // source and destination addresses
        }
        frame[tcp + 16] = 0;
        frame[tcp + 17] = 0;
        for (int i = tcp; i < frame.length; i += 2)
        {
            sum += (frame[i] & 0xFF) << 8 | (i + 1 < frame.length ? frame[i + 1] & 0xFF : 0);
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        final int checksum = (int)~sum & 0xFFFF;
        frame[tcp + 16] = (byte)(checksum >>> 8);
        frame[tcp + 17] = (byte)checksum;
        return frame;
    }

    private long handshake(final long micros, final int client, final int port, final int serverPort)
    {
        at(micros, TestFrames.tcp(client, SERVER_IP, port, serverPort, 1000, 0, TestFrames.SYN, new byte[0]));
        at(micros + 100, TestFrames.tcp(SERVER_IP, client, serverPort, port, 5000, 1001,
            TestFrames.SYN | TestFrames.ACK, new byte[0]));
        at(micros + 200, TestFrames.tcp(client, SERVER_IP, port, serverPort, 1001, 5001, TestFrames.ACK, new byte[0]));
        return micros + 1000;
    }

    private void bulk()
    {
        final int client = 0x0A00_0001;
        long t = handshake(0, client, BULK_PORT, 80);
        for (int i = 0; i < 100; i++)
        {
            final long seq = 1001 + 1000L * i;
            at(t, TestFrames.tcp(client, SERVER_IP, BULK_PORT, 80, seq, 5001, TestFrames.ACK | TestFrames.PSH,
                new byte[1000]));
            if (i % 25 == 10)
            {
                at(t + 500, TestFrames.tcp(client, SERVER_IP, BULK_PORT, 80, seq, 5001, TestFrames.ACK | TestFrames.PSH,
                    new byte[1000])); // the same segment again: a retransmission
            }
            at(t + 1000, TestFrames.tcp(SERVER_IP, client, 80, BULK_PORT, 5001, seq + 1000, TestFrames.ACK,
                new byte[0]));
            t += 2000;
        }
    }

    private void lossy()
    {
        final int client = 0x0A00_0002;
        long t = handshake(300_000, client, LOSSY_PORT, 443);
        for (int i = 0; i < 4; i++)
        {
            final long seq = 1001 + 100L * i;
            at(t, TestFrames.tcp(client, SERVER_IP, LOSSY_PORT, 443, seq, 5001, TestFrames.ACK | TestFrames.PSH,
                new byte[100]));
            if (i < 2)
            {
                at(t + 500, TestFrames.tcp(client, SERVER_IP, LOSSY_PORT, 443, seq, 5001,
                    TestFrames.ACK | TestFrames.PSH, new byte[100]));
            }
            at(t + 1000, TestFrames.tcp(SERVER_IP, client, 443, LOSSY_PORT, 5001, seq + 100, TestFrames.ACK,
                new byte[0]));
            t += 2000;
        }
    }

    private void slow(final int trickleSeconds)
    {
        final int client = 0x0A01_0003;
        long t = handshake(400_000, client, SLOW_PORT, 8080);
        long seq = 1001;
        for (int i = 0; i < 2; i++)
        {
            at(t, TestFrames.tcp(client, SERVER_IP, SLOW_PORT, 8080, seq, 5001, TestFrames.ACK | TestFrames.PSH,
                new byte[10]));
            seq += 10;
            at(t + 200_000, TestFrames.tcp(SERVER_IP, client, 8080, SLOW_PORT, 5001, seq, TestFrames.ACK,
                new byte[0])); // 200 ms later: the largest ACK RTT
            t += 250_000;
        }
        for (long tenth = 1; tenth <= trickleSeconds * 10L; tenth++)
        {
            at(t, TestFrames.tcp(client, SERVER_IP, SLOW_PORT, 8080, seq, 5001, TestFrames.ACK | TestFrames.PSH,
                new byte[10]));
            seq += 10;
            at(t + 50, TestFrames.tcp(SERVER_IP, client, 8080, SLOW_PORT, 5001, seq, TestFrames.ACK, new byte[0]));
            t += 100_000;
        }
    }

    private void unanswered()
    {
        at(260_000, TestFrames.tcp(0x0A00_0005, SERVER_IP, UNANSWERED_PORT, 22, 9000, 0, TestFrames.SYN, new byte[0]));
    }

    private void rejected()
    {
        final int client = 0x0A00_0004;
        at(250_000, TestFrames.tcp(client, SERVER_IP, REJECTED_PORT, 9, 7000, 0, TestFrames.SYN, new byte[0]));
        at(250_100, TestFrames.tcp(SERVER_IP, client, 9, REJECTED_PORT, 0, 7001, TestFrames.RST | TestFrames.ACK,
            new byte[0]));
    }
}
