/**
 * Decode stage: turns one captured frame into a {@link dev.flowtracker.core.decode.DecodedPacket} (primitives
 * only) or a {@link dev.flowtracker.core.decode.DecodeEvent} saying why not. Zero allocation per frame; bad input
 * is an event, never an exception. Runs on whichever thread reads the capture.
 */
package dev.flowtracker.core.decode;
