package dev.flowtracker.ingest.aggregate;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** The serdes of the aggregation's own types (the input, repartition topics and state stores). Stateless. */
final class AggregateSerdes
{
    /** The record topic: parsed on read, never failing; written back as its text (tests only). */
    static final Serde<InputRecord> INPUT = org.apache.kafka.common.serialization.Serdes.serdeFrom(
        (Serializer<InputRecord>)(topic, record) -> record instanceof InputRecord.Flow flow ?
            flow.json().getBytes(StandardCharsets.UTF_8) : null,
        (Deserializer<InputRecord>)(topic, bytes) -> InputRecord.parse(bytes));

    /** A rollup in a repartition topic or window store: its JSON body. */
    static final Serde<Rollup> ROLLUP = org.apache.kafka.common.serialization.Serdes.serdeFrom(
        (Serializer<Rollup>)(topic, rollup) -> rollup == null ? null : rollup.toBytes(),
        (Deserializer<Rollup>)(topic, bytes) -> bytes == null ? null : Rollup.fromBytes(bytes));

    /**
     * One tap's sighting of a connection on its way to the de-duplication: the tap's length in UTF-8 bytes (4 bytes,
     * big-endian), the tap, then the record's text.
     */
    static final Serde<DedupProcessor.Sighting> SIGHTING = org.apache.kafka.common.serialization.Serdes.serdeFrom(
        (Serializer<DedupProcessor.Sighting>)(topic, sighting) ->
        {
            if (sighting == null)
            {
                return null;
            }
            final byte[] tap = sighting.tap().getBytes(StandardCharsets.UTF_8);
            final byte[] json = sighting.json().getBytes(StandardCharsets.UTF_8);
            return ByteBuffer.allocate(4 + tap.length + json.length).putInt(tap.length).put(tap).put(json).array();
        },
        (Deserializer<DedupProcessor.Sighting>)(topic, bytes) ->
        {
            if (bytes == null)
            {
                return null;
            }
            final int tapLength = ByteBuffer.wrap(bytes).getInt();
            return new DedupProcessor.Sighting(new String(bytes, 4, tapLength, StandardCharsets.UTF_8),
                new String(bytes, 4 + tapLength, bytes.length - 4 - tapLength, StandardCharsets.UTF_8));
        });

    /** A connection waiting in the de-duplication store. */
    static final Serde<DedupProcessor.Pending> PENDING = org.apache.kafka.common.serialization.Serdes.serdeFrom(
        (Serializer<DedupProcessor.Pending>)(topic, pending) -> pending == null ? null : pending.toBytes(),
        (Deserializer<DedupProcessor.Pending>)(topic, bytes) -> bytes == null ? null :
            DedupProcessor.Pending.fromBytes(bytes));

    private AggregateSerdes()
    {
    }
}
