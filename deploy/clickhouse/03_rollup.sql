-- A per-minute rollup per (tap, server address, server port), filled from tracker_conn by a second materialized
-- view (it sees every block inserted into tracker_conn, so the record is taken apart only once, in 02_raw.sql).
--
-- The minute is that of the connection's first packet (ts): a record arrives when its connection ends, so a long
-- connection adds to an old minute. AggregatingMergeTree, not SummingMergeTree: every value column is a
-- SimpleAggregateFunction saying how rows of one key combine when parts merge (sum for counters, max for the
-- largest handshake RTT, sumMap for the conn_state mix), which a SummingMergeTree would sum regardless. Until a
-- merge has run a key can have several rows, so queries aggregate again (sum, max, sumMap) with GROUP BY.
-- Kept ${ROLLUP_TTL_DAYS} days.

CREATE TABLE IF NOT EXISTS tracker_conn_1m
(
    minute DateTime('UTC'),
    tap LowCardinality(String),
    id_resp_h IPv6,
    id_resp_p UInt16,
    connections SimpleAggregateFunction(sum, UInt64),
    -- connections per conn_state ('' for null), e.g. conn_states['SF']
    conn_states SimpleAggregateFunction(sumMap, Map(String, UInt64)),
    orig_bytes SimpleAggregateFunction(sum, UInt64),
    resp_bytes SimpleAggregateFunction(sum, UInt64),
    orig_pkts SimpleAggregateFunction(sum, UInt64),
    resp_pkts SimpleAggregateFunction(sum, UInt64),
    orig_ip_bytes SimpleAggregateFunction(sum, UInt64),
    resp_ip_bytes SimpleAggregateFunction(sum, UInt64),
    missed_bytes SimpleAggregateFunction(sum, UInt64),
    -- handshake RTT (tcp.initial_rtt) of the connections that had one: mean = handshake_rtt_sum / handshake_rtt_count
    handshake_rtt_sum SimpleAggregateFunction(sum, Float64),
    handshake_rtt_count SimpleAggregateFunction(sum, UInt64),
    handshake_rtt_max SimpleAggregateFunction(max, Float64),
    -- segments with the flag, both directions together (tcp.orig.analysis.X + tcp.resp.analysis.X, security.X)
    outside_window SimpleAggregateFunction(sum, UInt64),
    rst_outside_window SimpleAggregateFunction(sum, UInt64),
    data_after_rst SimpleAggregateFunction(sum, UInt64),
    retransmission SimpleAggregateFunction(sum, UInt64),
    fast_retransmission SimpleAggregateFunction(sum, UInt64),
    spurious_retransmission SimpleAggregateFunction(sum, UInt64),
    out_of_order SimpleAggregateFunction(sum, UInt64),
    lost_segment SimpleAggregateFunction(sum, UInt64),
    ack_lost_segment SimpleAggregateFunction(sum, UInt64),
    duplicate_ack SimpleAggregateFunction(sum, UInt64),
    zero_window SimpleAggregateFunction(sum, UInt64),
    zero_window_probe SimpleAggregateFunction(sum, UInt64),
    zero_window_probe_ack SimpleAggregateFunction(sum, UInt64),
    window_full SimpleAggregateFunction(sum, UInt64),
    window_update SimpleAggregateFunction(sum, UInt64),
    keep_alive SimpleAggregateFunction(sum, UInt64),
    keep_alive_ack SimpleAggregateFunction(sum, UInt64),
    reused_ports SimpleAggregateFunction(sum, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toDate(minute)
ORDER BY (tap, id_resp_h, id_resp_p, minute)
TTL minute + INTERVAL ${ROLLUP_TTL_DAYS} DAY
SETTINGS ttl_only_drop_parts = 1;

CREATE MATERIALIZED VIEW IF NOT EXISTS tracker_conn_1m_mv TO tracker_conn_1m AS
SELECT
    toStartOfMinute(ts) AS minute,
    tap,
    id_resp_h,
    id_resp_p,
    count() AS connections,
    sumMap(map(conn_state, toUInt64(1))) AS conn_states,
    sum(orig_bytes) AS orig_bytes,
    sum(resp_bytes) AS resp_bytes,
    sum(orig_pkts) AS orig_pkts,
    sum(resp_pkts) AS resp_pkts,
    sum(orig_ip_bytes) AS orig_ip_bytes,
    sum(resp_ip_bytes) AS resp_ip_bytes,
    sum(missed_bytes) AS missed_bytes,
    sum(ifNull(initial_rtt, 0)) AS handshake_rtt_sum,
    count(initial_rtt) AS handshake_rtt_count,
    max(ifNull(initial_rtt, 0)) AS handshake_rtt_max,
    sum(orig_outside_window + resp_outside_window) AS outside_window,
    sum(orig_rst_outside_window + resp_rst_outside_window) AS rst_outside_window,
    sum(orig_data_after_rst + resp_data_after_rst) AS data_after_rst,
    sum(orig_retransmission + resp_retransmission) AS retransmission,
    sum(orig_fast_retransmission + resp_fast_retransmission) AS fast_retransmission,
    sum(orig_spurious_retransmission + resp_spurious_retransmission) AS spurious_retransmission,
    sum(orig_out_of_order + resp_out_of_order) AS out_of_order,
    sum(orig_lost_segment + resp_lost_segment) AS lost_segment,
    sum(orig_ack_lost_segment + resp_ack_lost_segment) AS ack_lost_segment,
    sum(orig_duplicate_ack + resp_duplicate_ack) AS duplicate_ack,
    sum(orig_zero_window + resp_zero_window) AS zero_window,
    sum(orig_zero_window_probe + resp_zero_window_probe) AS zero_window_probe,
    sum(orig_zero_window_probe_ack + resp_zero_window_probe_ack) AS zero_window_probe_ack,
    sum(orig_window_full + resp_window_full) AS window_full,
    sum(orig_window_update + resp_window_update) AS window_update,
    sum(orig_keep_alive + resp_keep_alive) AS keep_alive,
    sum(orig_keep_alive_ack + resp_keep_alive_ack) AS keep_alive_ack,
    sum(orig_reused_ports + resp_reused_ports) AS reused_ports
FROM tracker_conn
GROUP BY minute, tap, id_resp_h, id_resp_p;
