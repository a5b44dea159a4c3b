package dev.flowtracker.ingest.aggregate;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

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
     * One tap's sighting of a connection on its way to the de-duplication: {@code tap}, a newline, then the record's
     * text (tap names have no newline: letters, digits, '.', '_', '-').
     */
    static final Serde<DedupProcessor.Sighting> SIGHTING = org.apache.kafka.common.serialization.Serdes.serdeFrom(
        (Serializer<DedupProcessor.Sighting>)(topic, sighting) -> sighting == null ? null :
            (sighting.tap() + '\n' + sighting.json()).getBytes(StandardCharsets.UTF_8),
        (Deserializer<DedupProcessor.Sighting>)(topic, bytes) ->
        {
            if (bytes == null)
            {
                return null;
            }
            final String text = new String(bytes, StandardCharsets.UTF_8);
            final int newline = text.indexOf('\n');
            return new DedupProcessor.Sighting(text.substring(0, newline), text.substring(newline + 1));
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
