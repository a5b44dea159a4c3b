package dev.flowtracker.ingest.output.kafka;

import java.util.Map;

/**
 * How the Kafka sink delivers: where, under which key, how much it holds while the broker is away, how long it
 * waits at exit, and the client's properties (the sink's defaults overridden by the user's, passed as they are).
 *
 * @param bootstrap          {@code HOST:PORT[,HOST:PORT...]}, for messages (the client reads it from the properties).
 * @param topic              the record topic.
 * @param key                what keys each message.
 * @param tapName            the {@code tap} header's value; null for none.
 * @param bufferBytes        records held until acknowledged, in bytes at most.
 * @param flushTimeoutNanos  how long {@code close} waits for outstanding acknowledgements.
 * @param producerProperties the client's configuration, complete.
 */
public record KafkaSinkSettings(String bootstrap, String topic, Key key, String tapName, long bufferBytes,
    long flushTimeoutNanos, Map<String, Object> producerProperties)
{
    /** The default record topic. */
    public static final String DEFAULT_TOPIC = "tracker.conn";

    /** What keys a message: the partitioner spreads by key, and consumers compact or join by it. */
    public enum Key
    {
        /** The record's community_id: one connection's records (interim and final, from every tap) together. */
        COMMUNITY_ID("community_id"),
        /** No key: the client spreads batches over partitions. */
        NONE("none"),
        /** The tap name: one tap's records in one partition, in order. */
        TAP("tap");

        private final String label;

        Key(final String label)
        {
            this.label = label;
        }

        public String label()
        {
            return label;
        }

        /** The key named {@code label}, or null. */
        public static Key of(final String label)
        {
            for (final Key key : values())
            {
                if (key.label.equals(label))
                {
                    return key;
                }
            }
            return null;
        }
    }

    public KafkaSinkSettings
    {
        producerProperties = Map.copyOf(producerProperties);
        if (bufferBytes < 1)
        {
            throw new IllegalArgumentException("the buffer must hold at least one byte, was " + bufferBytes);
        }
    }
}
