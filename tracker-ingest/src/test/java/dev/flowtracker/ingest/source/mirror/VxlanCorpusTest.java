package dev.flowtracker.ingest.source.mirror;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.flowtracker.core.tcp.Lifecycle;
import dev.flowtracker.core.wire.LinkType;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.SourceFrames;
import dev.flowtracker.ingest.source.SourceFrames.Frame;
import dev.flowtracker.ingest.source.SourceFrames.PipelineRun;
import dev.flowtracker.ingest.source.SourceFrames.Recorder;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every Ethernet capture of the shared corpus, encapsulated in VXLAN, sent over loopback to the receiver: every
 * frame arrives once and intact, nothing is dropped, and the pipeline's records are those of the single-threaded
 * analysis.
 *
 * <p>What "the analysis" is needs care: a mirror does not carry capture time, the receiver stamps arrival time, so
 * durations, RTTs, uids and time-driven decisions (Zeek's timers, tshark's out-of-order threshold) cannot match
 * the analysis of the file. So (1) the records must equal, field for field, the analysis of the same frames with
 * their arrival times and VNI, and (2) the fields that do not depend on time must equal those of {@code analyze} on
 * the file itself (tshark's lifecycle, which has no timers), vni aside. For (2) a frame's wire length is its
 * captured length: a frame the capture's snaplen cut travels as captured, and a mirror cannot know how long it was.
 */
class VxlanCorpusTest
{
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int WINDOW = 256;

    @BeforeEach
    void requireEpoll()
    {
        Assumptions.assumeTrue(MirrorSource.isAvailable(),
            () -> "skipped: no epoll here: " + MirrorSource.unavailabilityCause());
    }

    private static Path requireCorpus()
    {
        final Path dir = Path.of(System.getProperty("tracker.corpus", "../shared/corpus")).toAbsolutePath().normalize();
        Assumptions.assumeTrue(Files.isDirectory(dir.resolve("pcaps")),
            "skipped: the shared corpus is not at " + dir + " (set -Dtracker.corpus=DIR to point at it)");
        return dir;
    }

    @Test
    void shouldDeliverEveryCorpusCaptureOverVxlanAndGiveTheRecordsOfTheAnalysis() throws Exception
    {
        final Path corpus = requireCorpus();
        final List<Path> captures;
        try (Stream<Path> files = Files.walk(corpus.resolve("pcaps")))
        {
            captures = files.filter(Files::isRegularFile).sorted().toList();
        }
        int compared = 0;
        long frames = 0;
        long sendNanos = 0;
        final List<String> notSendable = new ArrayList<>();
        int vni = 0;
        for (final Path capture : captures)
        {
            final List<Frame> originals;
            try
            {
                originals = SourceFrames.read(capture);
            }
            catch (final IOException e)
            {
                notSendable.add(capture.getFileName() + " (unreadable)");
                continue;
            }
            final String why = whyNotSendable(originals);
            if (why != null)
            {
                notSendable.add(capture.getFileName() + " (" + why + ")");
                continue;
            }
            vni++;
            final Run run = run(capture, originals, vni);
            frames += originals.size();
            sendNanos += run.sendNanos();
            compared++;
            final List<String> expected = timeFree(SourceFrames.analyse(asMirrored(originals), Lifecycle.TSHARK));
            SourceFrames.assertSameRecords(expected, timeFree(run.tsharkRecords()),
                capture + ": fields that do not depend on time, vs analyze of the file");
        }
        System.out.println("VxlanCorpusTest: " + compared + " captures, " + frames + " frames sent over VXLAN at " +
            Math.round(frames * 1e9 / Math.max(1, sendNanos)) + " datagrams/s (window " + WINDOW + "), no drops; " +
            "not sendable: " + notSendable.size() + " " + notSendable);
        assertTrue(compared > 100, "only " + compared + " captures compared");
    }

    /** Why a capture cannot travel whole in VXLAN (not Ethernet, frames too short or too long), or null. */
    private static String whyNotSendable(final List<Frame> frames)
    {
        if (frames.isEmpty())
        {
            return "empty";
        }
        for (final Frame f : frames)
        {
            if (f.linkType() != LinkType.EN10MB)
            {
                return "link type " + f.linkType();
            }
            if (f.data().length < Decapsulator.ETHERNET_HEADER_LENGTH || f.data().length > MirrorSource.MAX_INNER_FRAME)
            {
                return "a frame of " + f.data().length + " bytes";
            }
        }
        return null;
    }

    record Run(List<String> zeekRecords, List<String> tsharkRecords, long sendNanos)
    {
    }

    /** Sends the capture through a fresh two-socket receiver into two pipelines and checks delivery and records. */
    private static Run run(final Path capture, final List<Frame> originals, final int vni) throws Exception
    {
        final MirrorSource source = new MirrorSource(new MirrorOptions(MirrorProtocol.VXLAN,
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)).withThreads(2));
        final PipelineRun zeek = new PipelineRun(source, Lifecycle.ZEEK);
        final PipelineRun tshark = new PipelineRun(source, Lifecycle.TSHARK);
        final Recorder recorder = new Recorder(true, i -> new FrameSink[] {zeek.sink(i), tshark.sink(i)});
        final MirrorReplay.Result sent;
        try
        {
            source.start(recorder);
            // One outer 4-tuple, so every frame reaches one socket in capture order: spreading by inner addresses
            // cannot keep together a connection seen both fragmented and whole inside a tunnel (GTP, 6in4), and
            // the time-free comparison below needs capture order. The contract tests spread flows over sockets.
            try (MirrorReplay replay = new MirrorReplay(MirrorProtocol.VXLAN, source.localAddress(), vni, 1))
            {
                sent = replay.send(capture, Long.MAX_VALUE, Duration.ofSeconds(60),
                    MirrorReplay.Pacing.window(WINDOW, () -> source.counter(MirrorCounter.DATAGRAMS)));
            }
            if (!SourceFrames.await(() -> source.frames() >= originals.size(), 30_000))
            {
                fail(capture + ": " + source.frames() + " of " + originals.size() + " frames arrived, drops " +
                    source.drops());
            }
        }
        finally
        {
            source.close();
        }
        assertTrue(sent.complete(), capture + ": not sent in time");
        assertEquals(originals.size(), sent.sent(), capture + ": sent");
        assertEquals(0, source.drops(), capture + ": kernel drops");
        assertEquals(0, source.malformed() + source.skipped(), capture + ": malformed or skipped");
        final List<Frame> delivered = recorder.merged();
        assertEquals(originals.size(), delivered.size(), capture + ": frames delivered");
        assertEquals(SourceFrames.contents(originals), SourceFrames.contents(delivered), capture + ": frame bytes");
        for (final Frame f : delivered)
        {
            assertEquals(vni, f.tunnelId(), capture + ": VNI");
        }
        final List<String> zeekRecords = zeek.finish();
        final List<String> tsharkRecords = tshark.finish();
        SourceFrames.assertSameRecords(SourceFrames.analyse(delivered, Lifecycle.ZEEK), zeekRecords,
            capture + " over VXLAN, zeek lifecycle");
        SourceFrames.assertSameRecords(SourceFrames.analyse(delivered, Lifecycle.TSHARK), tsharkRecords,
            capture + " over VXLAN, tshark lifecycle");
        return new Run(zeekRecords, tsharkRecords, sent.elapsedNanos());
    }

    /** The capture's frames as a mirror carries them: all that was captured, and nothing of the original length. */
    private static List<Frame> asMirrored(final List<Frame> originals)
    {
        final List<Frame> frames = new ArrayList<>(originals.size());
        for (final Frame f : originals)
        {
            frames.add(new Frame(f.data(), f.data().length, f.linkType(), f.timestampNanos(), f.interfaceId(),
                f.tunnelId()));
        }
        return frames;
    }

    /**
     * The records without the fields that depend on packet times or on the VNI, sorted: times, durations, RTTs,
     * uids (they hash the first packet's time), and the retransmission family of tshark flags (out-of-order needs
     * a gap under the initial RTT or 3 ms, fast retransmission one under 20 ms; what is neither is a retransmission,
     * spurious or not).
     */
    static List<String> timeFree(final List<String> records)
    {
        final List<String> out = new ArrayList<>();
        for (final String record : records)
        {
            try
            {
                final ObjectNode node = (ObjectNode)JSON.readTree(record);
                node.remove(List.of("ts", "uid", "duration"));
                final ObjectNode tcp = (ObjectNode)node.get("tcp");
                tcp.remove(List.of("initial_rtt", "vni"));
                for (final String side : List.of("orig", "resp"))
                {
                    final ObjectNode endpoint = (ObjectNode)tcp.get(side);
                    endpoint.remove("rtt");
                    ((ObjectNode)endpoint.get("analysis")).remove(List.of("retransmission", "fast_retransmission",
                        "spurious_retransmission", "out_of_order"));
                }
                out.add(node.toString());
            }
            catch (final IOException e)
            {
                throw new UncheckedIOException(e);
            }
        }
        Collections.sort(out);
        return out;
    }
}
