package dev.flowtracker.ingest.aggregate;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.processor.TimestampExtractor;

/**
 * The record topic's event time: a flow record's {@code ts + duration} (when its connection's last packet was seen,
 * which is when the tracker wrote it, so records arrive nearly in event-time order even for long connections). An
 * interim or malformed message takes its partition's time (0 before the first record): its own Kafka timestamp (the
 * producer's wall clock) must not move stream time, which would close every window of a replayed capture, and a
 * negative time would make Kafka Streams drop it with a warning of its own before the topology counts it.
 * Stateless: called on stream threads.
 */
public final class EventTimeExtractor implements TimestampExtractor
{
    @Override
    public long extract(final ConsumerRecord<Object, Object> record, final long partitionTime)
    {
        if (record.value() instanceof InputRecord.Flow flow)
        {
            return flow.eventTimeMs();
        }
        return Math.max(partitionTime, 0);
    }
}
