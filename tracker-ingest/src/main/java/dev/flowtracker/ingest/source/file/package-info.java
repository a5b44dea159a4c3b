/**
 * Capture-file sources: a {@link dev.flowtracker.ingest.source.file.CaptureInput} window over the file's bytes
 * (memory-mapped, or a sliding buffer over a gzip stream) and format readers in {@code pcap} and {@code pcapng}
 * that hand each frame, in place, to a {@link dev.flowtracker.ingest.source.file.PacketHandler}. A corrupt or
 * truncated file ends with a {@link dev.flowtracker.ingest.source.file.CaptureFormatException} naming file and offset.
 */
package dev.flowtracker.ingest.source.file;
