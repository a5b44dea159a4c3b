/**
 * Mirror receivers as a {@link dev.flowtracker.ingest.source.PacketSource}: cloud traffic mirroring and switches
 * send copies of packets as VXLAN (UDP 4789) or Geneve (UDP 6081); {@link
 * dev.flowtracker.ingest.source.mirror.MirrorSource} receives them on Netty epoll datagram sockets (SO_REUSEPORT,
 * one socket per event loop), decapsulates each to its inner Ethernet frame in place and delivers it with the VNI
 * as the tunnel id. {@link dev.flowtracker.ingest.source.mirror.MirrorOptions} is what the command line fills in.
 * The sender of mirrored traffic for tests and benchmarks, {@code MirrorReplay}, is a test fixture (tracker-ingest's
 * test sources and test-jar).
 */
package dev.flowtracker.ingest.source.mirror;
