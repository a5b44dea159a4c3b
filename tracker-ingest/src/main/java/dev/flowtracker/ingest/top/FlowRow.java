package dev.flowtracker.ingest.top;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The fields of one flow record ({@code docs/flow-record.md}) that {@code tracker top} shows, read from the JSON
 * {@code /flows} answers. Immutable.
 *
 * @param uid             the connection's uid.
 * @param orig            the originator as {@code address:port} ({@code [address]:port} for IPv6).
 * @param resp            the responder, likewise.
 * @param connState       Zeek's conn_state, or empty.
 * @param history         Zeek's history letters, or empty.
 * @param duration        seconds from the first to the last packet.
 * @param bytes           payload bytes of both directions.
 * @param packets         packets of both directions.
 * @param retransmissions retransmitted segments of both directions.
 * @param rttMax          the larger of both sides' largest ACK RTT in seconds, NaN without a sample.
 * @param tap             the record's tap name, or empty.
 * @param endReason       {@code tcp.end_reason}, empty while the connection is open.
 */
record FlowRow(String uid, String orig, String resp, String connState, String history, double duration, long bytes,
    long packets, long retransmissions, double rttMax, String tap, String endReason)
{
    /** The row of one record of {@code /flows}; missing fields read as empty or zero. */
    static FlowRow of(final JsonNode record)
    {
        final JsonNode tcp = record.path("tcp");
        final JsonNode orig = tcp.path("orig");
        final JsonNode resp = tcp.path("resp");
        return new FlowRow(
            text(record.path("uid")),
            endpoint(text(record.path("id.orig_h")), record.path("id.orig_p").asInt()),
            endpoint(text(record.path("id.resp_h")), record.path("id.resp_p").asInt()),
            text(record.path("conn_state")),
            text(record.path("history")),
            record.path("duration").asDouble(),
            orig.path("payload_bytes").asLong() + resp.path("payload_bytes").asLong(),
            record.path("orig_pkts").asLong() + record.path("resp_pkts").asLong(),
            orig.path("analysis").path("retransmission").asLong() +
                resp.path("analysis").path("retransmission").asLong(),
            larger(rtt(orig), rtt(resp)),
            text(record.path("tap")),
            text(tcp.path("end_reason")));
    }

    /** Retransmitted segments ÷ packets, as {@code /flows?sort=retransmission_ratio} ranks them; NaN without any. */
    double retransmissionRatio()
    {
        return packets == 0 ? Double.NaN : (double)retransmissions / packets;
    }

    static String endpoint(final String address, final int port)
    {
        return (address.indexOf(':') >= 0 ? "[" + address + "]" : address) + ":" + port;
    }

    /** The larger of two RTTs, either of which may be NaN (no sample); NaN when both are. */
    private static double larger(final double a, final double b)
    {
        if (Double.isNaN(a))
        {
            return b;
        }
        return Double.isNaN(b) ? a : Math.max(a, b);
    }

    private static double rtt(final JsonNode side)
    {
        final JsonNode max = side.path("rtt").path("max");
        return max.isNumber() ? max.asDouble() : Double.NaN;
    }

    private static String text(final JsonNode node)
    {
        return node.isTextual() ? node.asText() : "";
    }
}
