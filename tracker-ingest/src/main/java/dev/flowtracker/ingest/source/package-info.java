/**
 * Packet sources: everything that feeds frames into the pipeline behind one contract ({@link
 * dev.flowtracker.ingest.source.PacketSource}): capture-file replay, AF_PACKET capture, VXLAN/Geneve mirror
 * receivers. Each source owns its delivery threads; the pipeline gives each thread its own
 * {@link dev.flowtracker.ingest.source.FrameSink}.
 */
package dev.flowtracker.ingest.source;
