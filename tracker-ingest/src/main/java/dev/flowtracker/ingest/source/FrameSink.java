package dev.flowtracker.ingest.source;

/**
 * Where a source's delivery thread hands each frame, in place: the one frame contract of every source (capture
 * files, AF_PACKET, VXLAN/Geneve mirrors) and every consumer (the pipeline's source ports, the offline analysis,
 * pacing and filters in between). One sink per delivery thread: a sink keeps per-thread decode state (fragments,
 * counters) and is never shared. The descriptor and the bytes it points at are valid only during the call; a sink
 * copies what it keeps.
 */
@FunctionalInterface
public interface FrameSink
{
    /** One frame; see {@link FrameDescriptor} for what it holds and how long. */
    void onFrame(FrameDescriptor frame);
}
