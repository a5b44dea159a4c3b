package dev.flowtracker.core.tcp;

import dev.flowtracker.core.wire.Tcp;

/**
 * Infers both endpoints' RFC 793 states from the segments a passive observer sees. A segment changes the sender's
 * state when it is sent and the receiver's as if it arrived at once (the tap sits between them). Connections
 * picked up mid-stream start with both sides ESTABLISHED.
 */
final class EndpointStates
{
    private EndpointStates()
    {
    }

    static void onSegment(
        final TcpEndpoint sender, final TcpEndpoint receiver, final int flags, final int ack, final int payloadLength)
    {
        final boolean syn = (flags & Tcp.SYN) != 0;
        final boolean hasAck = (flags & Tcp.ACK) != 0;
        final boolean fin = (flags & Tcp.FIN) != 0;
        if ((flags & Tcp.RST) != 0)
        {
            sender.state(TcpState.CLOSED);
            receiver.state(TcpState.CLOSED);
            return;
        }
        if (syn)
        {
            onSyn(sender, receiver, hasAck);
        }
        else if (sender.state() == TcpState.CLOSED && receiver.state() == TcpState.CLOSED &&
            !sender.rstSeen() && !receiver.rstSeen())
        {
            // Mid-stream pickup: no handshake seen, data flowing.
            sender.state(TcpState.ESTABLISHED);
            receiver.state(TcpState.ESTABLISHED);
        }
        if (hasAck)
        {
            onAck(sender, receiver, ack);
        }
        if (fin)
        {
            onFin(sender, receiver);
        }
    }

    private static void onSyn(final TcpEndpoint sender, final TcpEndpoint receiver, final boolean hasAck)
    {
        if (!hasAck)
        {
            if (sender.state() == TcpState.CLOSED || sender.state() == TcpState.LISTEN)
            {
                sender.state(sender.state() == TcpState.LISTEN ? TcpState.SYN_RECEIVED : TcpState.SYN_SENT);
            }
            if (receiver.state() == TcpState.CLOSED)
            {
                receiver.state(TcpState.LISTEN);
            }
            else if (receiver.state() == TcpState.SYN_SENT)
            {
                receiver.state(TcpState.SYN_RECEIVED); // simultaneous open
            }
            return;
        }
        final TcpState senderState = sender.state();
        if (senderState == TcpState.CLOSED || senderState == TcpState.LISTEN || senderState == TcpState.SYN_SENT)
        {
            sender.state(TcpState.SYN_RECEIVED);
        }
        if (receiver.state() == TcpState.SYN_SENT || receiver.state() == TcpState.CLOSED ||
            receiver.state() == TcpState.SYN_RECEIVED)
        {
            // The SYN+ACK acknowledges the receiver's SYN: it moves on as soon as it gets it.
            receiver.state(TcpState.ESTABLISHED);
        }
    }

    private static void onAck(final TcpEndpoint sender, final TcpEndpoint receiver, final int ack)
    {
        if (sender.state() == TcpState.SYN_SENT)
        {
            sender.state(TcpState.ESTABLISHED);
        }
        // RFC 793: any ACK of the SYN (up to what was sent) completes the open; the SYN may have been resent
        // with a new sequence number, and the exact handshake ACK may be missing from the capture.
        if (receiver.state() == TcpState.SYN_RECEIVED && receiver.isnSeen() &&
            ack - (receiver.lastSynSeq() + 1) >= 0)
        {
            receiver.state(TcpState.ESTABLISHED);
        }
        if (receiver.finSeen() && ack - receiver.finEndSeq() >= 0)
        {
            switch (receiver.state())
            {
                case FIN_WAIT_1 -> receiver.state(TcpState.FIN_WAIT_2);
                case CLOSING -> receiver.state(TcpState.TIME_WAIT);
                case LAST_ACK -> receiver.state(TcpState.CLOSED);
                default ->
                {
                }
            }
        }
    }

    private static void onFin(final TcpEndpoint sender, final TcpEndpoint receiver)
    {
        switch (sender.state())
        {
            case ESTABLISHED, SYN_RECEIVED, SYN_SENT -> sender.state(TcpState.FIN_WAIT_1);
            case CLOSE_WAIT -> sender.state(TcpState.LAST_ACK);
            default ->
            {
            }
        }
        switch (receiver.state())
        {
            case ESTABLISHED, SYN_RECEIVED, SYN_SENT -> receiver.state(TcpState.CLOSE_WAIT);
            case FIN_WAIT_1 -> receiver.state(TcpState.CLOSING);
            case FIN_WAIT_2 -> receiver.state(TcpState.TIME_WAIT);
            default ->
            {
            }
        }
    }
}
