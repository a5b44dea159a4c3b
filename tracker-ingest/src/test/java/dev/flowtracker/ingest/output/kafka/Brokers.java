package dev.flowtracker.ingest.output.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Real Kafka brokers for tests, and a consumer that reads a whole topic. */
public final class Brokers
{
    private Brokers()
    {
    }

    /** A single-node KRaft cluster in this JVM (broker and controller combined), started and ready. */
    public static KafkaClusterTestKit inProcess(final Map<String, String> brokerConfig) throws Exception
    {
        final KafkaClusterTestKit.Builder builder = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
            .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build());
        builder.setConfigProp("num.partitions", "3");
        builder.setConfigProp("offsets.topic.replication.factor", "1");
        builder.setConfigProp("group.initial.rebalance.delay.ms", "0");
        brokerConfig.forEach(builder::setConfigProp);
        final KafkaClusterTestKit cluster = builder.build();
        cluster.format();
        cluster.startup();
        cluster.waitForReadyBrokers();
        return cluster;
    }

    /**
     * Every message of {@code topic}, read from the start until {@code expected} have arrived or {@code timeout}
     * has passed without a new one.
     */
    public static List<ConsumerRecord<byte[], byte[]>> readAll(
        final String bootstrap, final String topic, final int expected, final Duration timeout)
    {
        return readAll(bootstrap, topic, expected, timeout, Map.of());
    }

    public static List<ConsumerRecord<byte[], byte[]>> readAll(
        final String bootstrap, final String topic, final int expected, final Duration timeout,
        final Map<String, Object> extra)
    {
        final Map<String, Object> config = new java.util.HashMap<>(Map.of(
            ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
            ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID(),
            ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
            ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false"));
        config.putAll(extra);
        final List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
        try (KafkaConsumer<byte[], byte[]> consumer =
            new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer()))
        {
            consumer.subscribe(List.of(topic));
            // The quiet time counts from the group's assignment: joining may take seconds on a busy machine.
            final long joinDeadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            long quietSince = System.nanoTime();
            while (all.size() < expected && System.nanoTime() - quietSince < timeout.toNanos())
            {
                final int before = all.size();
                consumer.poll(Duration.ofMillis(200)).forEach(all::add);
                if (all.size() > before || consumer.assignment().isEmpty() && System.nanoTime() < joinDeadline)
                {
                    quietSince = System.nanoTime();
                }
            }
        }
        return all;
    }
}
