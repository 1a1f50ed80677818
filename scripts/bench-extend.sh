#!/usr/bin/env bash
# Extend-and-connect throughput (issue 4). SIPp UAC -> Tether -> SIPp UAS playing the remote
# phone behind a SIP trunk, stepping the call rate until more than 0.1 % of the calls fail,
# next to SIPp UAC -> SIPp UAS directly in the same run (the steps alternate between the two).
#
# Tether runs from the release build on a bench configuration: SQLite in a temporary directory,
# no demo, no built-in PSTN simulator, SIP on UDP $TETHER_SIP, provisioned over REST with an
# inbound trunk trusting the UAC (127.0.0.1:$UAC_PORT), an outbound SIP trunk to the UAS
# ($UAS, another IP so the two trunks are told apart), and a CTI remote device with DN 2000
# whose one active remote destination routes over that trunk. Each call is SIPp's built-in
# `uac`: INVITE, 100/180, 200, ACK, BYE at once, 200.
#
# Per step: the calls placed, failed %, the rate SIPp achieved, setup time as SIPp measures it
# (the response time of the 200 to the INVITE, -trace_rtt: one value per call in whole
# milliseconds; median, p99 and mean), Tether's CPU time per call (utime + stime from
# /proc/PID/stat over the step, all threads) and the datagrams the kernel dropped on Tether's
# socket for a full receive buffer (/proc/net/udp). A step is clean when at most 0.1 % of its calls
# failed and SIPp achieved at least 95 % of the asked rate; a path stops stepping at its first
# step that is not clean. Then, with tcpdump (when installed), both paths run once more at
# $CAPTURE_RATE (default 3000/s, half the 6,000/s target) and at half Tether's highest clean
# rate, with the UAC's traffic captured, for setup times to the microsecond from kernel
# timestamps (first INVITE -> first 200 per call), and what Tether adds to them.
#
# Usage: scripts/bench-extend.sh [RESULTS_FILE]
#        (default target/bench-extend/results-YYYYmmdd-HHMMSS.txt; the work directory with
#        every SIPp file is kept beside it)
# Environment: RATES ("1000 2000 3000 4000 5000 6000 7000 8000 10000 12000"), STEP_SECONDS (10: each
#   step places rate x STEP_SECONDS calls), CAPTURE_RATE (3000; 0 skips the capture),
#   TETHER_SIP (127.0.0.1:5060), UAC_PORT (5062), UAS (127.0.0.3:5080), SIPP_BUFFER (SIPp's
#   socket buffers, 4194304), TETHER_BIN (a tether binary to use instead of building one),
#   ANCHOR (false: [media] anchor for the run; true binds an RTP port pair per leg),
#   PATHS ("tether direct": which paths step; "tether" alone for A/B runs of two binaries),
#   PERF_STAT (0; 1 counts over each of Tether's steps with `perf stat -p` and prints per call
#   placed: its CPU time (task-clock, µs), context switches, system calls (all, and futex
#   waits and wakes: threads handing work to each other), page faults, and — where the
#   machine has a PMU, which a VM may not — instructions and cycles; counts the machine's load
#   does not move the way it moves CPU time).
# Bounded: a SIPp run is killed after 3 x STEP_SECONDS + 30 s; the whole run takes about
# 5 minutes and at most about 10 with the defaults. Every process it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

RATES=${RATES:-"1000 2000 3000 4000 5000 6000 7000 8000 10000 12000"}
STEP_SECONDS=${STEP_SECONDS:-10}
CAPTURE_RATE=${CAPTURE_RATE:-3000}
TETHER_SIP=${TETHER_SIP:-127.0.0.1:5060}
UAC_PORT=${UAC_PORT:-5062}
UAS=${UAS:-127.0.0.3:5080}
TOKEN=bench-extend-admin-token-0123456789
# Signalling only by default: SIPp's uac sends no RTP, so anchoring would only add binding a
# port pair per leg. ANCHOR=true measures that too.
ANCHOR=${ANCHOR:-false}
PATHS=${PATHS:-"tether direct"}
PERF_STAT=${PERF_STAT:-0}
# SIPp's socket buffers (its default, 64 KiB, drops datagrams past ~3,000 calls/s on loopback;
# the kernel caps it at net.core.rmem_max / wmem_max).
SIPP_BUFFER=${SIPP_BUFFER:-4194304}

command -v sipp >/dev/null || { echo "sipp is not installed (scripts/install-test-deps.sh)"; exit 1; }
command -v curl >/dev/null || { echo "curl is needed"; exit 1; }
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
stamp=$(date +%Y%m%d-%H%M%S)
results=${1:-$target_dir/bench-extend/results-$stamp.txt}
mkdir -p "$(dirname "$results")"
work="${results%.txt}.work"
rm -rf "$work"
mkdir -p "$work"
stats="python3 $root/scripts/bench-extend-stats.py"

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${TETHER_BIN:-}" ]; then
  bin=$TETHER_BIN
else
  echo "== building the release binary"
  cargo build --release -q -p tether
  bin=$target_dir/release/tether
fi

log() { echo "$*" | tee -a "$results"; }
: > "$results"
log "# bench-extend $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')${TETHER_BIN:+  binary $TETHER_BIN}"
log "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
log "# $(sipp -v 2>&1 | grep -m1 -o 'SIPp v[^ ]*')  load before: $(cut -d' ' -f1-3 /proc/loadavg)"
log "# busiest processes before the run (%CPU since their start):"
ps -eo pcpu=,comm= --sort=-pcpu | head -5 | sed 's/^/#   /' | tee -a "$results"

echo "== starting tether on $TETHER_SIP"
cat > "$work/bench.toml" <<EOF
[database]
url = "sqlite://$work/tether.db"
[http]
listen = "127.0.0.1:0"
[admin]
token = "$TOKEN"
[demo]
seed = false
[sip]
listen_udp = ["$TETHER_SIP"]
listen_tcp = []
[pstn]
enabled = false
[media]
anchor = $ANCHOR
EOF
RUST_LOG=${RUST_LOG:-info} "$bin" serve --config "$work/bench.toml" > "$work/tether.out" 2> "$work/tether.log" &
tether_pid=$!
pids+=("$tether_pid")
base=""
for _ in $(seq 1 300); do
  base=$(sed -n 's/^tether: http listening on /http:\/\//p' "$work/tether.out" 2>/dev/null | head -1)
  [ -n "$base" ] && break
  kill -0 "$tether_pid" 2>/dev/null || { cat "$work/tether.log"; exit 1; }
  sleep 0.1
done
[ -n "$base" ] || { echo "tether did not start"; cat "$work/tether.log"; exit 1; }

api() {
  local code
  code=$(curl -s -o "$work/api.out" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' -d "$2" "$base/api/v1/$1")
  [ "$code" = 201 ] || { echo "POST /api/v1/$1 $2 -> $code: $(cat "$work/api.out")"; exit 1; }
}
api partitions '{"name":"Internal"}'
api partitions '{"name":"PSTN"}'
api css '{"name":"Inbound-CSS","partitions":["Internal"]}'
api css '{"name":"Reroute-CSS","partitions":["PSTN"]}'
api trunks "{\"name\":\"uac-in\",\"kind\":\"sip\",\"peer\":\"127.0.0.1:$UAC_PORT\",\"inbound_css\":\"Inbound-CSS\"}"
api trunks "{\"name\":\"uas-out\",\"kind\":\"sip\",\"peer\":\"$UAS\"}"
api route-groups '{"name":"UAS-RG","trunks":["uas-out"]}'
api route-lists '{"name":"UAS-RL","groups":["UAS-RG"]}'
api patterns '{"partition":"PSTN","pattern":"\\+1!","kind":"route","route_list":"UAS-RL"}'
api users '{"id":"bench","name":"Bench","mobility_enabled":true}'
api devices '{"name":"CTRIDbench","kind":"cti_remote_device","owner":"bench","css":"Inbound-CSS","reroute_css":"Reroute-CSS"}'
api lines '{"partition":"Internal","dn":"2000","device":"CTRIDbench"}'
api remote-destinations '{"device":"CTRIDbench","name":"Far","number":"+14155550100","active":true}'

echo "== starting the SIPp UAS on $UAS"
(cd "$work" && exec sipp -sn uas -i "${UAS%:*}" -p "${UAS##*:}" -nostdin -bind_local \
  -buff_size "$SIPP_BUFFER" > uas.out 2>&1) &
uas_pid=$!
pids+=("$uas_pid")
for _ in $(seq 1 100); do
  ss -lun 2>/dev/null | grep -q " ${UAS}\b" && break
  kill -0 "$uas_pid" 2>/dev/null || { cat "$work/uas.out"; exit 1; }
  sleep 0.1
done

cpu_ticks() { awk '{print $14 + $15}' "/proc/$tether_pid/stat"; }
# Datagrams the kernel dropped for a full receive buffer on the UDP socket bound to IP:PORT
# (the last column of /proc/net/udp).
udp_drops() {
  local ip=${1%:*} port=${1##*:} hex
  hex=$(printf '%02X%02X%02X%02X:%04X' $(echo "$ip" | awk -F. '{print $4, $3, $2, $1}') "$port")
  awk -v a="$hex" '$2 == a {print $NF; found=1} END {if (!found) print 0}' /proc/net/udp
}
hz=$(getconf CLK_TCK)
metric() {
  curl -s "$base/metrics" | awk -v n="$1" '$1 == n {print $2}'
}
# Waits (bounded) until Tether has no call up, so steps do not overlap. Calls whose caller
# gave up on them (a lost BYE after a failed step) stay up for good: stop waiting once the
# count has not moved for 3 s.
settle() {
  local n last="" same=0
  for _ in $(seq 1 400); do
    n=$(metric tether_calls_active)
    [ "$n" = 0 ] && return 0
    if [ "$n" = "$last" ]; then same=$((same + 1)); else same=0; last=$n; fi
    if [ "$same" -ge 30 ]; then
      echo "   ($n calls left up by earlier failures)"
      return 0
    fi
    sleep 0.1
  done
  echo "   (calls still active after 40 s: $n)"
}

# run_sipp PATH RATE DIR: one SIPp UAC run; leaves stat.csv, the rtt file and out.txt in DIR.
run_sipp() {
  local path=$1 rate=$2 dir=$3 target calls rc=0
  target=$([ "$path" = tether ] && echo "$TETHER_SIP" || echo "$UAS")
  calls=$((rate * STEP_SECONDS))
  mkdir -p "$dir"
  (cd "$dir" && timeout $((STEP_SECONDS * 3 + 30)) sipp -sn uac -s 2000 "$target" \
      -i 127.0.0.1 -p "$UAC_PORT" -r "$rate" -m "$calls" -l 10000 -max_socket 100 \
      -buff_size "$SIPP_BUFFER" -recv_timeout 5000 -nostdin \
      -trace_stat -stf stat.csv -trace_rtt -rtt_freq 1000 \
      -trace_err -error_file errors.log > out.txt 2>&1) || rc=$?
  echo "$rc" > "$dir/rc"
}

declare -A clean_top=([tether]=0 [direct]=0) going=([tether]=0 [direct]=0)
for path in $PATHS; do going[$path]=1; done
perf_events=task-clock,context-switches,raw_syscalls:sys_enter,page-faults,syscalls:sys_enter_futex
if [ "$PERF_STAT" = 1 ]; then
  perf stat -e "$perf_events" true >/dev/null 2>&1 ||
    { echo "perf stat cannot count $perf_events here (linux-perf, kernel.perf_event_paranoid)"; exit 1; }
  # Hardware counters: absent in many VMs ("<not supported>").
  if perf stat -x, -e instructions true 2>&1 | grep -q '^[0-9]'; then
    perf_events=$perf_events,instructions,cycles
  fi
fi
printf -v header '%-7s %7s %8s %8s %9s %8s %9s %9s %9s %10s %7s' \
  path rate calls failed% achieved/s median_ms p99_ms mean_ms max_ms cpu_us/call drops
[ "$PERF_STAT" = 1 ] && header="$header  task_us/call cs/call syscalls/call faults/call futex/call instr/call cycles/call"
log ""
log "## steps ($STEP_SECONDS s each; setup time = SIPp's response time of the 200, whole ms per call)"
log "$header"
for rate in $RATES; do
  for path in tether direct; do
    [ "${going[$path]}" = 1 ] || continue
    step=$((${step:-0} + 1))
    dir="$work/$path-$rate-$step"
    settle
    c0=$(cpu_ticks)
    d0=$(udp_drops "$TETHER_SIP")
    ppid=""
    if [ "$PERF_STAT" = 1 ] && [ "$path" = tether ]; then
      perf stat -e "$perf_events" -x, -o "$dir.perf" -p "$tether_pid" > /dev/null 2>&1 &
      ppid=$!
      pids+=("$ppid")
    fi
    run_sipp "$path" "$rate" "$dir"
    c1=$(cpu_ticks)
    if [ -n "$ppid" ]; then kill -INT "$ppid" 2>/dev/null || true; wait "$ppid" 2>/dev/null || true; fi
    drops=$(( $(udp_drops "$TETHER_SIP") - d0 ))
    [ "$path" = tether ] || drops="-"
    rtt=$(ls "$dir"/uac_*_rtt.csv 2>/dev/null | head -1)
    if [ ! -s "$dir/stat.csv" ]; then
      log "$(printf '%-7s %7s  SIPp left no statistics (exit %s); see %s' "$path" "$rate" "$(cat "$dir/rc")" "$dir/out.txt")"
      going[$path]=0
      continue
    fi
    line=$($stats step "$dir/stat.csv" "${rtt:-/nonexistent}" $((rate * STEP_SECONDS)) "$rate")
    echo "$line" > "$dir/summary"
    get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
    placed=$(get placed)
    if [ "$path" = tether ] && [ "$placed" -gt 0 ]; then
      cpu=$(python3 -c "print(f'{($c1 - $c0) / $hz * 1e6 / $placed:.1f}')")
    else
      cpu="-"
    fi
    verdict=$(python3 -c "print('clean' if $(get failed_pct) <= 0.1 and $(get achieved) >= 0.95 * $rate else 'NOT clean')")
    counted=""
    if [ -n "$ppid" ] && [ "$placed" -gt 0 ]; then
      # perf stat -x, lines: value,unit,event,...
      counted=$(awk -F, -v n="$placed" '
        function per(v, f) { return (v ~ /^[0-9.]+$/) ? sprintf(f, v / n) : "-" }
        $3 ~ /^task-clock/ {t=$1} $3 ~ /^context-switches/ {cs=$1} $3 ~ /^raw_syscalls/ {sc=$1}
        $3 ~ /^page-faults/ {pf=$1} $3 ~ /futex/ {fx=$1}
        $3 ~ /^instructions/ {i=$1} $3 ~ /^cycles/ {c=$1}
        END {printf "  %12s %7s %13s %11s %10s %10s %11s", per(t * 1000, "%.1f"), per(cs, "%.2f"),
          per(sc, "%.2f"), per(pf, "%.2f"), per(fx, "%.2f"), per(i, "%.0f"), per(c, "%.0f")}' "$dir.perf")
    fi
    log "$(printf '%-7s %7s %8s %8.3f %9.0f %9.1f %9.1f %9.2f %9.1f %10s %7s' "$path" "$rate" \
      "$placed" "$(get failed_pct)" "$(get achieved)" "$(get rtt_median_ms)" "$(get rtt_p99_ms)" \
      "$(get rtt_mean_ms)" "$(get rtt_max_ms)" "$cpu" "$drops")$counted  $verdict"
    if [ "$verdict" = clean ]; then clean_top[$path]=$rate; else going[$path]=0; fi
  done
done
log ""
log "highest clean rate: tether ${clean_top[tether]} calls/s, SIPp direct ${clean_top[direct]} calls/s"

# The capture runs: at CAPTURE_RATE, and at half Tether's highest clean rate when that differs.
capture_rates=""
if [ "$CAPTURE_RATE" != 0 ]; then
  capture_rates=$CAPTURE_RATE
  half=$(( clean_top[tether] / 2 ))
  if [ "$half" -gt 0 ] && [ "$half" != "$CAPTURE_RATE" ]; then capture_rates="$capture_rates $half"; fi
fi
for crate in $capture_rates; do
  log ""
  log "## setup time to the microsecond at $crate calls/s (tcpdump on lo, UAC port $UAC_PORT)"
  if command -v tcpdump >/dev/null; then
    declare -A median=() p99=()
    for path in tether direct; do
      dir="$work/capture-$path-$crate"
      mkdir -p "$dir"
      settle
      tcpdump -i lo -n -s 700 -B 65536 -w "$dir/uac.pcap" "udp port $UAC_PORT" > "$dir/tcpdump.out" 2>&1 &
      tpid=$!
      pids+=("$tpid")
      for _ in $(seq 1 100); do grep -q "listening on" "$dir/tcpdump.out" && break; sleep 0.1; done
      c0=$(cpu_ticks)
      run_sipp "$path" "$crate" "$dir"
      c1=$(cpu_ticks)
      kill -INT "$tpid" 2>/dev/null || true
      wait "$tpid" 2>/dev/null || true
      dropped=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$dir/tcpdump.out")
      rtt=$(ls "$dir"/uac_*_rtt.csv 2>/dev/null | head -1)
      line=$($stats step "$dir/stat.csv" "${rtt:-/nonexistent}" $((crate * STEP_SECONDS)) "$crate")
      wire=$($stats pcap "$dir/uac.pcap" "$UAC_PORT" || echo "no pairs")
      log "$path: $wire  (SIPp: $(echo "$line" | tr ' ' '\n' | grep -E '^(placed|failed_pct|achieved)=' | tr '\n' ' ')kernel dropped ${dropped:-?} packets)"
      median[$path]=$(echo "$wire" | tr ' ' '\n' | sed -n 's/^median_us=//p')
      p99[$path]=$(echo "$wire" | tr ' ' '\n' | sed -n 's/^p99_us=//p')
      if [ "$path" = tether ] && [ -n "$(echo "$wire" | sed -n 's/.*pairs=\([0-9]*\).*/\1/p')" ]; then
        log "        tether CPU per call in this run: $(python3 -c "print(f'{($c1 - $c0) / $hz * 1e6 / max(1, $(echo "$line" | tr ' ' '\n' | sed -n 's/^placed=//p')):.1f}')") us"
      fi
    done
    if [ -n "${median[tether]}" ] && [ -n "${median[direct]}" ]; then
      log "added by tether: median $(python3 -c "print(f'{${median[tether]} - ${median[direct]}:.1f}')") us, p99 $(python3 -c "print(f'{${p99[tether]} - ${p99[direct]}:.1f}')") us"
    fi
  else
    log "tcpdump is not installed (apt-get install tcpdump): skipped"
  fi
done

log ""
log "# tether peak RSS: $(awk '/VmHWM/ {print $2, $3}' "/proc/$tether_pid/status")"
log "# tether at the end: $(curl -s "$base/metrics" | grep -E '^tether_(call_attempts_total|calls_answered_total|calls_failed_total|cdrs_written_total|cdrs_dropped_total) ' | tr '\n' ' ')"
log "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "results: $results (SIPp files in $work)"
