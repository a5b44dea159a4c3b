package dev.flowtracker.ingest.output.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.flowtracker.ingest.output.AsciiRecord;
import dev.flowtracker.ingest.output.kafka.KafkaSinkSettings.Key;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Kafka sink against real brokers: a forked broker killed for about ten seconds mid-stream and started again
 * (every record delivered, writers never stalled, the buffer rising and falling), a broker that is not there (the
 * newest records beyond the buffer dropped and counted, the rest counted at exit), and flush as a checkpoint's
 * barrier.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class KafkaRecordSinkTest
{
    @TempDir
    Path dir;

    private static KafkaSinkSettings settings(
        final String bootstrap, final String topic, final long bufferBytes, final long flushTimeoutSeconds)
    {
        return new KafkaSinkSettings(bootstrap, topic, Key.COMMUNITY_ID, "tap-test", bufferBytes,
            TimeUnit.SECONDS.toNanos(flushTimeoutSeconds), Map.of(
            "bootstrap.servers", bootstrap, "acks", "all", "enable.idempotence", "true", "compression.type", "lz4",
            "linger.ms", "10", "max.block.ms", "1000", "request.timeout.ms", "15000",
            "delivery.timeout.ms", "30000", "reconnect.backoff.max.ms", "500"));
    }

    private static AsciiRecord record(final AsciiRecord out, final long n, final int padding)
    {
        out.clear().append("{\"community_id\":\"1:").append(n).append("\",\"n\":").append(n).append(",\"pad\":\"");
        for (int i = 0; i < padding; i++)
        {
            out.append('x');
        }
        return out.append("\"}");
    }

    @Test
    void shouldDeliverEveryRecordThroughABrokerOutageWithoutStallingTheWriter() throws Exception
    {
        final ByteArrayOutputStream messages = new ByteArrayOutputStream();
        try (ForkedBroker broker = new ForkedBroker(dir, ForkedBroker.freePort());
             PrintStream err = new PrintStream(messages, true, StandardCharsets.UTF_8))
        {
            broker.start();
            final KafkaRecordSink sink = new KafkaRecordSink(settings(broker.bootstrap(), "outage", 64L << 20, 60),
                err);
            final int total = 12_000;
            final AtomicLong slowestWriteNanos = new AtomicLong();
            final Thread writer = Thread.ofPlatform().start(() ->
            {
                final AsciiRecord out = new AsciiRecord(512);
                for (int n = 0; n < total; n++)
                {
                    final long start = System.nanoTime();
                    sink.write(record(out, n, 200));
                    slowestWriteNanos.accumulateAndGet(System.nanoTime() - start, Math::max);
                    if (n % 10 == 9)
                    {
                        sleepMillis(10); // about 1,000 records a second for 12 s
                    }
                }
            });
            waitFor(() -> sink.written() > 500, 30, "first deliveries");
            broker.kill();
            final long killed = System.nanoTime();
            long peakBuffered = 0;
            while (System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(10))
            {
                peakBuffered = Math.max(peakBuffered, sink.bufferedRecords());
                sleepMillis(100);
            }
            final long writtenBeforeRestart = sink.written();
            broker.start();
            writer.join();
            waitFor(() -> sink.bufferedRecords() == 0, 90, "the buffer to drain after the restart");
            assertTrue(sink.flush(), "everything acknowledged");
            sink.close();

            assertTrue(peakBuffered > 2_000, "records were held during the outage: " + peakBuffered);
            assertTrue(sink.written() > writtenBeforeRestart);
            assertEquals(0, sink.lost(), messages.toString(StandardCharsets.UTF_8));
            assertNull(sink.failure());
            assertTrue(slowestWriteNanos.get() < TimeUnit.MILLISECONDS.toNanos(500),
                "a writer never waited on the broker: slowest write " + slowestWriteNanos.get() / 1e6 + " ms");
            final Set<String> delivered = new HashSet<>();
            for (final ConsumerRecord<byte[], byte[]> message :
                Brokers.readAll(broker.bootstrap(), "outage", total, Duration.ofSeconds(30)))
            {
                final String value = new String(message.value(), StandardCharsets.UTF_8);
                delivered.add(value.substring(value.indexOf("\"n\":") + 4, value.indexOf(",\"pad\"")));
                assertEquals("1:" + value.substring(value.indexOf("\"n\":") + 4, value.indexOf(",\"pad\"")),
                    new String(message.key(), StandardCharsets.US_ASCII));
            }
            assertEquals(total, delivered.size(), "every record is on the topic (at least once)");
        }
    }

    @Test
    void shouldWarnOnceBufferAndDeliverWhenTheBrokerStartsLate() throws Exception
    {
        final ByteArrayOutputStream messages = new ByteArrayOutputStream();
        try (ForkedBroker broker = new ForkedBroker(dir, ForkedBroker.freePort());
             PrintStream err = new PrintStream(messages, true, StandardCharsets.UTF_8))
        {
            final KafkaRecordSink sink = new KafkaRecordSink(settings(broker.bootstrap(), "late", 64L << 20, 60),
                err);
            final AsciiRecord out = new AsciiRecord(512);
            for (int n = 0; n < 500; n++)
            {
                sink.write(record(out, n, 100));
            }
            Thread.sleep(3_000);
            assertEquals(0, sink.written(), "nothing is delivered before the broker runs");
            assertEquals(500, sink.bufferedRecords(), "every record is kept meanwhile");
            assertFalse(sink.flush(), "a checkpoint would not commit meanwhile");
            broker.start();
            waitFor(() -> sink.written() == 500, 90, "delivery once the broker runs");
            assertTrue(sink.flush());
            sink.close();
            assertEquals(0, sink.lost());
            final List<String> lines = messages.toString(StandardCharsets.UTF_8).lines().toList();
            assertEquals(1, lines.stream().filter(l -> l.contains("warning: cannot deliver")).count(),
                lines.toString());
            assertEquals(1, lines.stream().filter(l -> l.contains("delivering again")).count(), lines.toString());
            assertEquals(500, Brokers.readAll(broker.bootstrap(), "late", 500, Duration.ofSeconds(20)).size());
        }
    }

    @Test
    void shouldDropTheNewestBeyondTheBufferAndCountTheRestAtExitWhenNoBrokerListens() throws Exception
    {
        final ByteArrayOutputStream messages = new ByteArrayOutputStream();
        final String nowhere = "127.0.0.1:" + ForkedBroker.freePort();
        final KafkaRecordSink sink;
        try (PrintStream err = new PrintStream(messages, true, StandardCharsets.UTF_8))
        {
            sink = new KafkaRecordSink(settings(nowhere, "lost", 10_000, 1), err);
            final AsciiRecord out = new AsciiRecord(2048);
            long slowest = 0;
            for (int n = 0; n < 100; n++)
            {
                final long start = System.nanoTime();
                sink.write(record(out, n, 950));
                slowest = Math.max(slowest, System.nanoTime() - start);
            }
            final long flushStart = System.nanoTime();
            assertFalse(sink.flush(), "nothing can be acknowledged");
            assertTrue(System.nanoTime() - flushStart < TimeUnit.SECONDS.toNanos(5), "a flush does not wait out an " +
                "outage");
            sink.close();
            assertTrue(slowest < TimeUnit.MILLISECONDS.toNanos(200), "writes never waited: " + slowest / 1e6 + " ms");
        }
        final long held = 10_000 / 1_000; // records of about 1 KB the buffer holds
        assertEquals(100 - held, sink.lost(KafkaRecordSink.LossReason.BUFFER_FULL), "the newest beyond the buffer");
        assertEquals(held, sink.lost(KafkaRecordSink.LossReason.SHUTDOWN), "the buffered ones, at exit");
        assertEquals(100, sink.lost());
        assertEquals(0, sink.written());
        assertEquals(0, sink.bufferedBytes());
        assertNotNull(sink.failure());
        assertTrue(sink.failure().startsWith("100 records not delivered to " + nowhere), sink.failure());
        final List<String> warnings = messages.toString(StandardCharsets.UTF_8).lines()
            .filter(l -> l.contains("warning")).toList();
        assertEquals(1, warnings.size(), "one warning, however long it lasts: " + warnings);
    }

    @Test
    void shouldFindTheCommunityIdInARecord()
    {
        final byte[] line = "{\"ts\":1,\"proto\":\"tcp\",\"community_id\":\"1:abc+/=\",\"x\":2}"
            .getBytes(StandardCharsets.US_ASCII);
        assertEquals("1:abc+/=", new String(KafkaRecordSink.communityId(line), StandardCharsets.US_ASCII));
        assertNull(KafkaRecordSink.communityId("{\"ts\":1}".getBytes(StandardCharsets.US_ASCII)));
    }

    private static void waitFor(final java.util.function.BooleanSupplier condition, final int seconds,
        final String what) throws InterruptedException
    {
        final long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!condition.getAsBoolean())
        {
            assertTrue(System.nanoTime() < deadline, "timed out waiting for " + what);
            Thread.sleep(50);
        }
    }

    private static void sleepMillis(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException e)
        {
            Thread.currentThread().interrupt();
        }
    }
}
