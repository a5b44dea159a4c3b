package dev.flowtracker.ingest.source;

import java.util.function.IntFunction;

/**
 * A producer of captured frames for the pipeline: capture files, an AF_PACKET ring, a VXLAN/Geneve mirror
 * receiver. Every implementation passes {@code PacketSourceContractTest}.
 *
 * <p>Life cycle: {@link #start} once, then frames flow from the source's own delivery threads (thread {@code i}
 * calls only the sink built for {@code i}) until the input ends (a file source) or {@link #close} is called (any
 * source). {@link #close} is idempotent and returns only once no delivery thread will call a sink again.
 *
 * <p>Counters may be read from any thread at any time (values may be a moment stale).
 */
public interface PacketSource extends AutoCloseable
{
    /** What it reads, for logs and metric labels: {@code pcap}, {@code af_packet}, {@code vxlan}, {@code geneve}. */
    String kind();

    /** Where it reads from, for messages: file names, an interface, a listen address. */
    String description();

    /**
     * Live sources (capture, mirrors) must never be blocked by the pipeline: when the ring is full their frames are
     * dropped and counted. Replay from files is lossless instead: it waits.
     */
    boolean live();

    /** How many delivery threads {@link #start} will use (the pipeline prepares one sink for each). */
    int deliveryThreads();

    /**
     * Opens the source and starts delivery; returns once it is receiving. Frames go to
     * {@code sinkForThread.apply(i)} on delivery thread {@code i}, {@code 0 <= i < deliveryThreads()}.
     *
     * @throws SourceException with a one-line message naming the problem (missing permission, unknown interface,
     *                         address in use, unreadable file); nothing is left open.
     */
    void start(IntFunction<FrameSink> sinkForThread) throws SourceException;

    /**
     * Waits until the source has nothing more to deliver: the end of its files, a fatal read error, or
     * {@link #close}. A live source only ends when closed.
     */
    void awaitEnd() throws InterruptedException;

    /** The error that ended delivery early (a corrupt file, a failed socket), or null. */
    SourceException failure();

    /** Frames delivered to sinks so far. */
    long frames();

    /** Bytes (as on the wire) of the frames delivered so far. */
    long bytes();

    /** Frames the source itself lost before delivery (kernel ring drops, receive buffer overruns), when it knows. */
    long drops();

    /** Stops delivery, waits for the delivery threads to return and releases everything. Idempotent. */
    @Override
    void close();
}
