/**
 * Capture-file sources: a {@link dev.flowtracker.ingest.capture.CaptureInput} window over the file's bytes
 * (memory-mapped, or a sliding buffer over a gzip stream) and format readers in {@code pcap} and {@code pcapng}
 * that hand each frame, in place, to a {@link dev.flowtracker.ingest.capture.PacketHandler}. A corrupt or
 * truncated file ends with a {@link dev.flowtracker.ingest.capture.CaptureFormatException} naming file and offset.
 */
package dev.flowtracker.ingest.capture;
