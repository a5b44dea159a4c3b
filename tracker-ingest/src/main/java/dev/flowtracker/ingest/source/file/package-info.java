/**
 * Capture files as a source: reading pcap and pcapng files (plain or gzip'd) and replaying them.
 *
 * <h2>Reading</h2>
 * {@link dev.flowtracker.ingest.source.file.CaptureFiles#open} looks at a file's first bytes and gives a
 * {@link dev.flowtracker.ingest.source.file.CaptureReader}: a {@link dev.flowtracker.ingest.source.file.PcapReader}
 * (classic libpcap, both byte orders, micro- and nanosecond magic) or a
 * {@link dev.flowtracker.ingest.source.file.PcapngReader} (sections, interfaces, enhanced, simple and obsolete
 * packet blocks). A reader sees the file through a {@link dev.flowtracker.ingest.source.file.CaptureInput}: the
 * whole file memory-mapped ({@link dev.flowtracker.ingest.source.file.MappedCaptureInput}, whose passed pages
 * {@link dev.flowtracker.ingest.source.file.PageRelease} gives back) or a sliding buffer over a gzip stream
 * ({@link dev.flowtracker.ingest.source.file.StreamingCaptureInput}). Frames are read in place, never copied: a
 * reader fills its one {@link dev.flowtracker.ingest.source.FrameDescriptor} for each frame and hands it to a
 * {@link dev.flowtracker.ingest.source.FrameSink}, the contract every source shares.
 *
 * <h2>The reading loop</h2>
 * {@link dev.flowtracker.ingest.source.file.CaptureReplay} is the one loop over capture files: files in order as
 * one stream, in batches, with an observer between batches for progress and stop requests. {@code run --pcap}
 * ({@link dev.flowtracker.ingest.source.file.CaptureFileSource}, the {@link dev.flowtracker.ingest.source.PacketSource}
 * on its own delivery thread, optionally paced by {@link dev.flowtracker.ingest.source.file.ReplayPacer}),
 * {@code analyze}, the offline analysis, tests and benchmarks all read through it.
 * <pre>
 *   CaptureFiles.open -> CaptureReader (PcapReader | PcapngReader) over CaptureInput (mapped | streamed)
 *       -> FrameDescriptor -> FrameSink: [skip] -> [ReplayPacer] -> pipeline port / OfflineAnalysis / ...
 * </pre>
 *
 * <h2>Bad input</h2>
 * Every length read from a file is checked against fixed bounds and its block before use; no length sizes a buffer
 * beyond them. A file that cannot be read on ends with a
 * {@link dev.flowtracker.ingest.source.file.CaptureFormatException} naming the file and the byte offset; the frames
 * before it were delivered. Malformed frames inside a well-formed file are not the readers' business: the decode
 * stage counts them as decode events.
 *
 * <p>Everything here is owned by the reading thread.
 */
package dev.flowtracker.ingest.source.file;
