package dev.flowtracker.ingest.aggregate;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;

/**
 * Cross-tap de-duplication of the records of one community_id (the input is keyed by it). The first sighting of a
 * connection opens a pending entry that holds that record and the set of taps; sightings from other taps within the
 * dedup window (event time, from the first sighting's) add their tap. When stream time reaches the first sighting
 * plus the window, the entry is written once: the first sighting's record with {@code "taps":[...]} (sorted)
 * appended. A second record from a tap already listed is another connection on the same 5-tuple (a reused port): the
 * pending entry is written at once and the record opens a new one.
 *
 * <p>Two stores, changelogged like any Kafka Streams store: {@value #PENDING_STORE} (community_id to entry) and
 * {@value #EXPIRY_STORE} (zero-padded expiry time | community_id, ordered, so due entries are a prefix scan).
 * Runs on the stream thread that owns the task; each task has its own processor and stores.
 */
final class DedupProcessor implements Processor<String, DedupProcessor.Sighting, String, String>
{
    static final String PENDING_STORE = "dedup-pending";
    static final String EXPIRY_STORE = "dedup-expiry";

    private final long windowMs;
    private final AggregateCounters counters;
    private ProcessorContext<String, String> context;
    private KeyValueStore<String, Pending> pending;
    private KeyValueStore<String, String> expiry;

    DedupProcessor(final Duration window, final AggregateCounters counters)
    {
        this.windowMs = window.toMillis();
        this.counters = counters;
    }

    /** One tap's record of a connection. */
    record Sighting(String tap, String json)
    {
    }

    /** A connection seen, waiting for its window to close. */
    record Pending(String json, long firstMs, long expiryMs, TreeSet<String> taps)
    {
        byte[] toBytes()
        {
            final ObjectNode node = InputRecord.JSON.createObjectNode();
            node.put("first", firstMs);
            node.put("expiry", expiryMs);
            final ArrayNode tapList = node.putArray("taps");
            taps.forEach(tapList::add);
            node.put("record", json);
            try
            {
                return InputRecord.JSON.writeValueAsBytes(node);
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
        }

        static Pending fromBytes(final byte[] bytes)
        {
            try
            {
                final JsonNode node = InputRecord.JSON.readTree(bytes);
                final TreeSet<String> taps = new TreeSet<>();
                node.path("taps").forEach(tap -> taps.add(tap.asText()));
                return new Pending(node.path("record").asText(), node.path("first").asLong(),
                    node.path("expiry").asLong(), taps);
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException("a pending dedup entry is not JSON", e);
            }
        }

        /** The record as written: the first sighting's text with the taps appended. */
        String output()
        {
            final StringBuilder out = new StringBuilder(json.length() + 16 * taps.size());
            out.append(json, 0, json.lastIndexOf('}')).append(",\"taps\":[");
            boolean first = true;
            for (final String tap : taps)
            {
                out.append(first ? "\"" : ",\"").append(JsonStringEncoder.getInstance().quoteAsString(tap))
                    .append('"');
                first = false;
            }
            return out.append("]}").toString();
        }
    }

    @Override
    public void init(final ProcessorContext<String, String> context)
    {
        this.context = context;
        this.pending = context.getStateStore(PENDING_STORE);
        this.expiry = context.getStateStore(EXPIRY_STORE);
        // Stream time, not wall time: the output depends on the records only (replays and tests are deterministic).
        context.schedule(Duration.ofMillis(Math.min(1000, windowMs)), PunctuationType.STREAM_TIME, this::emitDue);
    }

    @Override
    public void process(final Record<String, Sighting> record)
    {
        final String communityId = record.key();
        final long time = record.timestamp();
        Pending entry = pending.get(communityId);
        if (entry != null && (entry.taps().contains(record.value().tap()) || time >= entry.expiryMs()))
        {
            emit(communityId, entry);
            entry = null;
        }
        if (entry == null)
        {
            final TreeSet<String> taps = new TreeSet<>();
            taps.add(record.value().tap());
            entry = new Pending(record.value().json(), time, time + windowMs, taps);
            expiry.put(expiryKey(entry.expiryMs(), communityId), communityId);
        }
        else
        {
            entry.taps().add(record.value().tap());
            counters.countDuplicate();
        }
        pending.put(communityId, entry);
    }

    /** Writes every entry whose window has closed by {@code streamTime}. */
    private void emitDue(final long streamTime)
    {
        final List<KeyValue<String, String>> due = new ArrayList<>();
        try (KeyValueIterator<String, String> entries = expiry.all())
        {
            while (entries.hasNext())
            {
                final KeyValue<String, String> next = entries.next();
                if (expiryOf(next.key) > streamTime)
                {
                    break;
                }
                due.add(next);
            }
        }
        for (final KeyValue<String, String> entry : due)
        {
            final Pending waiting = pending.get(entry.value);
            if (waiting != null && waiting.expiryMs() == expiryOf(entry.key))
            {
                emit(entry.value, waiting);
            }
            else
            {
                expiry.delete(entry.key); // already written early (a tap listed twice)
            }
        }
    }

    private void emit(final String communityId, final Pending entry)
    {
        context.forward(new Record<>(communityId, entry.output(), entry.firstMs()));
        counters.countDedupWritten();
        pending.delete(communityId);
        expiry.delete(expiryKey(entry.expiryMs(), communityId));
    }

    private static String expiryKey(final long expiryMs, final String communityId)
    {
        return String.format(Locale.ROOT, "%019d|%s", expiryMs, communityId);
    }

    private static long expiryOf(final String expiryKey)
    {
        return Long.parseLong(expiryKey, 0, 19, 10);
    }
}
