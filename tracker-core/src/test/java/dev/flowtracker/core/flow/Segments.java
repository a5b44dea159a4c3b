package dev.flowtracker.core.flow;

import dev.flowtracker.core.decode.DecodedPacket;

/** Hand-built IPv4 TCP segments for the engine's tests: a 20-byte header without options, fully captured. */
public final class Segments
{
    private Segments()
    {
    }

    public static DecodedPacket ipv4(
        final long nanos, final long srcIp, final int srcPort, final long dstIp, final int dstPort, final int flags,
        final int seq, final int ack, final int payload, final int window)
    {
        final DecodedPacket p = new DecodedPacket();
        p.resetDecodedFields();
        p.timestampNanos = nanos;
        p.ipVersion = 4;
        p.srcLow = srcIp;
        p.dstLow = dstIp;
        p.srcPort = srcPort;
        p.dstPort = dstPort;
        p.flags = flags;
        p.seq = seq;
        p.ack = ack;
        p.window = window;
        p.tcpHeaderLength = 20;
        p.tcpHeaderComplete = true;
        p.payloadLength = payload;
        p.capturedPayloadLength = payload;
        p.ipLength = 40 + payload;
        p.tcpCapturedLength = 20 + payload;
        return p;
    }
}
