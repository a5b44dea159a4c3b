/**
 * Live capture with AF_PACKET TPACKET_V3 rings, as a {@link dev.flowtracker.ingest.source.PacketSource}
 * ({@link dev.flowtracker.ingest.source.afpacket.AfPacketSource}, configured by
 * {@link dev.flowtracker.ingest.source.afpacket.AfPacketOptions}).
 *
 * <p>No JNI, JNA or libpcap: the socket calls are bound with {@code java.lang.foreign} ({@code Libc}), the ring is
 * mapped memory read in place ({@code BlockRing}, layout in {@code Tpacket3}), and each socket's file descriptor is
 * an {@code EpollIoHandle} on its own Netty 4.2 epoll event loop ({@code RingIoHandle}), woken only when the kernel
 * hands over a block. {@code PACKET_FANOUT} spreads one interface over several sockets (hash mode: both directions
 * of a connection reach the same socket); a classic BPF program ({@code TcpOnlyFilter}, assembled by
 * {@code ClassicBpf}) lets the kernel drop everything but TCP. {@link dev.flowtracker.ingest.source.afpacket.AfPacket}
 * says whether capture can work here and why not; {@link dev.flowtracker.ingest.source.afpacket.KernelStats} carries
 * the kernel's per-socket packet, drop and freeze counts.
 */
package dev.flowtracker.ingest.source.afpacket;
