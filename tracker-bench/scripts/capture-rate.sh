#!/usr/bin/env bash
# Capture rate without loss: our AF_PACKET source against tcpdump -w /dev/null, same veth, same generator.
#
# A throw-away network namespace holds a veth pair cr0 <-> cr1. tcpreplay sends a capture out of cr0 (loaded into
# memory first, looped, at --pps steps and --topspeed); the capture under test reads cr1:
#   tracker   dev.flowtracker.bench.CaptureRate cr1 count --no-filter  (AfPacketSource, a counter per frame)
#   tracker+  the same through the whole live pipeline (decode, ring, 1 worker tracking connections)
#   tcpdump   tcpdump -i cr1 -w /dev/null -B <same ring size> (libpcap's TPACKET_V3 ring)
# A run loses nothing when the capture reports every frame tcpreplay sent and the kernel dropped none. The veth's
# own receive backlog drops (/proc/net/softnet_stat) happen before any capture socket and are reported apart.
#
# Usage: sudo tracker-bench/scripts/capture-rate.sh [PCAP]
#   env: LOOPS (default 2000), RATES (pps steps, default "25000 50000 100000 200000 400000 topspeed"),
#        TOOLS (default "tracker tracker+ tcpdump"), REPEAT (runs per step, default 3),
#        WARMUP_LOOPS (one unreported topspeed replay into each JVM before its runs, default 1000),
#        RING_BLOCKS, BLOCK_SIZE (our ring, default 64 x 1 MiB; tcpdump gets -B of the same size)
# Needs root, iproute2, tcpreplay (apt-get install tcpreplay), tcpdump, a JDK 25 (bin/lib/jdk.sh finds it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
. "$root/bin/lib/jdk.sh"
tracker_find_jdk

pcap=${1:-"$root/samples/sample.pcap"}
loops=${LOOPS:-2000}
rates=${RATES:-"25000 50000 100000 200000 400000 topspeed"}
tools=${TOOLS:-"tracker tracker+ tcpdump"}
repeat=${REPEAT:-3}
warmup_loops=${WARMUP_LOOPS:-1000}
ring_blocks=${RING_BLOCKS:-64}
block_size=${BLOCK_SIZE:-$((1 << 20))}

[[ $EUID -eq 0 ]] || { echo "capture-rate: must run as root (namespaces, AF_PACKET)" >&2; exit 1; }
for tool in ip tcpreplay tcpdump; do
  command -v "$tool" >/dev/null || { echo "capture-rate: needs $tool" >&2; exit 1; }
done

jar="$root/tracker-bench/target/benchmarks.jar"
if [[ ! -f "$jar" || -n "$(find "$root/tracker-bench/src" "$root/tracker-ingest/src/main" "$root/tracker-core/src/main" -newer "$jar" -type f -print -quit)" ]]; then
  echo "capture-rate: building tracker-bench (package, not install)" >&2
  (cd "$root" && mvn -B -q -o -DskipTests package -pl tracker-bench -am) >&2
fi

ns="ftbench$$"
work=$(mktemp -d)
cleanup() {
  exec 3>&- 2>/dev/null || true
  [[ -n "${capture_pid:-}" ]] && kill "$capture_pid" 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
# No IPv6 (and no addresses): the links then send nothing of their own (router solicitations, MLD), so every
# frame on cr1 is one tcpreplay sent.
ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add cr0 type veth peer name cr1
ip -n "$ns" link set cr0 up
ip -n "$ns" link set cr1 up

per_loop=$(tcpdump -r "$pcap" -n 2>/dev/null | wc -l)
echo "# $(date -u +%F) $(uname -r) $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "# java: $("$JAVA_HOME/bin/java" -version 2>&1 | head -1); tcpdump: $(tcpdump --version 2>&1 | head -1); $(tcpreplay --version 2>&1 | head -1)"
echo "# pcap: $pcap ($per_loop frames) x $loops loops = $((per_loop * loops)) frames per run; ring $ring_blocks x $block_size bytes"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-9s %-9s %-4s %10s %10s %10s %10s %10s %9s %s\n' tool rate run sent_pps sent captured k_drops backlog lost verdict

backlog_drops() {
  # softnet_stat column 2 (hex) is frames dropped because a CPU's backlog was full, summed over CPUs
  local total=0
  while read -r _ dropped _; do total=$((total + 16#$dropped)); done < /proc/net/softnet_stat
  echo "$total"
}

# Our capture: one JVM per tool, warmed up by one unreported replay, then asked for running totals ("report" on its
# standard input) after each run; a run's counts are the differences.
start_tracker() {
  local mode=$1
  rm -f "$work/cmd"; mkfifo "$work/cmd"
  : > "$work/out"; : > "$work/err"
  ip netns exec "$ns" "$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC \
    -cp "$jar" dev.flowtracker.bench.CaptureRate cr1 "$mode" --no-filter --blocks "$ring_blocks" \
    --block-size "$block_size" < "$work/cmd" > "$work/out" 2> "$work/err" &
  capture_pid=$!
  exec 3> "$work/cmd"
  for _ in $(seq 1 200); do grep -q ready "$work/out" && break; sleep 0.1; done
  grep -q ready "$work/out" || { echo "capture-rate: CaptureRate did not start: $(cat "$work/err")" >&2; exit 1; }
  ip netns exec "$ns" tcpreplay -i cr0 --preload-pcap --loop="$warmup_loops" --topspeed "$pcap" > /dev/null 2>&1
  tracker_report > /dev/null
}

# Prints "frames drops" totals so far (kernel drops plus pipeline ring drops).
tracker_report() {
  local lines
  lines=$(grep -c frames= "$work/out" || true)
  echo report >&3
  for _ in $(seq 1 600); do
    (( $(grep -c frames= "$work/out" || true) > lines )) && break
    sleep 0.05
  done
  local last
  last=$(grep frames= "$work/out" | tail -1)
  local frames kd rd
  frames=$(grep -o ' \?frames=[0-9]*' <<< "$last" | head -1 | cut -d= -f2)
  kd=$(grep -o 'kernel_drops=[0-9]*' <<< "$last" | cut -d= -f2)
  rd=$(grep -o 'ring_full_drops=[0-9]*' <<< "$last" | cut -d= -f2)
  echo "$frames $((kd + rd))"
}

stop_tracker() {
  exec 3>&-
  wait "$capture_pid" || true
  capture_pid=""
}

# tcpdump: one process per run (nothing to warm up); its counts come from its exit summary.
start_tcpdump() {
  : > "$work/err"
  ip netns exec "$ns" tcpdump -i cr1 -w /dev/null -n -s 0 -B $((ring_blocks * block_size / 1024)) \
    > /dev/null 2> "$work/err" &
  capture_pid=$!
  for _ in $(seq 1 100); do grep -q "listening on" "$work/err" && return 0; sleep 0.1; done
  echo "capture-rate: tcpdump did not start: $(cat "$work/err")" >&2
  exit 1
}

stop_tcpdump() {
  sleep 1.5   # libpcap's default 1 s block timeout: let the last block arrive
  kill -TERM "$capture_pid"
  wait "$capture_pid" || true
  capture_pid=""
  captured=$(grep -o '^[0-9]* packets captured' "$work/err" | cut -d' ' -f1)
  kdrops=$(grep -o '^[0-9]* packets dropped by kernel' "$work/err" | cut -d' ' -f1)
}

for tool in $tools; do
  case "$tool" in
    tracker) start_tracker count ;;
    tracker+) start_tracker pipeline ;;
  esac
  for rate in $rates; do
    for run in $(seq 1 "$repeat"); do
      if [[ "$tool" == tcpdump ]]; then start_tcpdump; else read -r frames0 drops0 < <(tracker_report); fi
      before=$(backlog_drops)
      if [[ "$rate" == topspeed ]]; then speed=(--topspeed); else speed=(--pps="$rate"); fi
      replay=$(ip netns exec "$ns" tcpreplay -i cr0 --preload-pcap --loop="$loops" "${speed[@]}" "$pcap" 2>&1)
      backlog=$(( $(backlog_drops) - before ))
      sent=$(sed -n 's/.*Successful packets: *\([0-9]*\).*/\1/p' <<< "$replay")
      pps=$(sed -n 's/.*Rated:.*, \([0-9.]*\) pps.*/\1/p' <<< "$replay" | cut -d. -f1)
      if [[ "$tool" == tcpdump ]]; then
        stop_tcpdump
      else
        read -r frames1 drops1 < <(tracker_report)
        captured=$((frames1 - frames0)); kdrops=$((drops1 - drops0))
      fi
      lost=$(( sent - backlog - captured ))
      verdict=lossless
      (( lost != 0 || kdrops != 0 )) && verdict=LOSS
      (( lost < 0 )) && verdict=EXTRA   # frames nobody sent: the check itself is off
      printf '%-9s %-9s %-4s %10s %10s %10s %10s %10s %9s %s\n' "$tool" "$rate" "$run" "$pps" "$sent" "$captured" \
        "$kdrops" "$backlog" "$lost" "$verdict"
    done
  done
  [[ "$tool" != tcpdump ]] && stop_tracker
done
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
