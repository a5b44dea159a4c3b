/**
 * Wire formats: flyweights with static accessors over (MemorySegment, offset) for the headers the tracker reads
 * (IPv4, IPv6, TCP), the constants of the shims and tunnels it walks through, and byte-order helpers. No state,
 * no allocation; callers bounds-check before reading.
 */
package dev.flowtracker.core.wire;
