package dev.flowtracker.bench.capture;

import java.util.Arrays;

/**
 * Builds Ethernet/IPv4 or Ethernet/IPv6 TCP frames into one reused buffer, with correct IPv4 header and TCP
 * checksums. Payload bytes are zeros, so the TCP checksum is right for the whole segment even when only part of
 * the payload is captured (zeros add nothing to the sum). Owned by one thread.
 *
 * <p>Options as Linux sends them: MSS, SACK permitted, timestamps and window scale on SYNs; timestamps on every
 * other segment.
 */
final class TcpFrames
{
    static final int FIN = 0x01;
    static final int SYN = 0x02;
    static final int RST = 0x04;
    static final int PSH = 0x08;
    static final int ACK = 0x10;

    static final int ETHERNET_HEADER = 14;
    static final int IPV4_HEADER = 20;
    static final int IPV6_HEADER = 40;
    static final int TCP_HEADER = 20;
    private static final int SYN_OPTIONS = 20;
    private static final int TIMESTAMP_OPTIONS = 12;
    static final int WINDOW_SCALE = 7;
    /** Largest frame: IPv6 jumbo payloads are not made; an IPv4 total length stays under 65,536. */
    static final int MAX_FRAME = ETHERNET_HEADER + 65_535;
    private static final int PROTOCOL_TCP = 6;

    final byte[] frame = new byte[MAX_FRAME];
    private int ipVersion = 4;
    private long clientHigh;
    private long clientLow;
    private int clientPort;
    private long serverHigh;
    private long serverLow;
    private int serverPort;
    private int ipId;
    /** Bytes of the last frame built that a capture with the chosen snap length keeps. */
    int capturedLength;

    /** IPv4 endpoints (addresses as unsigned 32-bit values in the low half of a long). */
    void ipv4(final long client, final int clientPort, final long server, final int serverPort)
    {
        set(4, 0, client, clientPort, 0, server, serverPort);
    }

    void ipv6(
        final long clientHigh, final long clientLow, final int clientPort, final long serverHigh, final long serverLow,
        final int serverPort)
    {
        set(6, clientHigh, clientLow, clientPort, serverHigh, serverLow, serverPort);
    }

    private void set(
        final int version, final long clientHigh, final long clientLow, final int clientPort, final long serverHigh,
        final long serverLow, final int serverPort)
    {
        this.ipVersion = version;
        this.clientHigh = clientHigh;
        this.clientLow = clientLow;
        this.clientPort = clientPort;
        this.serverHigh = serverHigh;
        this.serverLow = serverLow;
        this.serverPort = serverPort;
    }

    /** Largest payload of one segment that still fits an IPv4 total length or the frame buffer. */
    int maxPayload()
    {
        return 65_535 - (ipVersion == 4 ? IPV4_HEADER : IPV6_HEADER) - TCP_HEADER - TIMESTAMP_OPTIONS;
    }

    /**
     * Builds one segment into {@link #frame}.
     *
     * @param fromClient     direction.
     * @param payloadLength  payload bytes on the wire (zeros).
     * @param payloadSnap    payload bytes captured at most (the rest is cut, as by a small snap length).
     * @param tsVal          the sender's timestamp option value.
     * @return the frame's wire length; {@link #capturedLength} is set.
     */
    int build(
        final boolean fromClient, final int seq, final int ack, final int flags, final int window,
        final int payloadLength, final int payloadSnap, final int tsVal, final int tsEcr)
    {
        if (payloadLength < 0 || payloadLength > maxPayload())
        {
            throw new IllegalArgumentException("payload " + payloadLength + " is out of 0.." + maxPayload());
        }
        final byte[] f = frame;
        final int optionsLength = (flags & SYN) != 0 ? SYN_OPTIONS : TIMESTAMP_OPTIONS;
        final int tcpLength = TCP_HEADER + optionsLength + payloadLength;
        final int ip = ETHERNET_HEADER;
        final int ipHeader = ipVersion == 4 ? IPV4_HEADER : IPV6_HEADER;
        final int tcp = ip + ipHeader;
        final long srcHigh = fromClient ? clientHigh : serverHigh;
        final long srcLow = fromClient ? clientLow : serverLow;
        final long dstHigh = fromClient ? serverHigh : clientHigh;
        final long dstLow = fromClient ? serverLow : clientLow;

        // Ethernet: locally administered MACs, 02:00:00:00:00:01 for the client, :02 for the server.
        Arrays.fill(f, 0, 12, (byte)0);
        f[0] = 2;
        f[5] = (byte)(fromClient ? 2 : 1);
        f[6] = 2;
        f[11] = (byte)(fromClient ? 1 : 2);
        InternetChecksum.putU16(f, 12, ipVersion == 4 ? 0x0800 : 0x86DD);

        long pseudo;
        if (ipVersion == 4)
        {
            f[ip] = 0x45;
            f[ip + 1] = 0;
            InternetChecksum.putU16(f, ip + 2, IPV4_HEADER + tcpLength);
            InternetChecksum.putU16(f, ip + 4, ipId++);
            InternetChecksum.putU16(f, ip + 6, 0x4000); // don't fragment
            f[ip + 8] = 64;
            f[ip + 9] = PROTOCOL_TCP;
            InternetChecksum.putU16(f, ip + 10, 0);
            InternetChecksum.putI32(f, ip + 12, (int)srcLow);
            InternetChecksum.putI32(f, ip + 16, (int)dstLow);
            InternetChecksum.putU16(f, ip + 10,
                InternetChecksum.checksum(InternetChecksum.add(f, ip, IPV4_HEADER, 0)));
            pseudo = InternetChecksum.add(f, ip + 12, 8, 0);
        }
        else
        {
            InternetChecksum.putI32(f, ip, 0x6000_0000);
            InternetChecksum.putU16(f, ip + 4, tcpLength);
            f[ip + 6] = PROTOCOL_TCP;
            f[ip + 7] = 64;
            InternetChecksum.putI64(f, ip + 8, srcHigh);
            InternetChecksum.putI64(f, ip + 16, srcLow);
            InternetChecksum.putI64(f, ip + 24, dstHigh);
            InternetChecksum.putI64(f, ip + 32, dstLow);
            pseudo = InternetChecksum.add(f, ip + 8, 32, 0);
        }
        pseudo += PROTOCOL_TCP + tcpLength;

        InternetChecksum.putU16(f, tcp, fromClient ? clientPort : serverPort);
        InternetChecksum.putU16(f, tcp + 2, fromClient ? serverPort : clientPort);
        InternetChecksum.putI32(f, tcp + 4, seq);
        InternetChecksum.putI32(f, tcp + 8, (flags & ACK) != 0 ? ack : 0);
        f[tcp + 12] = (byte)(((TCP_HEADER + optionsLength) / 4) << 4);
        f[tcp + 13] = (byte)flags;
        InternetChecksum.putU16(f, tcp + 14, window);
        InternetChecksum.putU16(f, tcp + 16, 0);
        InternetChecksum.putU16(f, tcp + 18, 0);
        int o = tcp + TCP_HEADER;
        if ((flags & SYN) != 0)
        {
            f[o++] = 2; // MSS 1460 (1440 over IPv6)
            f[o++] = 4;
            InternetChecksum.putU16(f, o, ipVersion == 4 ? 1460 : 1440);
            o += 2;
            f[o++] = 4; // SACK permitted
            f[o++] = 2;
            o = timestamps(f, o, tsVal, tsEcr);
            f[o++] = 1; // NOP, window scale
            f[o++] = 3;
            f[o++] = 3;
            f[o++] = WINDOW_SCALE;
        }
        else
        {
            f[o++] = 1;
            f[o++] = 1;
            o = timestamps(f, o, tsVal, tsEcr);
        }
        final int headersEnd = o;
        final int wireLength = headersEnd + payloadLength;
        capturedLength = headersEnd + Math.min(payloadLength, Math.max(0, payloadSnap));
        Arrays.fill(f, headersEnd, capturedLength, (byte)0);
        final long sum = InternetChecksum.add(f, tcp, headersEnd - tcp, pseudo); // zeros add nothing
        InternetChecksum.putU16(f, tcp + 16, InternetChecksum.checksum(sum));
        return wireLength;
    }

    private static int timestamps(final byte[] f, final int at, final int tsVal, final int tsEcr)
    {
        int o = at;
        f[o++] = 8;
        f[o++] = 10;
        InternetChecksum.putI32(f, o, tsVal);
        InternetChecksum.putI32(f, o + 4, tsEcr);
        return o + 8;
    }
}
