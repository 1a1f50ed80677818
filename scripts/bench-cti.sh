#!/usr/bin/env bash
# Make Call over CTI (issue 6): `tether-bench cti` sends MakeCall requests at a fixed rate over
# the CTI WebSocket and measures MakeCall -> Established (Tether calls the remote phone, it
# answers, Tether calls the target, it answers), clearing each call once established. SIPp's
# built-in UAS plays both the remote phone and the target, in place of the PSTN simulator
# behind the demo's trunks. The rate steps up until a step is not clean (a failed call, or
# less than 95 % of the asked rate achieved).
#
# Tether runs from the release build on the embedded demo (alice's CTRIDalice, active RD
# +14157777777), SQLite in a temporary directory, media anchored (Make Call needs it), the
# built-in PSTN simulator off with its address given to SIPp.
#
# Per step: calls, established, failed, the rate achieved, MakeCall -> Established latency
# (p50, p90, p99, max, in ms) and Tether's CPU time per call (utime + stime over the step).
#
# Usage: scripts/bench-cti.sh [RESULTS_FILE]
#        (default target/bench-cti/results-YYYYmmdd-HHMMSS.txt)
# Environment: RATES ("50 100 200 400 600 800 1000 1500 2000"), STEP_SECONDS (10),
#   UAS_PORT (5070), TETHER_BIN / BENCH_BIN (binaries to use instead of building them).
# Bounded: each step is rate x STEP_SECONDS calls with a 10 s timeout per call; every process
# it starts is stopped by PID.
set -euo pipefail
cd "$(dirname "$0")/.."

RATES=${RATES:-"50 100 200 400 600 800 1000 1500 2000"}
STEP_SECONDS=${STEP_SECONDS:-10}
UAS_PORT=${UAS_PORT:-5070}
TOKEN=bench-cti-admin-token-0123456789

command -v sipp >/dev/null || { echo "sipp is not installed (scripts/install-test-deps.sh)"; exit 1; }
target_dir=$(cargo metadata --format-version 1 --no-deps |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
stamp=$(date +%Y%m%d-%H%M%S)
results=${1:-$target_dir/bench-cti/results-$stamp.txt}
mkdir -p "$(dirname "$results")"
work="${results%.txt}.work"
rm -rf "$work"
mkdir -p "$work"

pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -z "${TETHER_BIN:-}" ] || [ -z "${BENCH_BIN:-}" ]; then
  echo "== building the release binaries"
  cargo build --release -q -p tether -p tether-bench
fi
bin=${TETHER_BIN:-$target_dir/release/tether}
bench=${BENCH_BIN:-$target_dir/release/tether-bench}

log() { echo "$*" | tee -a "$results"; }
: > "$results"
log "# bench-cti $(date -u +%Y-%m-%dT%H:%M:%SZ)  commit $(git rev-parse --short HEAD)$(git diff --quiet || echo ' (with uncommitted changes)')"
log "# $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')  load before: $(cut -d' ' -f1-3 /proc/loadavg)"

cat > "$work/bench.toml" <<CONF
[database]
url = "sqlite://$work/tether.db"
[http]
listen = "127.0.0.1:0"
[admin]
token = "$TOKEN"
[sip]
listen_udp = ["127.0.0.1:0"]
listen_tcp = []
[pstn]
enabled = false
listen = "127.0.0.1:$UAS_PORT"
[media]
anchor = true
CONF
RUST_LOG=${RUST_LOG:-warn} "$bin" serve --config "$work/bench.toml" > "$work/tether.out" 2> "$work/tether.log" &
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

sipp -sn uas -i 127.0.0.1 -p "$UAS_PORT" -t u1 -nostdin \
  -buff_size 4194304 > "$work/sipp.out" 2>&1 &
sipp_pid=$!
pids+=("$sipp_pid")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$tether_pid/stat"; }
hz=$(getconf CLK_TCK)

log "rate calls established failed achieved/s p50_ms p90_ms p99_ms max_ms cpu_us/call"
best=0
for rate in $RATES; do
  calls=$((rate * STEP_SECONDS))
  c0=$(cpu_ticks)
  line=$("$bench" cti --url "$base" --token "$TOKEN" --device CTRIDalice \
    --to +14155550123 --rate "$rate" --calls "$calls" 2>> "$work/bench.err") || {
    log "$rate: tether-bench failed: $(tail -1 "$work/bench.err")"; break; }
  c1=$(cpu_ticks)
  echo "$line" >> "$work/bench.raw"
  get() { echo "$line" | tr ' ' '\n' | sed -n "s/^$1=//p"; }
  est=$(get established); failed=$(get failed); achieved=$(get achieved_rate)
  ms() { awk -v u="$(get "$1")" 'BEGIN {printf "%.2f", u / 1000}'; }
  cpu=$(awk -v t=$((c1 - c0)) -v hz="$hz" -v n="$est" 'BEGIN {if (n > 0) printf "%.0f", t / hz * 1e6 / n; else print "-"}')
  log "$rate $calls $est $failed $achieved $(ms p50_us) $(ms p90_us) $(ms p99_us) $(ms max_us) $cpu"
  clean=$(awk -v f="$failed" -v a="$achieved" -v r="$rate" 'BEGIN {print (f == 0 && a >= 0.95 * r) ? 1 : 0}')
  [ "$clean" = 1 ] || break
  best=$rate
done
log "# highest clean rate: $best MakeCalls/s (every call established, >= 95 % of the asked rate)"
