#!/usr/bin/env python3
"""N copies of a classic little-endian Ethernet/IPv4 pcap merged frame by frame in time order (for benchmarks with
many concurrent flows): copy i has every 127.0.0.1 turned into 127.0.i.1, checksums adjusted incrementally so good
ones stay good. Usage: interleave-copies.py IN.pcap OUT.pcap [N=10]"""
import struct, sys, heapq

def adjust(csum, old, new):
    s = (~csum & 0xFFFF) + (~old & 0xFFFF) + new
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF

def packets(data):
    off = 24
    while off + 16 <= len(data):
        ts, us, cap, wire = struct.unpack_from('<IIII', data, off)
        yield ts, us, cap, wire, data[off + 16:off + 16 + cap]
        off += 16 + cap

def rewrite(pkt, i):
    p = bytearray(pkt)
    if len(p) < 34 or p[12:14] != b'\x08\x00':
        return bytes(p)
    ihl = (p[14] & 0xF) * 4
    for at in (26, 30):
        if p[at:at + 4] == b'\x7f\x00\x00\x01':
            old = struct.unpack_from('>H', p, at + 2)[0]
            new = (i << 8) | 1
            struct.pack_into('>H', p, at + 2, new)
            struct.pack_into('>H', p, 24, adjust(struct.unpack_from('>H', p, 24)[0], old, new))
            tcp = 14 + ihl
            if p[23] == 6 and len(p) >= tcp + 18:
                struct.pack_into('>H', p, tcp + 16, adjust(struct.unpack_from('>H', p, tcp + 16)[0], old, new))
    return bytes(p)

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 10
data = open(src, 'rb').read()
assert data[:4] == b'\xd4\xc3\xb2\xa1'
base = list(packets(data))
with open(dst, 'wb') as out:
    out.write(data[:24])
    streams = [((ts, us, k, i), (cap, wire, pkt)) for i in range(n) for k, (ts, us, cap, wire, pkt) in enumerate(base)]
    streams.sort(key=lambda s: s[0])
    for (ts, us, k, i), (cap, wire, pkt) in streams:
        out.write(struct.pack('<IIII', ts, us, cap, wire))
        out.write(rewrite(pkt, i) if i else pkt)
