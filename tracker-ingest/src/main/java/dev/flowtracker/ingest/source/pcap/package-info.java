/** Capture-file replay as a {@link dev.flowtracker.ingest.source.PacketSource}: one delivery thread, lossless. */
package dev.flowtracker.ingest.source.pcap;
