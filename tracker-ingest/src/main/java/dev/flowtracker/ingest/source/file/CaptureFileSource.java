package dev.flowtracker.ingest.source.file;

import dev.flowtracker.ingest.concurrent.TrackerThreads;
import dev.flowtracker.ingest.concurrent.TrackerThreads.Kind;
import dev.flowtracker.ingest.concurrent.Uninterruptibly;
import dev.flowtracker.ingest.source.FrameDescriptor;
import dev.flowtracker.ingest.source.FrameSink;
import dev.flowtracker.ingest.source.PacketSource;
import dev.flowtracker.ingest.source.SourceException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Replays capture files (pcap, pcapng, gzip'd) in the order given, as one stream, on one delivery thread: as fast as
 * the pipeline takes them, or paced at a multiple of the captured rate. Lossless (the pipeline makes it wait).
 * A file that cannot be read or is corrupt ends the replay there ({@link #failure()} names the file and offset);
 * the frames before it were delivered.
 *
 * <p>The delivery thread owns the readers; {@link #close} asks it to stop between frames and waits for it.
 */
public final class CaptureFileSource implements PacketSource
{
    /** Frames read per batch: small when paced, so a stop request is seen between batches promptly. */
    private static final int FAST_BATCH = 4096;
    private static final int PACED_BATCH = 64;

    private final List<Path> files;
    private final double replaySpeed;
    private volatile boolean stopRequested;
    private volatile SourceException failure;
    private volatile long frames;
    private volatile long bytes;
    private volatile long skipped;
    /** Frames not to deliver (already tracked before a restart); set before {@link #start}. */
    private Skip skip;
    private Thread thread;

    /** Which frames a replay leaves out, decided on the replay thread before pacing. */
    @FunctionalInterface
    public interface Skip
    {
        boolean skip(FrameDescriptor frame);
    }

    /**
     * @param replaySpeed 0 for as fast as possible; otherwise the captured pace times this factor (1 = real time).
     */
    public CaptureFileSource(final List<Path> files, final double replaySpeed)
    {
        if (files.isEmpty())
        {
            throw new IllegalArgumentException("no capture files");
        }
        if (replaySpeed < 0 || Double.isNaN(replaySpeed) || Double.isInfinite(replaySpeed))
        {
            throw new IllegalArgumentException("replay speed must be 0 (top speed) or positive, was " + replaySpeed);
        }
        this.files = List.copyOf(files);
        this.replaySpeed = replaySpeed;
    }

    @Override
    public String kind()
    {
        return "pcap";
    }

    @Override
    public String description()
    {
        return files.size() == 1 ? files.get(0).toString() : files.get(0) + " and " + (files.size() - 1) + " more";
    }

    @Override
    public boolean live()
    {
        return false;
    }

    @Override
    public int deliveryThreads()
    {
        return 1;
    }

    /**
     * Leaves out the frames {@code skip} picks (counted in {@link #skipped()}, not in {@link #frames()}), before
     * pacing: a restarted replay does not wait for the part of the capture its checkpoints already hold. Call
     * before {@link #start}.
     */
    public synchronized void skip(final Skip frames)
    {
        if (thread != null)
        {
            throw new IllegalStateException("already started");
        }
        this.skip = frames;
    }

    /** Frames left out by the {@link #skip} filter so far. */
    public long skipped()
    {
        return skipped;
    }

    @Override
    public synchronized void start(final IntFunction<FrameSink> sinkForThread) throws SourceException
    {
        if (thread != null)
        {
            throw new IllegalStateException("already started");
        }
        final Path first = files.get(0);
        if (!Files.isReadable(first))
        {
            throw new SourceException(first + ": " + (Files.exists(first) ? "not readable" : "no such file"));
        }
        final FrameSink sink = sinkForThread.apply(0);
        thread = TrackerThreads.start("source-pcap", Kind.DAEMON, () -> replay(sink));
    }

    private void replay(final FrameSink sink)
    {
        final FrameSink counting = frame ->
        {
            frames++;
            bytes += frame.wireLength();
            sink.onFrame(frame);
        };
        final FrameSink paced =
            replaySpeed > 0 ? new ReplayPacer(counting, replaySpeed, () -> stopRequested) : counting;
        final Skip frames = skip;
        final FrameSink skipping = frames == null ? paced : frame ->
        {
            if (frames.skip(frame))
            {
                skipped++;
            }
            else
            {
                paced.onFrame(frame);
            }
        };
        final Replay replay = new Replay();
        try
        {
            CaptureReplay.read(files, skipping, replaySpeed > 0 ? PACED_BATCH : FAST_BATCH, replay);
        }
        catch (final NoSuchFileException e)
        {
            failure = new SourceException(replay.file + ": no such file", e);
        }
        catch (final IOException e)
        {
            failure = new SourceException(
                e.getMessage() == null ? replay.file + ": " + e.getClass().getSimpleName() : e.getMessage(), e);
        }
    }

    /** The replay's stop check, and the file being read (for messages). Owned by the delivery thread. */
    private final class Replay implements CaptureReplay.Observer
    {
        private Path file;

        @Override
        public boolean proceed()
        {
            return !stopRequested;
        }

        @Override
        public void onFile(final Path next, final int index, final int count)
        {
            file = next;
        }
    }

    @Override
    public void awaitEnd() throws InterruptedException
    {
        final Thread delivering;
        synchronized (this)
        {
            delivering = thread;
        }
        if (delivering != null)
        {
            delivering.join();
        }
    }

    @Override
    public SourceException failure()
    {
        return failure;
    }

    /** Whether {@link #close} cut the replay short (rather than the files ending). */
    public boolean stopped()
    {
        return stopRequested;
    }

    @Override
    public long frames()
    {
        return frames;
    }

    @Override
    public long bytes()
    {
        return bytes;
    }

    @Override
    public long drops()
    {
        return 0; // lossless
    }

    @Override
    public void close()
    {
        stopRequested = true;
        Uninterruptibly.await(this::awaitEnd);
    }
}
