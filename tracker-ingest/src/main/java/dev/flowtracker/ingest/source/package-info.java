/**
 * Packet sources: everything that feeds frames into the pipeline behind one contract ({@link
 * dev.flowtracker.ingest.source.PacketSource}): capture-file replay ({@code file}), AF_PACKET capture
 * ({@code afpacket}), VXLAN/Geneve mirror receivers ({@code mirror}). Each source owns its delivery threads; the
 * pipeline gives each thread its own {@link dev.flowtracker.ingest.source.FrameSink}, and the thread hands it every
 * frame in its one preallocated {@link dev.flowtracker.ingest.source.FrameDescriptor} (segment, offset, lengths,
 * link type, time, interface, tunnel id, checksum status).
 */
package dev.flowtracker.ingest.source;
