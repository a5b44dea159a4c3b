/**
 * The decode stage every ingest path shares: {@link dev.flowtracker.ingest.decode.FrameIntake} turns a frame from
 * any source (capture file, AF_PACKET ring, mirror datagram) into a decoded TCP segment or a counted decode event,
 * and {@link dev.flowtracker.ingest.decode.CaptureStats} holds those counts. One intake per producing thread: the
 * streaming pipeline's source ports and the single-threaded offline analysis each own theirs.
 */
package dev.flowtracker.ingest.decode;
