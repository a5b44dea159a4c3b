package dev.flowtracker.core.decode;

import dev.flowtracker.core.wire.Bytes;
import dev.flowtracker.core.wire.Tcp;

import java.lang.foreign.MemorySegment;

/**
 * Parses TCP options (MSS, window scale, SACK-permitted, SACK blocks, timestamps, Fast Open) into a
 * {@link DecodedPacket}. A malformed option (length 0 or 1, or running past the header) stops parsing and
 * marks the packet with {@link DecodeEvent#TCP_OPTION_MALFORMED}; the options read before it are kept.
 */
final class TcpOptions
{
    private TcpOptions()
    {
    }

    static void parse(final MemorySegment segment, final long start, final long end, final DecodedPacket out)
    {
        long position = start;
        while (position < end)
        {
            final int kind = Bytes.u8(segment, position);
            if (kind == Tcp.OPTION_END)
            {
                return;
            }
            if (kind == Tcp.OPTION_NOP)
            {
                position++;
                continue;
            }
            if (position + 1 >= end)
            {
                markMalformed(out);
                return;
            }
            final int length = Bytes.u8(segment, position + 1);
            if (length < 2 || position + length > end)
            {
                markMalformed(out);
                return;
            }
            readOption(segment, position, kind, length, out);
            position += length;
        }
    }

    private static void readOption(
        final MemorySegment segment, final long position, final int kind, final int length, final DecodedPacket out)
    {
        switch (kind)
        {
            case Tcp.OPTION_MSS:
                if (length == 4)
                {
                    out.mss = Bytes.u16(segment, position + 2);
                }
                break;
            case Tcp.OPTION_WINDOW_SCALE:
                if (length == 3)
                {
                    out.windowScale = Bytes.u8(segment, position + 2);
                }
                break;
            case Tcp.OPTION_SACK_PERMITTED:
                out.sackPermitted = true;
                break;
            case Tcp.OPTION_SACK:
                final int blocks = Math.min((length - 2) / 8, DecodedPacket.MAX_SACK_BLOCKS);
                for (int i = 0; i < blocks; i++)
                {
                    out.sackBlocks[2 * i] = Bytes.i32(segment, position + 2 + 8L * i);
                    out.sackBlocks[2 * i + 1] = Bytes.i32(segment, position + 6 + 8L * i);
                }
                out.sackBlockCount = blocks;
                break;
            case Tcp.OPTION_TIMESTAMPS:
                if (length == 10)
                {
                    out.hasTimestamps = true;
                    out.tsVal = Bytes.i32(segment, position + 2);
                    out.tsEcr = Bytes.i32(segment, position + 6);
                }
                break;
            case Tcp.OPTION_FAST_OPEN:
                out.fastOpen = true;
                break;
            case Tcp.OPTION_EXPERIMENTAL:
                if (length >= 4 && Bytes.u16(segment, position + 2) == Tcp.EXPERIMENTAL_FAST_OPEN_MAGIC)
                {
                    out.fastOpen = true;
                }
                break;
            default:
                break;
        }
    }

    private static void markMalformed(final DecodedPacket out)
    {
        if (out.warning == null)
        {
            out.warning = DecodeEvent.TCP_OPTION_MALFORMED;
        }
    }
}
