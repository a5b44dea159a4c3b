# Sourced by bin/tracker: the default heap and direct-memory bounds of `tracker run`, derived from its options.
#
# Without them the JVM takes a quarter of the machine's memory for the heap (and as much again for direct memory), and
# ParallelGC grows the heap into it under a flood although the live heap stays small: 2.4 GB resident against 55 MB
# live. The daemon's memory is fixed by its options instead (README, "Memory"):
#   direct = max_flows * 1,536 B + workers * 8 MiB + 64 MiB
#            (a flow's off-heap record 1,408 B with its header, table slot 24 B, index at most 32 B, timers 32 B;
#            each worker's table commits its records in chunks of up to 4,096; 64 MiB for the rest)
#   heap   = 5/4 * (ring_size * 320 B + record_buffer + 64 MiB [+ max_flows * 1,416 B with --state-dir])
#            (what `run` checks against -Xmx, and a quarter more so the collector has room)
# both rounded up to MiB. A bound already given in TRACKER_JAVA_OPTS, JDK_JAVA_OPTIONS or JAVA_TOOL_OPTIONS wins:
# -Xmx, -XX:MaxHeapSize or -XX:MaxRAM* for the heap, -XX:MaxDirectMemorySize for direct memory. Options that do not
# parse derive nothing (`run` then names the problem itself). RunMemoryDefaultsTest checks the constants against the
# daemon's own accounting.

# tracker_run_memory_opts RUN-ARGS...: sets the array tracker_memory_opts to the -Xmx and -XX:MaxDirectMemorySize
# bin/tracker adds for `tracker run RUN-ARGS...` (either or both may be left out, see above).
tracker_run_memory_opts() {
  tracker_memory_opts=()
  local max_flows=1000000 ring_size=65536 record_buffer=$((64 << 20)) state="" workers
  local cpus
  cpus=$(nproc 2>/dev/null || echo 2)
  workers=$((cpus > 1 ? cpus - 1 : 1))
  # As `run` takes its options: a flag, else its TRACKER_<OPTION> variable, else the config file (--config FILE or
  # TRACKER_CONFIG; run.<option> before <option>), else the default.
  local config=${TRACKER_CONFIG:-} arg
  for arg in "$@"; do
    [ "$arg" = -- ] && break
    case "$arg" in --config=*) config=${arg#--config=} ;; esac
  done
  local i
  for ((i = 1; i < $#; i++)); do
    [ "${!i}" = -- ] && break
    if [ "${!i}" = --config ]; then local next=$((i + 1)); config=${!next}; fi
  done
  if [ -n "$config" ] && [ -r "$config" ]; then
    _tracker_config_settings "$config" ""
    _tracker_config_settings "$config" run.
  fi
  local variable option
  for option in max-flows workers ring-size record-buffer state-dir; do
    variable=TRACKER_$(echo "$option" | tr 'a-z-' 'A-Z_')
    if [ -n "${!variable:-}" ]; then _tracker_memory_setting "--$option" "${!variable}" || return 0; fi
  done
  while [ $# -gt 0 ]; do
    case "$1" in
      --) break ;;
      --*=*) _tracker_memory_setting "${1%%=*}" "${1#*=}" || return 0 ;;
      --max-flows|--working-set|--workers|--ring-size|--record-buffer|--state-dir)
        _tracker_memory_setting "$1" "${2:-}" || return 0; shift ;;
    esac
    shift
  done
  local n
  for n in "$max_flows" "$workers" "$ring_size"; do
    # Positive and under 10^10, so that the products below stay far from 2^63 (run's own bounds are lower).
    [[ "$n" =~ ^[1-9][0-9]{0,9}$ ]] || return 0
  done
  local mib=$((1 << 20))
  local heap=$((ring_size * 320 + record_buffer + 64 * mib))
  if [ -n "$state" ]; then heap=$((heap + max_flows * 1416)); fi
  heap=$(((heap * 5 / 4 + mib - 1) / mib))
  local direct=$(((max_flows * 1536 + workers * 8 * mib + 64 * mib + mib - 1) / mib))
  local given="${TRACKER_JAVA_OPTS:-} ${JDK_JAVA_OPTIONS:-} ${JAVA_TOOL_OPTIONS:-}"
  if ! [[ "$given" =~ -Xmx|-XX:MaxHeapSize=|-XX:MaxRAM ]]; then
    tracker_memory_opts+=("-Xmx${heap}m")
  fi
  if ! [[ "$given" =~ -XX:MaxDirectMemorySize= ]]; then
    tracker_memory_opts+=("-XX:MaxDirectMemorySize=${direct}m")
  fi
}

# _tracker_memory_setting OPTION VALUE: one of run's options that size memory, into the caller's variables; fails
# when --record-buffer is not a size (nothing is derived then). Other options are ignored.
_tracker_memory_setting() {
  case "$1" in
    --max-flows) max_flows=$2 ;;
    --working-set) ;; # obsolete, no effect; its value is skipped
    --workers) workers=$2 ;;
    --ring-size) ring_size=$2 ;;
    --record-buffer) record_buffer=$(_tracker_bytes "$2") || return 1 ;;
    --state-dir) state=yes ;;
  esac
}

# _tracker_config_settings FILE PREFIX: the settings of the config file's PREFIX<option> keys (key=value, key: value or
# key value lines, as java.util.Properties reads them; # and ! start comments).
_tracker_config_settings() {
  local line key value
  while IFS= read -r line || [ -n "$line" ]; do
    line=${line#"${line%%[![:space:]]*}"}
    case "$line" in ''|'#'*|'!'*) continue ;; esac
    key=${line%%[=:[:space:]]*}
    value=${line#"$key"}
    value=${value#"${value%%[![:space:]]*}"}
    case "$value" in [=:]*) value=${value:1} ;; esac
    value=${value#"${value%%[![:space:]]*}"}
    value=${value%"${value##*[![:space:]]}"}
    case "$key" in "$2"*) ;; *) continue ;; esac
    key=${key#"$2"}
    case "$key" in *.*) continue ;; esac
    _tracker_memory_setting "--$key" "$value" || return 0
  done < "$1"
}

# _tracker_bytes SIZE: prints SIZE (digits, optionally k, m or g, as `run` reads --record-buffer) in bytes; fails when
# it is not one, or not under 1 TiB.
_tracker_bytes() {
  local digits=${1%[kKmMgG]} shift_by=0
  case "$1" in
    *[kK]) shift_by=10 ;;
    *[mM]) shift_by=20 ;;
    *[gG]) shift_by=30 ;;
  esac
  [[ "$digits" =~ ^[1-9][0-9]{0,12}$ ]] && [ "$digits" -lt $((1 << (40 - shift_by))) ] || return 1
  echo $((digits << shift_by))
}
