package dev.flowtracker.core.tcp;

import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.wire.Tcp;

/**
 * Per-segment bookkeeping beyond tshark's flags: options negotiated on the SYN, sequence space covered as a 64-bit
 * count (so a direction can move more than 4 GiB), bytes in flight, ACK RTT samples from a small ring of recent
 * segment ends, and security signals (segments beyond the receiver's window, RSTs outside it, data after a RST).
 *
 * <p>Stateless; the state is in the {@link TcpEndpoint}s. Called on the connection's tracker thread.
 */
final class EndpointExtras
{
    private EndpointExtras()
    {
    }

    /**
     * Called after sequence analysis of a segment from {@code sender}, with the sender's highest sequence number as
     * it was before the segment and whether a RST had been seen before it.
     */
    static void onSegment(
        final TcpEndpoint sender, final TcpEndpoint receiver, final DecodedPacket p, final int previousNextSeq,
        final boolean previousNextSeqKnown, final boolean rstSeenBefore)
    {
        final int flags = p.flags;
        if ((flags & Tcp.SYN) != 0)
        {
            sender.mss(p.mss);
            sender.sackPermitted(p.sackPermitted);
            sender.timestampsOffered(p.hasTimestamps);
        }
        // Sequence space covered: every forward move of the highest sequence number, 64-bit.
        if (previousNextSeqKnown && sender.nextSeq() - previousNextSeq > 0)
        {
            sender.sequenceSpace(sender.sequenceSpace() + (sender.nextSeq() - previousNextSeq));
        }
        if (p.payloadLength > 0 && rstSeenBefore)
        {
            sender.dataAfterRst(sender.dataAfterRst() + 1);
        }
        checkWindow(sender, receiver, p);
        if (receiver.lastAckSeen())
        {
            final int inFlight = sender.nextSeq() - receiver.lastAck(); // serial difference
            if (inFlight > sender.maxInFlight())
            {
                sender.maxInFlight(inFlight);
            }
        }
        if (p.payloadLength > 0 || (flags & (Tcp.SYN | Tcp.FIN)) != 0)
        {
            sender.rememberSegmentEnd(sender.nextSeq(), p.timestampNanos);
        }
        if ((flags & Tcp.ACK) != 0)
        {
            receiver.sampleRtt(p.ack, p.timestampNanos);
        }
    }

    /** RFC 793/5961 window checks against the receiver's last advertised window (scaled when known). */
    private static void checkWindow(final TcpEndpoint sender, final TcpEndpoint receiver, final DecodedPacket p)
    {
        if (!receiver.lastAckSeen() || receiver.window() < 0)
        {
            return;
        }
        final long window = (long)receiver.window() << receiver.windowShift();
        final long offset = (p.seq - receiver.lastAck()) & 0xFFFF_FFFFL;
        final boolean rst = (p.flags & Tcp.RST) != 0;
        if (rst)
        {
            // A RST is acceptable only inside the window; others are likely blind injection.
            if (offset > window)
            {
                sender.rstOutsideWindow(sender.rstOutsideWindow() + 1);
            }
        }
        else if (p.payloadLength > 1 && offset > window && offset < 0x8000_0000L)
        {
            // Starts beyond the right edge of what the receiver offered (1-byte probes excepted).
            sender.outsideWindow(sender.outsideWindow() + 1);
        }
    }
}
