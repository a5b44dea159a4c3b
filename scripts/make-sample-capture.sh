#!/usr/bin/env bash
# Produce a small, real-kernel TCP sample capture for the flow tracker.
#
# Two throw-away network namespaces joined by a veth pair carry bounded
# traffic from tiny Python servers/clients; tcpdump records it on the
# client side. Nothing leaves the namespaces we create.
#
# Usage: sudo scripts/make-sample-capture.sh [OUT.pcap]
#        (default OUT: samples/sample.pcap in this repository)
#
# Connections produced (server 10.99.0.1 / fd99::1 in ns A, client in ns B):
#   :8080  3 x IPv4 + 2 x IPv6 request/response, 3-way open, client-first FIN close
#   :8081  client half-closes (SHUT_WR), server keeps sending, then closes
#   :9     closed port: SYN answered by RST
#   :8082  client aborts with RST (SO_LINGER 0 + close)
#   :8083  bulk download (BULK_BYTES), server-first FIN close
set -euo pipefail

OUT=${1:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/samples/sample.pcap"}
BULK_BYTES=${BULK_BYTES:-200000}

[[ $EUID -eq 0 ]] || { echo "must run as root (netns + tcpdump)" >&2; exit 1; }

# tcpdump and ethtool are the only things we may install; refresh apt lists only if the
# first attempt fails (e.g. empty lists in a fresh container).
if ! command -v tcpdump >/dev/null 2>&1 || ! command -v ethtool >/dev/null 2>&1; then
    apt-get install -y tcpdump ethtool || { apt-get update && apt-get install -y tcpdump ethtool; }
fi

# Resolve the real interpreter once (pyenv shims etc. may not like netns exec).
PY=$(python3 -c 'import sys; print(sys.executable)')

# Unique names so parallel runs / leftovers never collide.
NSA=ft-sample-a-$$
NSB=ft-sample-b-$$
WORK=$(mktemp -d /tmp/ft-sample.XXXXXX)
TCPDUMP_PID=
SERVER_PID=

cleanup() {
    local rc=$?
    # Stop our own children by pid (if still alive), then drop the namespaces;
    # deleting a namespace also destroys its end of the veth pair.
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
    [[ -n $TCPDUMP_PID ]] && kill -INT "$TCPDUMP_PID" 2>/dev/null || true
    wait 2>/dev/null || true
    ip netns del "$NSA" 2>/dev/null || true
    ip netns del "$NSB" 2>/dev/null || true
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM          # turn signals into a normal exit => cleanup

# ---------------------------------------------------------------- topology
ip netns add "$NSA"
ip netns add "$NSB"
# Create the veth ends directly inside the namespaces: no name clash in the
# root namespace. Fixed MACs keep the capture stable across runs.
ip link add veth-a netns "$NSA" address 02:00:0a:63:00:01 type veth \
    peer name veth-b netns "$NSB" address 02:00:0a:63:00:02
for ns in "$NSA" "$NSB"; do
    ip -n "$ns" link set lo up
done
ip -n "$NSA" addr add 10.99.0.1/24 dev veth-a
ip -n "$NSB" addr add 10.99.0.2/24 dev veth-b
# nodad: addresses are usable immediately, no 1-2 s DAD wait.
ip -n "$NSA" addr add fd99::1/64 dev veth-a nodad
ip -n "$NSB" addr add fd99::2/64 dev veth-b nodad
# veth does TSO; without this tcpdump would see 64 KB "super-segments".
# gso_max_segs 1 makes TCP emit MTU-sized segments like a real wire.
# addr_gen_mode none: no fe80:: link-local, hence no DAD / router
# solicitations trickling into the capture after our traffic.
ip -n "$NSA" link set veth-a gso_max_segs 1 gso_max_size 1500 addrgenmode none up
ip -n "$NSB" link set veth-b gso_max_segs 1 gso_max_size 1500 addrgenmode none up
# Checksum offload would leave partial checksums in the capture (what a tap never sees, and what Zeek's view
# counts as bad: 'C' in the history). Compute them in software instead.
ip netns exec "$NSA" ethtool -K veth-a tx off >/dev/null
ip netns exec "$NSB" ethtool -K veth-b tx off >/dev/null

# ---------------------------------------------------------------- python
cat >"$WORK/traffic.py" <<'EOF'
"""Tiny bounded TCP server/client pair; every socket op has a timeout."""
import socket, sys, threading, time

V4, V6 = "10.99.0.1", "fd99::1"
T = 5.0  # per-socket timeout, seconds

def recv_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf

def drain(s):
    """Read until EOF (peer FIN); returns bytes read."""
    n = 0
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return n
        n += len(chunk)

# --- server handlers: one per port -------------------------------------
def h_normal(c):
    req = recv_line(c)
    c.sendall(b"OK " + req)
    drain(c)                        # wait for client FIN, then FIN back

def h_halfclose(c):
    recv_line(c)
    c.sendall(b"part-1 before client FIN\n")
    drain(c)                        # client did shutdown(SHUT_WR)
    time.sleep(0.05)
    c.sendall(b"part-2 sent after client FIN\n")   # half-closed: still allowed

def h_abort(c):
    recv_line(c)
    c.sendall(b"hello, about to be reset\n")
    try:
        drain(c)
    except ConnectionResetError:
        pass                        # expected: client sends RST

def h_bulk(c, nbytes):
    recv_line(c)
    block = bytes(range(256)) * 256
    sent = 0
    while sent < nbytes:
        part = block[: min(len(block), nbytes - sent)]
        c.sendall(part)
        sent += len(part)
    # returning closes: server sends the first FIN here

def serve(ls, handler, count):
    for _ in range(count):
        c, _ = ls.accept()
        c.settimeout(T)
        with c:
            try:
                handler(c)
            except OSError as e:
                print("server:", handler.__name__, e, file=sys.stderr)

def server(ready_file, bulk):
    specs = [  # (family, addr, port, handler, connections to accept)
        (socket.AF_INET,  V4, 8080, h_normal, 3),
        (socket.AF_INET6, V6, 8080, h_normal, 2),
        (socket.AF_INET,  V4, 8081, h_halfclose, 1),
        (socket.AF_INET,  V4, 8082, h_abort, 1),
        (socket.AF_INET,  V4, 8083, lambda c: h_bulk(c, bulk), 1),
    ]
    threads = []
    for fam, addr, port, handler, count in specs:
        ls = socket.socket(fam, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ls.bind((addr, port))
        ls.listen(8)
        ls.settimeout(20)
        t = threading.Thread(target=serve, args=(ls, handler, count), daemon=True)
        t.start()
        threads.append(t)
    open(ready_file, "w").close()   # tell the shell we are listening
    for t in threads:
        t.join(25)

# --- client ------------------------------------------------------------
def conn(fam, addr, port):
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(T)
    s.connect((addr, port))
    return s

def gap():
    time.sleep(0.1)                 # keep connections apart in the capture

def client(bulk):
    for i in range(3):              # normal IPv4: client closes first
        with conn(socket.AF_INET, V4, 8080) as s:
            s.sendall(b"GET /v4/%d\n" % i)
            recv_line(s)
            s.shutdown(socket.SHUT_WR)
            drain(s)                # wait for server FIN before closing
        gap()
    for i in range(2):              # normal IPv6
        with conn(socket.AF_INET6, V6, 8080) as s:
            s.sendall(b"GET /v6/%d\n" % i)
            recv_line(s)
            s.shutdown(socket.SHUT_WR)
            drain(s)
        gap()

    with conn(socket.AF_INET, V4, 8081) as s:   # half-close
        s.sendall(b"GET /halfclose\n")
        recv_line(s)
        s.shutdown(socket.SHUT_WR)  # our FIN; we can still receive
        got = drain(s)
        print("client: half-close read %d bytes after SHUT_WR" % got)
    gap()

    try:                            # closed port -> RST
        conn(socket.AF_INET, V4, 9).close()
        raise SystemExit("port 9 unexpectedly open")
    except ConnectionRefusedError:
        print("client: port 9 refused (RST) as expected")
    gap()

    s = conn(socket.AF_INET, V4, 8082)          # abort with RST
    s.sendall(b"GET /abort\n")
    recv_line(s)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    s.close()                       # linger 0 => RST instead of FIN
    gap()

    with conn(socket.AF_INET, V4, 8083) as s:   # bulk download
        s.sendall(b"GET /bulk\n")
        got = drain(s)              # server closes first
        print("client: bulk received %d bytes" % got)
        if got != bulk:
            raise SystemExit("bulk short: %d != %d" % (got, bulk))

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "server":
        server(sys.argv[2], int(sys.argv[3]))
    else:
        client(int(sys.argv[2]))
EOF

# wait_for CMD...: poll up to ~5 s for a condition.
wait_for() {
    for _ in $(seq 50); do "$@" && return 0; sleep 0.1; done
    echo "timeout waiting for: $*" >&2; return 1
}

# Adding the IPv6 addresses makes the kernel send MLD join reports for
# ~2 s; let them die down so they do not land after our traffic (where the
# completeness check below would see them as not-yet-flushed packets).
sleep 2

# ---------------------------------------------------------------- capture
# -Z root: Debian's tcpdump otherwise drops to user "tcpdump", which cannot
# write into our private temp dir. -U flushes each packet to the file.
# (No --immediate-mode: with -s 0 its ring has only ~8 slots and drops.)
ip netns exec "$NSB" tcpdump -i veth-b -w "$WORK/out.pcap" -s 0 -U -nn -Z root \
    2>"$WORK/tcpdump.log" &
TCPDUMP_PID=$!
wait_for grep -q "listening on" "$WORK/tcpdump.log"

# Server in A (hard-capped by timeout), wait until it has bound every port.
timeout 25 ip netns exec "$NSA" "$PY" "$WORK/traffic.py" server "$WORK/ready" "$BULK_BYTES" &
SERVER_PID=$!
wait_for test -e "$WORK/ready"

# Client in B; its failure fails the script (set -e).
timeout 15 ip netns exec "$NSB" "$PY" "$WORK/traffic.py" client "$BULK_BYTES"
wait "$SERVER_PID"; SERVER_PID=

# The kernel ring hands packets to tcpdump in blocks retired after ~1 s;
# packets still in an open block at SIGINT are lost. Wait that out.
sleep 1.5
kill -INT "$TCPDUMP_PID"; wait "$TCPDUMP_PID" || true; TCPDUMP_PID=
cat "$WORK/tcpdump.log" >&2

# Refuse an incomplete capture: everything the filter saw must be written.
captured=$(sed -n 's/^\([0-9]*\) packets\? captured$/\1/p' "$WORK/tcpdump.log")
received=$(sed -n 's/^\([0-9]*\) packets\? received by filter$/\1/p' "$WORK/tcpdump.log")
dropped=$(sed -n 's/^\([0-9]*\) packets\? dropped by kernel$/\1/p' "$WORK/tcpdump.log")
if [[ -z $captured || $captured != "$received" || $dropped != 0 ]]; then
    echo "incomplete capture (captured=$captured received=$received dropped=$dropped)" >&2
    exit 1
fi

mkdir -p "$(dirname "$OUT")"
mv "$WORK/out.pcap" "$OUT"         # only a complete capture reaches OUT
echo "wrote $OUT ($(stat -c %s "$OUT") bytes)"
