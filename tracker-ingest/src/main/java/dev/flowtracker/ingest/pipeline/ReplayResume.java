package dev.flowtracker.ingest.pipeline;

import dev.flowtracker.core.decode.DecodeEvent;
import dev.flowtracker.core.decode.DecodedPacket;
import dev.flowtracker.core.decode.PacketDecoder;
import dev.flowtracker.core.flow.FlowHash;
import dev.flowtracker.ingest.checkpoint.CheckpointInfo;
import dev.flowtracker.ingest.source.FrameDescriptor;

import java.util.Arrays;
import java.util.List;

/**
 * Where a replay of the same capture resumes after a restore: which frames the restored checkpoints already hold.
 * Each shard's checkpoint records the packet time its worker had reached; a frame of a connection that shard owned
 * (its 4-tuple hash modulo the checkpoint's shard count) is already in that checkpoint, or in a record written
 * before it, when its time is at or before the shard's packet time. So a frame is skipped exactly when its time is
 * at or before its own shard's checkpoint time: nothing is tracked twice and nothing is lost.
 *
 * <p>After a graceful stop every shard checkpointed at the end of the same ring, so all times are equal and the
 * rule is one cut. After a {@code kill -9} with periodic checkpoints they may differ (a shard whose write was
 * still going skipped a round); only frames between the earliest and the latest time are decoded to find their
 * shard, the others are decided by their time alone. Frames in that window that hold no TCP segment are skipped.
 * A shard with no checkpoint at all had its frames replayed from the start.
 *
 * <p>Immutable except for its decoder scratch: {@link #alreadyTracked} is called on the replay thread only.
 */
public final class ReplayResume
{
    private final long[] shardTimes;
    private final long earliest;
    private final long latest;
    private final PacketDecoder decoder = new PacketDecoder();
    private final DecodedPacket packet = new DecodedPacket();

    private ReplayResume(final long[] shardTimes)
    {
        this.shardTimes = shardTimes;
        this.earliest = Arrays.stream(shardTimes).min().orElseThrow();
        this.latest = Arrays.stream(shardTimes).max().orElseThrow();
        decoder.verifyChecksums(false); // only the 4-tuple is wanted
    }

    /** The resume point of these committed checkpoints, or null when there are none. */
    static ReplayResume of(final List<CheckpointInfo> checkpoints)
    {
        if (checkpoints.isEmpty())
        {
            return null;
        }
        final int shards = checkpoints.stream().mapToInt(CheckpointInfo::shard).max().orElseThrow() + 1;
        final long[] times = new long[shards];
        Arrays.fill(times, Long.MIN_VALUE); // no checkpoint: nothing of that shard is held
        for (final CheckpointInfo info : checkpoints)
        {
            times[info.shard()] = info.packetTimeNanos();
        }
        return new ReplayResume(times);
    }

    /** The earliest shard's packet time: frames at or before it are all skipped. */
    public long earliestNanos()
    {
        return earliest;
    }

    /** The latest shard's packet time: frames after it are all replayed. */
    public long latestNanos()
    {
        return latest;
    }

    /** The checkpoint's packet time of shard {@code shard}, {@link Long#MIN_VALUE} for a shard it did not have. */
    long shardNanos(final int shard)
    {
        return shard < shardTimes.length ? shardTimes[shard] : Long.MIN_VALUE;
    }

    /** Shards the checkpoints were written by. */
    int shards()
    {
        return shardTimes.length;
    }

    /** Whether the restored checkpoints already hold this frame (see the class comment): the replay skips it. */
    public boolean alreadyTracked(final FrameDescriptor frame)
    {
        final long timestampNanos = frame.timestampNanos();
        if (timestampNanos > latest)
        {
            return false;
        }
        if (timestampNanos <= earliest)
        {
            return true;
        }
        final DecodedPacket p = packet;
        final DecodeEvent event = decoder.decode(frame.segment(), frame.offset(), frame.capturedLength(),
            frame.wireLength(), frame.linkType(), p);
        if (event != DecodeEvent.TCP_SEGMENT || p.fragmentLength >= 0)
        {
            return true; // nothing of a connection to lose; its time is within what the checkpoints saw
        }
        p.tunnelId = FrameDescriptor.NO_TUNNEL;
        return timestampNanos <= shardTimes[Integer.remainderUnsigned(FlowHash.of(p), shardTimes.length)];
    }
}
