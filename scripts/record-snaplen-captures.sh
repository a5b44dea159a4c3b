#!/usr/bin/env bash
# Record the snaplen conformance captures: real kernel TCP bulk transfers through a lossy user-space relay,
# captured by tcpdump with a short snapshot length (96 bytes for most; 80, 64 and 50 for three that cut even IPv4
# headers), each with its tshark 4.0.17 oracle beside it.
#
# Three throw-away network namespaces in a line, joined by two veth pairs:
#
#   server ns (10.98.0.1, fd98::1) --veth-- relay ns (no addresses) --veth-- client ns (10.98.0.2, fd98::2)
#
# The relay namespace runs a small Python bridge on two AF_PACKET sockets that forwards every frame from one side
# to the other and drops TCP frames without SYN with a fixed probability (seeded, so a run is repeatable up to the
# kernel's timing). This kernel has no sch_netem, and loss made in user space needs no qdisc or netfilter module.
# Clients download (or upload) a bounded number of bytes over a few connections; the receiver reads with a small
# receive buffer and short pauses, so its window moves (window updates) while losses give duplicate ACKs with SACK
# blocks. Every program is bounded in bytes and by `timeout`; nothing leaves the namespaces made here, and they
# are deleted on exit.
#
# Usage: scripts/record-snaplen-captures.sh [OUT_DIR]     (root; needs iproute2, ethtool, python3, tcpdump,
#        tshark 4.0.17 for the oracle, which is Debian 12's: apt-get install tcpdump tshark ethtool; default
#        OUT_DIR tracker-ingest/src/test/resources/conformance/snaplen)
#
# For each capture NAME: OUT_DIR/pcaps/NAME.pcap and OUT_DIR/oracle/NAME.pcap.json (+ .streams.tsv), the oracle
# made by ../shared/corpus/tools/tshark_oracle.py exactly as the shared corpus's (set ORACLE_TOOL to point
# elsewhere). Set CAPTURES="name ..." to record only some of them.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT=${1:-"$ROOT/tracker-ingest/src/test/resources/conformance/snaplen"}
ORACLE_TOOL=${ORACLE_TOOL:-"$ROOT/../shared/corpus/tools/tshark_oracle.py"}

# link: eth = tcpdump -i on the veth (Ethernet); sll, sll2 = tcpdump -i any -y LINUX_SLL / LINUX_SLL2 (Linux cooked).
# name                       family  at      direction  conns  bytes each  loss (per mille)  seed  snaplen  link
SPECS=(
    "v4-download-at-client       4  client  download  3  1500000  10  1501  96  eth"
    "v6-download-at-client       6  client  download  3  1500000  10  1502  96  eth"
    "v4-upload-at-client         4  client  upload    3  1500000   7  1503  96  eth"
    "v6-download-at-server       6  server  download  3  1500000   7  1504  96  eth"
    "v6-upload-at-server         6  server  upload    3  1500000  10  1601  96  eth"
    "v4-download-at-client-sll2  4  client  download  3  1500000  10  1603  96  sll2"
    "v4-upload-at-server-s80     4  server  upload    3  1500000  10  1606  80  eth"
    "v4-download-at-client-s64   4  client  download  3  1500000  10  1605  64  eth"
    "v4-download-at-client-s50   4  client  download  3  1500000  15  1706  50  eth"
)
CAPTURES=${CAPTURES:-"$(printf '%s\n' "${SPECS[@]}" | awk '{print $1}' | tr '\n' ' ')"}

[[ $EUID -eq 0 ]] || { echo "must run as root (netns + tcpdump)" >&2; exit 1; }
for tool in ip ethtool tcpdump tshark; do
    command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done
[[ -f $ORACLE_TOOL ]] || { echo "oracle tool not found: $ORACLE_TOOL (set ORACLE_TOOL)" >&2; exit 1; }
tshark --version | head -1 | grep -q ' 4\.0\.17 ' || echo "warning: not tshark 4.0.17; the oracle may differ" >&2

PY=$(python3 -c 'import sys; print(sys.executable)')
NSS=ft-snap-s-$$
NSR=ft-snap-r-$$
NSC=ft-snap-c-$$
WORK=$(mktemp -d /tmp/ft-snaplen.XXXXXX)
PIDS=()

cleanup() {
    local rc=$?
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    ip netns del "$NSS" 2>/dev/null || true
    ip netns del "$NSR" 2>/dev/null || true
    ip netns del "$NSC" 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() {
    for _ in $(seq 100); do "$@" && return 0; sleep 0.1; done
    echo "timeout waiting for: $*" >&2; return 1
}

# ---------------------------------------------------------------- python: relay and traffic
cat >"$WORK/relay.py" <<'EOF'
"""Bridge two interfaces through AF_PACKET sockets, dropping TCP frames without SYN with probability p."""
import random, select, socket, sys, time

left, right, per_mille, seed, seconds, stats = sys.argv[1:7]
p = int(per_mille) / 1000.0
rng = random.Random(int(seed))
PACKET_OUTGOING = 4

def open_raw(name):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((name, 0))
    return s

def tcp_flags(frame):
    """TCP flags byte of an Ethernet frame carrying IPv4/IPv6 + TCP, or None."""
    ethertype = int.from_bytes(frame[12:14], "big")
    if ethertype == 0x0800 and len(frame) >= 34 and frame[23] == 6:
        off = 14 + (frame[14] & 0x0F) * 4
    elif ethertype == 0x86DD and len(frame) >= 54 and frame[20] == 6:
        off = 54
    else:
        return None
    return frame[off + 13] if len(frame) > off + 13 else None

a, b = open_raw(left), open_raw(right)
peer = {a: b, b: a}
forwarded = dropped = 0
deadline = time.monotonic() + float(seconds)
while time.monotonic() < deadline:
    ready, _, _ = select.select([a, b], [], [], 0.2)
    for s in ready:
        frame, address = s.recvfrom(65535)
        if address[2] == PACKET_OUTGOING:
            continue
        flags = tcp_flags(frame)
        if flags is not None and not flags & 0x02 and rng.random() < p:
            dropped += 1
            continue
        peer[s].send(frame)
        forwarded += 1
    with open(stats, "w") as f:
        f.write("forwarded %d dropped %d\n" % (forwarded, dropped))
EOF

cat >"$WORK/traffic.py" <<'EOF'
"""Bounded bulk transfers: the receiver has a small buffer and reads in bursts with pauses."""
import socket, sys, time

T = 10.0

def pump(s, nbytes):
    block = bytes(range(256)) * 256
    sent = 0
    while sent < nbytes:
        n = min(len(block), nbytes - sent)
        s.sendall(block[:n])
        sent += n

def slurp(s):
    got = 0
    chunks = 0
    while True:
        data = s.recv(8192)
        if not data:
            return got
        got += len(data)
        chunks += 1
        if chunks % 24 == 0:
            time.sleep(0.004)       # a slow reader: the window closes a little and opens again

def small_buffer(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 96 * 1024)

def server(family, addr, ready, connections, nbytes, direction):
    ls = socket.socket(family, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if direction == "upload":
        small_buffer(ls)            # inherited by accepted sockets, set before the handshake
    ls.bind((addr, 5001))
    ls.listen(4)
    ls.settimeout(30)
    open(ready, "w").close()
    for _ in range(connections):
        c, _ = ls.accept()
        c.settimeout(T)
        with c:
            if direction == "download":
                c.recv(64)
                pump(c, nbytes)
                c.shutdown(socket.SHUT_WR)
                c.recv(64)          # wait for the client's FIN
            else:
                got = slurp(c)
                if got != nbytes:
                    raise SystemExit("server: upload short: %d != %d" % (got, nbytes))

def client(family, addr, connections, nbytes, direction):
    for _ in range(connections):
        s = socket.socket(family, socket.SOCK_STREAM)
        if direction == "download":
            small_buffer(s)
        s.settimeout(T)
        s.connect((addr, 5001))
        with s:
            if direction == "download":
                s.sendall(b"GET\n")
                got = slurp(s)
                if got != nbytes:
                    raise SystemExit("client: download short: %d != %d" % (got, nbytes))
            else:
                pump(s, nbytes)
                s.shutdown(socket.SHUT_WR)
                s.recv(64)
        time.sleep(0.1)

if __name__ == "__main__":
    role, fam, addr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    family = socket.AF_INET if fam == 4 else socket.AF_INET6
    if role == "server":
        server(family, addr, sys.argv[4], int(sys.argv[5]), int(sys.argv[6]), sys.argv[7])
    else:
        client(family, addr, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
EOF

# ---------------------------------------------------------------- topology
ip netns add "$NSS"
ip netns add "$NSR"
ip netns add "$NSC"
ip link add veth-s netns "$NSS" address 02:00:0a:62:00:01 type veth peer name relay-s netns "$NSR"
ip link add veth-c netns "$NSC" address 02:00:0a:62:00:02 type veth peer name relay-c netns "$NSR"
for ns in "$NSS" "$NSR" "$NSC"; do ip -n "$ns" link set lo up; done
ip -n "$NSS" addr add 10.98.0.1/24 dev veth-s
ip -n "$NSC" addr add 10.98.0.2/24 dev veth-c
ip -n "$NSS" addr add fd98::1/64 dev veth-s nodad
ip -n "$NSC" addr add fd98::2/64 dev veth-c nodad
# MTU-sized segments (no TSO/GSO super-segments), software checksums, no link-local addresses or DAD traffic;
# the relay's interfaces carry no addresses and do not coalesce (GRO off).
ip -n "$NSS" link set veth-s gso_max_segs 1 gso_max_size 1500 addrgenmode none up
ip -n "$NSC" link set veth-c gso_max_segs 1 gso_max_size 1500 addrgenmode none up
ip -n "$NSR" link set relay-s addrgenmode none up
ip -n "$NSR" link set relay-c addrgenmode none up
ip netns exec "$NSS" ethtool -K veth-s tx off >/dev/null
ip netns exec "$NSC" ethtool -K veth-c tx off >/dev/null
for dev in relay-s relay-c; do ip netns exec "$NSR" ethtool -K "$dev" gro off tx off >/dev/null 2>&1 || true; done
sleep 2   # let the MLD reports of the new IPv6 addresses die down before any capture

record() {
    local name=$1 family=$2 at=$3 direction=$4 connections=$5 nbytes=$6 per_mille=$7 seed=$8 snaplen=$9
    local link=${10} addr=10.98.0.1 ns dev
    local -a linkopts=()
    [[ $family == 6 ]] && addr=fd98::1
    if [[ $at == client ]]; then ns=$NSC dev=veth-c; else ns=$NSS dev=veth-s; fi
    case $link in
        eth) ;;
        sll) dev=any linkopts=(-y LINUX_SLL) ;;
        sll2) dev=any linkopts=(-y LINUX_SLL2) ;;
        *) echo "$name: unknown link $link" >&2; return 1 ;;
    esac
    rm -f "$WORK"/ready "$WORK"/tcpdump.log "$WORK"/out.pcap

    timeout 60 ip netns exec "$NSR" "$PY" "$WORK/relay.py" relay-s relay-c "$per_mille" "$seed" 50 \
        "$WORK/relay.stats" &
    local relay=$!; PIDS+=("$relay")
    ip netns exec "$ns" tcpdump -i "$dev" "${linkopts[@]}" -s "$snaplen" -w "$WORK/out.pcap" -U -nn -Z root tcp \
        2>"$WORK/tcpdump.log" &
    local dump=$!; PIDS+=("$dump")
    wait_for grep -q "listening on" "$WORK/tcpdump.log"

    timeout 50 ip netns exec "$NSS" "$PY" "$WORK/traffic.py" server "$family" "$addr" "$WORK/ready" \
        "$connections" "$nbytes" "$direction" &
    local server=$!; PIDS+=("$server")
    wait_for test -e "$WORK/ready"
    timeout 45 ip netns exec "$NSC" "$PY" "$WORK/traffic.py" client "$family" "$addr" "$connections" "$nbytes" \
        "$direction"
    wait "$server"
    sleep 1.5   # packets still in an open block of the kernel ring at SIGINT would be lost
    kill -INT "$dump"; wait "$dump" || true
    kill "$relay" 2>/dev/null || true; wait "$relay" 2>/dev/null || true
    PIDS=()

    local captured received dropped
    captured=$(sed -n 's/^\([0-9]*\) packets\? captured$/\1/p' "$WORK/tcpdump.log")
    received=$(sed -n 's/^\([0-9]*\) packets\? received by filter$/\1/p' "$WORK/tcpdump.log")
    dropped=$(sed -n 's/^\([0-9]*\) packets\? dropped by kernel$/\1/p' "$WORK/tcpdump.log")
    if [[ -z $captured || $captured != "$received" || $dropped != 0 ]]; then
        echo "$name: incomplete capture (captured=$captured received=$received dropped=$dropped)" >&2
        return 1
    fi
    mkdir -p "$OUT/pcaps" "$OUT/oracle"
    mv "$WORK/out.pcap" "$OUT/pcaps/$name.pcap"
    python3 "$ORACLE_TOOL" "$OUT/pcaps/$name.pcap" --tsv "$OUT/oracle/$name.pcap.streams.tsv" \
        >"$OUT/oracle/$name.pcap.json"
    echo "$name: $captured frames, $(stat -c %s "$OUT/pcaps/$name.pcap") bytes; relay $(cat "$WORK/relay.stats")"
}

for spec in "${SPECS[@]}"; do
    read -r name rest <<<"$spec"
    [[ " $CAPTURES " == *" $name "* ]] || continue
    # shellcheck disable=SC2086
    record "$name" $rest
done
