package dev.flowtracker.ingest.source;

import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.ingest.source.SourceFrames.Frame;
import dev.flowtracker.ingest.source.SourceFrames.PipelineRun;
import dev.flowtracker.ingest.source.SourceFrames.Recorder;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The contract every {@link PacketSource} passes (pcap replay, AF_PACKET, VXLAN/Geneve mirrors), Netty-style: one
 * abstract test, one subclass per source that says how to build the source and how to feed it a capture (the file
 * itself, datagrams over loopback, frames replayed onto a veth...).
 *
 * <p>The capture is {@code ../samples/sample.pcap} (254 Ethernet frames). A live source's records cannot carry the
 * capture's timestamps (it stamps arrival time), so the pipeline's records are compared with the single-threaded
 * analysis of the frames as the source delivered them; their bytes are checked against the capture separately, and
 * a source that keeps capture time is also compared with the analysis of the file itself.
 */
public abstract class PacketSourceContractTest
{
    protected static final Path SAMPLE = Path.of("../samples/sample.pcap");
    /** Every wait in these tests is bounded by this. */
    protected static final long TIMEOUT_MILLIS = 30_000;

    /** A source, not started, that delivers {@code copies} times the capture's frames once fed. */
    protected abstract PacketSource newSource(Path capture, int copies) throws Exception;

    /**
     * Makes a started source receive {@code copies} times the capture's frames (a file source already has them:
     * nothing to do), within {@code timeLimit}. Returns once they are sent; delivery may still be under way.
     */
    protected abstract void feed(PacketSource source, Path capture, int copies, Duration timeLimit) throws Exception;

    /** A source whose start must fail (a missing file, an address that is not local, an unknown interface). */
    protected abstract PacketSource newSourceThatCannotStart() throws Exception;

    /** Whether frames keep the capture's timestamps (replay) rather than their arrival time (live capture). */
    protected abstract boolean keepsCaptureTime();

    /** The tunnel id every delivered frame carries ({@link FrameDescriptor#NO_TUNNEL} unless a mirror session). */
    protected abstract int expectedTunnelId();

    /** The wire length a source reports for a frame of the capture (a mirror knows only what it received). */
    protected int expectedWireLength(final Frame original)
    {
        return original.wireLength();
    }

    /**
     * Frames a live interface carries besides the fed capture (IPv6 neighbour discovery on a fresh veth, say), which
     * the checks leave out; none by default.
     */
    protected boolean isNoise(final Frame frame)
    {
        return false;
    }

    /** Starts, feeds the capture {@code copies} times and waits for every frame; the source is still open. */
    private void deliver(final PacketSource source, final Recorder recorder, final int copies, final long expected)
        throws Exception
    {
        source.start(recorder);
        feed(source, SAMPLE, copies, Duration.ofMillis(TIMEOUT_MILLIS));
        if (!SourceFrames.await(() -> source.frames() >= expected && recorder.calls() >= expected &&
            (!recorder.copies() || fed(recorder.merged()).size() >= expected), TIMEOUT_MILLIS))
        {
            fail(source.description() + ": " + source.frames() + " of " + expected + " frames delivered in time (" +
                source.drops() + " dropped, failure " + source.failure() + ")");
        }
    }

    @Test
    public void shouldDeliverEveryFrameExactlyOnceWithItsBytesIntact() throws Exception
    {
        final List<Frame> originals = SourceFrames.read(SAMPLE);
        final Recorder recorder = new Recorder();
        final long startWall = wallNanos();
        final PacketSource source = newSource(SAMPLE, 1);
        try
        {
            deliver(source, recorder, 1, originals.size());
            // A moment for anything delivered twice to show.
            Thread.sleep(100);
        }
        finally
        {
            source.close();
        }
        final long endWall = wallNanos();
        final List<Frame> all = recorder.merged();
        final List<Frame> delivered = fed(all);
        assertEquals(originals.size(), delivered.size(), "frames delivered");
        assertEquals(all.size(), source.frames(), "frames()");
        long expectedBytes = 0;
        for (final Frame noise : all)
        {
            if (isNoise(noise))
            {
                expectedBytes += noise.wireLength();
            }
        }
        final Map<ByteBuffer, List<Frame>> unmatched = new HashMap<>();
        for (final Frame original : originals)
        {
            unmatched.computeIfAbsent(original.key(), k -> new ArrayList<>()).add(original);
            expectedBytes += expectedWireLength(original);
        }
        for (final Frame frame : delivered)
        {
            final List<Frame> candidates = unmatched.get(frame.key());
            assertTrue(candidates != null && !candidates.isEmpty(), "a frame the capture does not have (or has " +
                "fewer times): " + frame);
            final Frame original = candidates.remove(0);
            assertEquals(original.linkType(), frame.linkType(), "link type");
            assertEquals(expectedWireLength(original), frame.wireLength(), "wire length");
            assertEquals(expectedTunnelId(), frame.tunnelId(), "tunnel id");
            if (keepsCaptureTime())
            {
                assertEquals(original.timestampNanos(), frame.timestampNanos(), "capture timestamp");
            }
            else
            {
                assertTrue(frame.timestampNanos() >= startWall - 1_000_000 && frame.timestampNanos() <= endWall,
                    "arrival time " + frame.timestampNanos() + " outside the run [" + startWall + ", " + endWall + "]");
            }
        }
        assertEquals(expectedBytes, source.bytes(), "bytes()");
        assertEquals(0, source.drops(), "drops()");
        assertNull(source.failure(), "failure()");
        if (!keepsCaptureTime())
        {
            for (final List<Frame> own : recorder.frames().values())
            {
                for (int i = 1; i < own.size(); i++)
                {
                    assertTrue(own.get(i).timestampNanos() >= own.get(i - 1).timestampNanos(),
                        "arrival times go backwards on one delivery thread");
                }
            }
        }
    }

    @Test
    public void shouldCallEachSinkFromItsOwnDeliveryThreadOnly() throws Exception
    {
        final int copies = 4;
        final int frames = SourceFrames.read(SAMPLE).size() * copies;
        final Recorder recorder = new Recorder(false, i -> new FrameSink[0]);
        final PacketSource source = newSource(SAMPLE, copies);
        try
        {
            deliver(source, recorder, copies, frames);
        }
        finally
        {
            source.close();
        }
        final int threads = source.deliveryThreads();
        assertTrue(threads >= 1, "deliveryThreads()");
        final Set<Thread> seen = new HashSet<>();
        for (final Map.Entry<Integer, Set<Thread>> entry : recorder.threads().entrySet())
        {
            final int index = entry.getKey();
            assertTrue(index >= 0 && index < threads, "sink " + index + " of " + threads + " asked for");
            assertEquals(1, recorder.sinksBuilt().get(index).get(), "sink " + index + " built once");
            assertTrue(entry.getValue().size() <= 1, "sink " + index + " called from " + entry.getValue());
            for (final Thread thread : entry.getValue())
            {
                assertNotEquals(Thread.currentThread(), thread, "the source delivers on its own threads");
                assertTrue(seen.add(thread), thread + " called two sinks");
            }
        }
        assertTrue(recorder.calls() >= frames, "every frame delivered");
        System.out.println(getClass().getSimpleName() + ": " + threads + " delivery threads, " + seen.size() +
            " of them delivered");
    }

    @Test
    public void shouldCallNoSinkOnceClosedAndCloseTwice() throws Exception
    {
        final int copies = 400;
        final Recorder recorder = new Recorder(false, i -> new FrameSink[0]);
        final PacketSource source = newSource(SAMPLE, copies);
        source.start(recorder);
        final AtomicReference<Throwable> feedFailure = new AtomicReference<>();
        final Thread feeder = new Thread(() ->
        {
            try
            {
                feed(source, SAMPLE, copies, Duration.ofSeconds(3));
            }
            catch (final Exception e)
            {
                feedFailure.set(e); // expected once the source is closed: its port is gone
            }
        }, "contract-feeder");
        feeder.setDaemon(true);
        feeder.start();
        try
        {
            assertTrue(SourceFrames.await(() -> recorder.calls() > 0, TIMEOUT_MILLIS), "nothing delivered");
        }
        finally
        {
            source.close();
        }
        recorder.markClosed();
        feeder.interrupt();
        final long framesAtClose = source.frames();
        Thread.sleep(200);
        assertEquals(0, recorder.callsAfterClose(), "sinks called after close() returned");
        assertEquals(framesAtClose, source.frames(), "frames() moved after close()");
        source.close();
        assertTrue(awaitEnd(source, 5_000), "awaitEnd() after close()");
        feeder.join(TIMEOUT_MILLIS);
        assertFalse(feeder.isAlive(), "feeder did not stop");
        assertEquals(0, recorder.callsAfterClose(), "sinks called after close() returned");
    }

    @Test
    public void shouldReturnFromAwaitEndOnceClosed() throws Exception
    {
        final PacketSource source = newSource(SAMPLE, 1);
        final Recorder recorder = new Recorder(false, i -> new FrameSink[0]);
        source.start(recorder);
        final CountDownLatch ended = new CountDownLatch(1);
        final Thread waiter = new Thread(() ->
        {
            try
            {
                source.awaitEnd();
                ended.countDown();
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }, "contract-await-end");
        waiter.setDaemon(true);
        waiter.start();
        if (source.live())
        {
            assertFalse(ended.await(200, TimeUnit.MILLISECONDS), "a live source ended by itself");
        }
        source.close();
        assertTrue(ended.await(10, TimeUnit.SECONDS), "awaitEnd() did not return after close()");
    }

    @Test
    public void shouldRefuseToStartWithAOneLineMessageAndLeaveNothingOpen() throws Exception
    {
        final Set<Thread> before = Thread.getAllStackTraces().keySet();
        final PacketSource source = newSourceThatCannotStart();
        final Recorder recorder = new Recorder(false, i -> new FrameSink[0]);
        final SourceException e = assertThrows(SourceException.class, () -> source.start(recorder));
        assertNotNull(e.getMessage());
        assertFalse(e.getMessage().isBlank());
        assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        source.close();
        assertTrue(awaitEnd(source, 5_000), "awaitEnd() after a failed start");
        assertEquals(0, recorder.calls());
        assertTrue(SourceFrames.await(() -> newTrackerThreads(before).isEmpty(), 5_000),
            "threads left running: " + newTrackerThreads(before));
    }

    @Test
    public void shouldGiveAPipelineTheRecordsOfTheSingleThreadedAnalysis() throws Exception
    {
        final int frames = SourceFrames.read(SAMPLE).size();
        final PacketSource source = newSource(SAMPLE, 1);
        final PipelineRun zeek = new PipelineRun(source, Lifecycle.ZEEK);
        final PipelineRun tshark = new PipelineRun(source, Lifecycle.TSHARK);
        final Recorder recorder = new Recorder(true, i -> new FrameSink[] {zeek.sink(i), tshark.sink(i)});
        try
        {
            deliver(source, recorder, 1, frames);
        }
        finally
        {
            source.close();
        }
        final List<Frame> delivered = recorder.merged();
        final List<String> zeekRecords = zeek.finish();
        final List<String> tsharkRecords = tshark.finish();
        assertFalse(zeekRecords.isEmpty(), "no records");
        SourceFrames.assertSameRecords(SourceFrames.analyse(delivered, Lifecycle.ZEEK), zeekRecords,
            source.description() + ", zeek lifecycle");
        SourceFrames.assertSameRecords(SourceFrames.analyse(delivered, Lifecycle.TSHARK), tsharkRecords,
            source.description() + ", tshark lifecycle");
        if (keepsCaptureTime())
        {
            SourceFrames.assertSameRecords(SourceFrames.analyse(SAMPLE, Lifecycle.ZEEK), zeekRecords,
                source.description() + " vs analyze of the file");
        }
    }

    /** The frames that are not {@link #isNoise noise}, in order. */
    private List<Frame> fed(final List<Frame> frames)
    {
        final List<Frame> fed = new ArrayList<>(frames.size());
        for (final Frame frame : frames)
        {
            if (!isNoise(frame))
            {
                fed.add(frame);
            }
        }
        return fed;
    }

    private static boolean awaitEnd(final PacketSource source, final long timeoutMillis) throws InterruptedException
    {
        final Thread waiter = new Thread(() ->
        {
            try
            {
                source.awaitEnd();
            }
            catch (final InterruptedException e)
            {
                Thread.currentThread().interrupt();
            }
        }, "contract-await-end");
        waiter.setDaemon(true);
        waiter.start();
        waiter.join(timeoutMillis);
        return !waiter.isAlive();
    }

    /** Live threads named tracker-* that were not there before. */
    private static List<String> newTrackerThreads(final Set<Thread> before)
    {
        final List<String> names = new ArrayList<>();
        for (final Thread thread : Thread.getAllStackTraces().keySet())
        {
            if (!before.contains(thread) && thread.isAlive() && thread.getName().startsWith("tracker-"))
            {
                names.add(thread.getName());
            }
        }
        return names;
    }

    protected static long wallNanos()
    {
        final Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
}
