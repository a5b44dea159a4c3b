-- Flow records from Kafka: the topic's messages, one JSON record line each (docs/flow-record.md), read by a
-- Kafka-engine table. It stores nothing: 02_raw.sql's materialized view moves every consumed block into a MergeTree.
--
-- ${KAFKA_BROKER_LIST}, ${KAFKA_TOPIC} and ${KAFKA_GROUP} are placeholders: see README.md (envsubst fills them).
--
-- Every top-level field of the record but `proto` and `ip_proto` (always TCP) has a column here, with the record's
-- name (dotted names in backquotes).
-- `ts` is a JSON number (epoch seconds with a fraction): it is read as Float64 and converted to DateTime64(6) in the
-- view. The nested `tcp` object is read as its raw JSON text (input_format_json_read_objects_as_strings) and
-- taken apart with JSONExtract* in the view, so one String column carries all of it whatever optional keys
-- (`vni`, `history_truncated`) a record has.

CREATE TABLE IF NOT EXISTS tracker_conn_queue
(
    ts Float64,
    uid String,
    `id.orig_h` String,
    `id.orig_p` UInt16,
    `id.resp_h` String,
    `id.resp_p` UInt16,
    community_id String,
    duration Float64,
    orig_bytes UInt64,
    resp_bytes UInt64,
    conn_state Nullable(String),
    -- only in interim records (tracker --update-interval): the views keep final records only
    interim Bool DEFAULT false,
    local_orig Nullable(Bool),
    local_resp Nullable(Bool),
    missed_bytes UInt64,
    history Nullable(String),
    orig_pkts UInt64,
    orig_ip_bytes UInt64,
    resp_pkts UInt64,
    resp_ip_bytes UInt64,
    tcp String,
    tap String
)
ENGINE = Kafka
SETTINGS
    kafka_broker_list = '${KAFKA_BROKER_LIST}',
    kafka_topic_list = '${KAFKA_TOPIC}',
    kafka_group_name = '${KAFKA_GROUP}',
    kafka_format = 'JSONEachRow',
    kafka_num_consumers = 1,
    -- A record that does not parse is logged and skipped instead of stopping the consumer (at most this many per
    -- block).
    kafka_skip_broken_messages = 10,
    -- The nested `tcp` object arrives in the String column `tcp` as JSON text.
    input_format_json_read_objects_as_strings = 1,
    -- Fields a newer tracker adds are ignored rather than failing the block.
    input_format_skip_unknown_fields = 1;
