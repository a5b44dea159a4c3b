package dev.flowtracker.ingest.aggregate;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.Suppressed.BufferConfig;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.WindowStore;

import java.time.Duration;
import java.util.List;

/**
 * Builds the aggregation's topology (drawn in package-info). Every processor, store and internal topic is named, so
 * that a new version keeps its state and repartition topics. Built on the command's (or a test's) thread; the
 * topology then runs on Kafka Streams' stream threads.
 */
public final class AggregateTopology
{
    /** The rollup windows: one minute, tumbling. */
    public static final Duration ROLLUP_WINDOW = Duration.ofMinutes(1);

    private AggregateTopology()
    {
    }

    /**
     * The topology's settings.
     *
     * @param inputTopic  the record topic every tap writes to.
     * @param rollupTopic where rollup rows go, keyed {@code tap|addr|port|minute}.
     * @param dedupTopic  where de-duplicated records go, keyed by community_id.
     * @param grace       how long after a minute's end its records are still accepted (event time); its row is
     *                    written once stream time passes the minute's end plus this.
     * @param dedupWindow how long (event time) after a connection's first sighting other taps' sightings are merged.
     */
    public record Settings(String inputTopic, String rollupTopic, String dedupTopic, Duration grace,
        Duration dedupWindow)
    {
        public static final String DEFAULT_INPUT = "tracker.conn";
        public static final String DEFAULT_ROLLUP = DEFAULT_INPUT + ".rollup";
        public static final String DEFAULT_DEDUP = DEFAULT_INPUT + ".dedup";
        public static final Duration DEFAULT_GRACE = Duration.ofSeconds(30);
        public static final Duration DEFAULT_DEDUP_WINDOW = Duration.ofMinutes(5);

        /** The defaults. */
        public static Settings defaults()
        {
            return new Settings(DEFAULT_INPUT, DEFAULT_ROLLUP, DEFAULT_DEDUP, DEFAULT_GRACE, DEFAULT_DEDUP_WINDOW);
        }
    }

    /** The topology reading {@code settings}' input topic and counting into {@code counters}. */
    public static Topology build(final Settings settings, final AggregateCounters counters)
    {
        final StreamsBuilder builder = new StreamsBuilder();
        final String input = settings.inputTopic();
        final KStream<byte[], InputRecord.Flow> flows = builder.stream(input,
                Consumed.with(Serdes.ByteArray(), AggregateSerdes.INPUT)
                    .withTimestampExtractor(new EventTimeExtractor()).withName("flow-records"))
            // Final records only: interim ones (counts so far of open connections) would count a connection twice.
            .flatMapValues(record -> counters.accept(record, input) ? List.of((InputRecord.Flow)record) :
                List.<InputRecord.Flow>of(), Named.as("skip-malformed"));
        rollups(flows, settings, counters);
        dedup(builder, flows, settings, counters);
        return builder.build();
    }

    private static void rollups(
        final KStream<byte[], InputRecord.Flow> flows, final Settings settings, final AggregateCounters counters)
    {
        flows.map((key, flow) -> KeyValue.pair(flow.serverKey(), Rollup.of(flow)), Named.as("rollup-key"))
            .groupByKey(Grouped.with("rollup-by-server", Serdes.String(), AggregateSerdes.ROLLUP))
            .windowedBy(TimeWindows.ofSizeAndGrace(ROLLUP_WINDOW, settings.grace()))
            .aggregate(Rollup::new, (key, one, sum) -> sum.add(one), Named.as("rollup"),
                Materialized.<String, Rollup, WindowStore<Bytes, byte[]>>as("rollup-store")
                    .withKeySerde(Serdes.String()).withValueSerde(AggregateSerdes.ROLLUP))
            // One final row per window: no partial sums for consumers (ClickHouse, dashboards) to reconcile.
            .suppress(Suppressed.untilWindowCloses(BufferConfig.unbounded()).withName("rollup-final"))
            .toStream(Named.as("rollup-rows"))
            .map((window, rollup) ->
            {
                counters.countRollupWritten();
                return KeyValue.pair(window.key() + '|' + Rollup.minute(window.window().start()),
                    rollup.row(window.window()));
            }, Named.as("rollup-row"))
            .to(settings.rollupTopic(), Produced.with(Serdes.String(), Serdes.String()).withName("rollup-sink"));
    }

    private static void dedup(
        final StreamsBuilder builder, final KStream<byte[], InputRecord.Flow> flows, final Settings settings,
        final AggregateCounters counters)
    {
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
            DedupProcessor.PENDING_STORE), Serdes.String(), AggregateSerdes.PENDING).withCachingDisabled());
        builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(
            DedupProcessor.EXPIRY_STORE), Serdes.String(), Serdes.String()).withCachingDisabled());
        final Duration window = settings.dedupWindow();
        // Re-keyed whatever the producers' --kafka-key: two taps' copies must meet in one task.
        flows.map((key, flow) -> KeyValue.pair(flow.communityId(), new DedupProcessor.Sighting(flow.tap(),
                flow.json())), Named.as("dedup-key"))
            .repartition(Repartitioned.with(Serdes.String(), AggregateSerdes.SIGHTING)
                .withName("dedup-by-community-id"))
            .process(() -> new DedupProcessor(window, counters), Named.as("dedup"), DedupProcessor.PENDING_STORE,
                DedupProcessor.EXPIRY_STORE)
            .to(settings.dedupTopic(), Produced.with(Serdes.String(), Serdes.String()).withName("dedup-sink"));
    }
}
