#!/usr/bin/env bash
# Interop proof for the SIP stack (issue 2): the example UAS built only on tether-sip answers
# SIPp's built-in `uac` scenario over UDP and over TCP, 10,000 calls each at 500 calls/s, and
# the run must end with 0 failed calls and 0 unexpected messages.
#
# Usage: scripts/sipp-interop.sh [calls] [rate]     (defaults: 10000 500)
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-10000}
rate=${2:-500}
port_udp=${TETHER_INTEROP_PORT:-15060}
work=$(mktemp -d)
uas_pid=""
cleanup() {
  if [ -n "$uas_pid" ] && kill -0 "$uas_pid" 2>/dev/null; then kill "$uas_pid"; wait "$uas_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

command -v sipp >/dev/null || { echo "sipp not installed (scripts/install-test-deps.sh)"; exit 1; }
cargo build --release -q -p tether-sip --example uas
uas=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/examples/uas

"$uas" --listen "127.0.0.1:$port_udp" > "$work/uas.log" 2>&1 &
uas_pid=$!
# Wait until the UAS says it is listening (an event, not a clock).
for _ in $(seq 1 100); do
  grep -q "^listening" "$work/uas.log" 2>/dev/null && break
  kill -0 "$uas_pid" 2>/dev/null || { cat "$work/uas.log"; exit 1; }
  read -r -t 0.1 < /dev/zero || true
done
grep -q "^listening" "$work/uas.log" || { echo "UAS did not start"; cat "$work/uas.log"; exit 1; }

status=0
for t in u1 t1; do
  name=$([ "$t" = u1 ] && echo UDP || echo TCP)
  echo "-- SIPp uac over $name: $calls calls at $rate/s"
  set +e
  (cd "$work" && timeout 300 sipp -sn uac "127.0.0.1:$port_udp" -i 127.0.0.1 -p 0 -t "$t" \
      -r "$rate" -m "$calls" -l 5000 -max_socket 100 -nostdin -trace_stat -stf "stat-$t.csv" \
      -trace_err -error_file "err-$t.log" > "sipp-$t.out" 2>&1)
  rc=$?
  set -e
  # The last line of the statistics file holds the cumulative counters.
  python3 - "$work/stat-$t.csv" "$calls" "$name" "$rc" <<'PY' || status=1
import csv, sys
path, calls, name, rc = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
rows = list(csv.reader(open(path), delimiter=';'))
head, last = rows[0], rows[-1]
col = lambda n: int(last[head.index(n)])
ok, failed = col("SuccessfulCall(C)"), col("FailedCall(C)")
unexpected = col("FailedUnexpectedMessage(C)")
print(f"{name}: successful={ok} failed={failed} unexpected={unexpected} sipp_exit={rc}")
sys.exit(0 if (ok == calls and failed == 0 and unexpected == 0 and rc == 0) else 1)
PY
  if [ $status -ne 0 ]; then
    echo "SIPp $name run failed"; tail -20 "$work/sipp-$t.out"; head -20 "$work/err-$t.log" 2>/dev/null || true; tail -20 "$work/uas.log"
    exit 1
  fi
done
echo "interop: OK"
