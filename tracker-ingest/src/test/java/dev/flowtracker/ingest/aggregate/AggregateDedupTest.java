package dev.flowtracker.ingest.aggregate;

import static dev.flowtracker.ingest.aggregate.AggregateFixture.record;
import static dev.flowtracker.ingest.aggregate.AggregateFixture.tree;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.streams.test.TestRecord;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The cross-tap de-duplication through {@link org.apache.kafka.streams.TopologyTestDriver}: one record per
 * connection and dedup window, written when the window closes in event time, with every tap that saw it.
 */
class AggregateDedupTest
{
    private static final long START = 1795267294L;
    private static final long WINDOW = AggregateFixture.DEDUP_WINDOW.toSeconds();

    @TempDir
    Path stateDir;

    private static ObjectNode connection(final String tap, final String communityId, final long endSeconds)
    {
        final ObjectNode record = record(tap, "10.99.0.1", 8080, endSeconds + ".5");
        record.put("community_id", communityId);
        return record;
    }

    /** A record of another connection, far later: stream time passes every pending window. */
    private static ObjectNode later()
    {
        return connection("tap-z", "1:later", START + 10 * WINDOW);
    }

    @Test
    void shouldWriteOneRecordWithBothTapsForTwoTapsCopies()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            final ObjectNode fromA = connection("tap-a", "1:same", START);
            fixture.send(fromA, connection("tap-b", "1:same", START + 1));
            assertTrue(fixture.dedup.isEmpty(), "nothing before the dedup window closes");
            fixture.send(later());
            final List<TestRecord<String, String>> out = fixture.dedup.readRecordsToList();
            assertEquals(1, out.size(), out.toString());
            assertEquals("1:same", out.getFirst().key());
            final ObjectNode written = (ObjectNode)tree(out.getFirst().value());
            assertEquals(List.of("tap-a", "tap-b"), taps(written));
            written.remove("taps");
            assertEquals(tree(fromA.toString()), written, "the first sighting's record, with the taps added");
            assertTrue(out.getFirst().value().startsWith(fromA.toString().substring(0, fromA.toString().length() - 1)),
                "its text unchanged");
            assertEquals(1, fixture.counters.duplicates());
            assertEquals(1, fixture.counters.dedupWritten());
        }
    }

    @Test
    void shouldNotMergeDifferentCommunityIds()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.send(connection("tap-a", "1:one", START), connection("tap-b", "1:two", START),
                connection("tap-b", "1:one", START + 2), later());
            final List<TestRecord<String, String>> out = fixture.dedup.readRecordsToList();
            assertEquals(2, out.size(), out.toString());
            assertEquals("1:one", out.get(0).key());
            assertEquals(List.of("tap-a", "tap-b"), taps(tree(out.get(0).value())));
            assertEquals("1:two", out.get(1).key());
            assertEquals(List.of("tap-b"), taps(tree(out.get(1).value())));
        }
    }

    @Test
    void shouldTreatASecondRecordOfOneTapAsAnotherConnection()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.send(connection("tap-a", "1:reused", START), connection("tap-b", "1:reused", START));
            fixture.send(connection("tap-a", "1:reused", START + 30));
            final List<TestRecord<String, String>> early = fixture.dedup.readRecordsToList();
            assertEquals(1, early.size(), "the first connection is written when its port is reused");
            assertEquals(List.of("tap-a", "tap-b"), taps(tree(early.getFirst().value())));
            fixture.send(connection("tap-b", "1:reused", START + 30), later());
            final List<TestRecord<String, String>> out = fixture.dedup.readRecordsToList();
            assertEquals(1, out.size(), out.toString());
            assertEquals(List.of("tap-a", "tap-b"), taps(tree(out.getFirst().value())));
            assertEquals((START + 30) * 1000 + 500, out.getFirst().timestamp(), "stamped with its first sighting");
        }
    }

    @Test
    void shouldWriteAtTheWindowsCloseAndKeepLaterSightingsApart()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.send(connection("tap-a", "1:slow", START));
            fixture.send(connection("tap-c", "1:other", START + WINDOW - 1));
            assertTrue(fixture.dedup.isEmpty(), "stream time one second before the window closes");
            fixture.send(connection("tap-c", "1:other", START + WINDOW));
            final List<TestRecord<String, String>> closed = fixture.dedup.readRecordsToList();
            assertEquals("1:slow", closed.getFirst().key(), closed.toString());
            fixture.send(connection("tap-b", "1:slow", START + 1), later());
            final List<String> slow = fixture.dedup.readRecordsToList().stream()
                .filter(r -> r.key().equals("1:slow")).map(TestRecord::value).toList();
            assertEquals(1, slow.size(), "a sighting after the window closed is a record of its own");
            assertEquals(List.of("tap-b"), taps(tree(slow.getFirst())));
        }
    }

    @Test
    void shouldWriteValidJsonWhateverTheTapNames()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.send(connection("quote\"d", "1:odd", START), connection("line\nbreak ü", "1:odd", START),
                later());
            final List<TestRecord<String, String>> out = fixture.dedup.readRecordsToList();
            assertEquals(1, out.size(), out.toString());
            assertEquals(List.of("line\nbreak ü", "quote\"d"), taps(tree(out.getFirst().value())));
        }
    }

    @Test
    void shouldLeaveInterimRecordsOutOfBothOutputs()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            final ObjectNode interim = connection("tap-a", "1:long", START);
            interim.put("interim", true);
            fixture.send(interim, connection("tap-a", "1:long", START + 60), connection("tap-b", "1:long", START + 60),
                later());
            final List<TestRecord<String, String>> out = fixture.dedup.readRecordsToList();
            assertEquals(1, out.size(), "the interim record neither opens an entry nor is written: " + out);
            assertEquals(List.of("tap-a", "tap-b"), taps(tree(out.getFirst().value())));
            assertTrue(out.getFirst().value().indexOf("interim") < 0);
            final long connections = fixture.rollups.readRecordsToList().stream()
                .mapToLong(row -> tree(row.value()).path("connections").asLong()).sum();
            assertEquals(2, connections, "each tap's final record, once");
            assertEquals(1, fixture.counters.interim());
        }
    }

    @Test
    void shouldCountMalformedRecordsAndKeepDeduplicating()
    {
        try (AggregateFixture fixture = new AggregateFixture(stateDir))
        {
            fixture.input.pipeInput("1:x", "{\"ts\":\"yesterday\"}");
            fixture.input.pipeInput("1:x", "{\"truncated\":");
            fixture.send(connection("tap-a", "1:x", START), connection("tap-b", "1:x", START), later());
            assertEquals(1, fixture.dedup.readRecordsToList().size());
            assertEquals(1, fixture.counters.malformed(MalformedReason.BAD_TIMESTAMP));
            assertEquals(1, fixture.counters.malformed(MalformedReason.NOT_JSON));
        }
    }

    private static List<String> taps(final JsonNode record)
    {
        return record.path("taps").valueStream().map(JsonNode::asText).toList();
    }
}
