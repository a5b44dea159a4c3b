package dev.flowtracker.core.tcp;

/** The eleven RFC 793 connection states, as a passive observer infers them for one endpoint. */
public enum TcpState
{
    CLOSED, LISTEN, SYN_SENT, SYN_RECEIVED, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, CLOSE_WAIT, CLOSING, LAST_ACK,
        TIME_WAIT
}
