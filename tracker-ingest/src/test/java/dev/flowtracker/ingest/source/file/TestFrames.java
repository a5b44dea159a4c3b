package dev.flowtracker.ingest.source.file;

import java.nio.ByteBuffer;

/** Minimal Ethernet + IPv4 + TCP frames built in tests. */
public final class TestFrames
{
    public static final int FIN = 0x01;
    public static final int SYN = 0x02;
    public static final int RST = 0x04;
    public static final int PSH = 0x08;
    public static final int ACK = 0x10;

    private TestFrames()
    {
    }

    /** An Ethernet II frame holding an IPv4 packet holding a TCP segment without options. */
    public static byte[] tcp(final int sourceIp, final int destinationIp, final int sourcePort,
        final int destinationPort, final long sequence, final long acknowledgement, final int flags,
        final byte[] payload)
    {
        final int ipLength = 20 + 20 + payload.length;
        final ByteBuffer frame = ByteBuffer.allocate(14 + ipLength);
        // Ethernet: destination, source, EtherType IPv4.
        frame.put(new byte[] {0x02, 0, 0, 0, 0, 0x02}).put(new byte[] {0x02, 0, 0, 0, 0, 0x01}).putShort((short)0x0800);
        final int ip = frame.position();
        frame.put((byte)0x45).put((byte)0).putShort((short)ipLength).putShort((short)0x1234).putShort((short)0x4000)
            .put((byte)64).put((byte)6).putShort((short)0).putInt(sourceIp).putInt(destinationIp);
        frame.putShort(ip + 10, (short)ipChecksum(frame.array(), ip, 20));
        frame.putShort((short)sourcePort).putShort((short)destinationPort).putInt((int)sequence)
            .putInt((int)acknowledgement).put((byte)0x50).put((byte)flags).putShort((short)0xFFFF)
            .putShort((short)0).putShort((short)0);
        frame.put(payload);
        return frame.array();
    }

    /**
     * Frame number {@code index}: a TCP segment whose ports, sequence number and payload (0 to 96 bytes) depend on the
     * index, so any mix-up or corruption of frames shows.
     */
    public static byte[] numbered(final int index)
    {
        final byte[] payload = new byte[index % 97];
        for (int i = 0; i < payload.length; i++)
        {
            payload[i] = (byte)(index * 31 + i * 7);
        }
        return tcp(0x0A000001, 0x0A000002, 1024 + index % 50_000, 80, index * 1000L, 0, ACK | PSH, payload);
    }

    /** A frame of {@code length} bytes: an Ethernet header and a recognisable pattern seeded by {@code seed}. */
    public static byte[] patterned(final int length, final int seed)
    {
        final byte[] frame = new byte[length];
        for (int i = 0; i < length; i++)
        {
            frame[i] = (byte)(seed + i * 13 + (i >>> 8));
        }
        return frame;
    }

    private static int ipChecksum(final byte[] data, final int offset, final int length)
    {
        int sum = 0;
        for (int i = 0; i < length; i += 2)
        {
            sum += ((data[offset + i] & 0xFF) << 8) | (data[offset + i + 1] & 0xFF);
        }
        while ((sum >>> 16) != 0)
        {
            sum = (sum & 0xFFFF) + (sum >>> 16);
        }
        return ~sum & 0xFFFF;
    }
}
