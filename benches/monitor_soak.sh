#!/usr/bin/env bash
# Soak run of `streamscope monitor` (not part of CI): 20 streams against the embedded server for
# SOAK_SECS (default 1800 s = 30 minutes), scraped every SAMPLE_SECS, reporting the process's RSS,
# the records it has counted and the number of series it exports. Memory must stay flat once the
# connections are warm: the metrics are fixed histograms and counters per stream, the matcher keeps
# a bounded number of keys, and nothing grows per record.
#
# The 20 streams: 8 SSE and 6 WebSocket feeds at 20 records/s each (two of them paired by
# `match`), 2 fast SSE feeds at 200 records/s, 2 `drop` scenarios (a broken body, a reconnect and
# lost ids every few events) and 2 `lint` scenarios (six lints and a reconnect per connection).
#
#   benches/monitor_soak.sh                    # 30 minutes
#   SOAK_SECS=300 SAMPLE_SECS=30 benches/monitor_soak.sh   # 5 minutes
#
# Loopback only; the run stops by itself. Needs curl and a release build (made here).
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECS=${SOAK_SECS:-1800}
SAMPLE_SECS=${SAMPLE_SECS:-60}
cargo build --release --quiet
BIN=target/release/streamscope
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true' EXIT

$BIN serve --port 0 >"$OUT/serve.log" 2>&1 &
for _ in $(seq 50); do grep -q "server on" "$OUT/serve.log" 2>/dev/null && break; sleep 0.1; done
A=$(sed -n 's|.*server on http://\([^/]*\)/.*|\1|p' "$OUT/serve.log" | head -1)
echo "server: $A"

CONFIG="$OUT/config.toml"
{
  for i in $(seq 1 8); do
    printf '[streams.sse-%02d]\nurl = "http://%s/sse?interval_ms=50"\nheartbeat = "1s"\n' "$i" "$A"
    [ "$i" = 1 ] && printf 'match = "/seq"\nmatch-with = "ws-01"\n'
    echo
  done
  for i in $(seq 1 6); do
    printf '[streams.ws-%02d]\nurl = "ws://%s/ws?interval_ms=50"\nping-interval = "1s"\n\n' "$i" "$A"
  done
  for i in 1 2; do
    printf '[streams.fast-%02d]\nurl = "http://%s/sse?interval_ms=5"\n\n' "$i" "$A"
    printf '[streams.drop-%02d]\nurl = "http://%s/scenario/sse/drop?after=20&skip=3&retry_ms=500"\n\n' "$i" "$A"
    printf '[streams.lint-%02d]\nurl = "http://%s/scenario/sse/lint"\nmax-backoff = "2s"\n\n' "$i" "$A"
  done
} >"$CONFIG"

$BIN monitor --config "$CONFIG" --metrics 127.0.0.1:0 2>"$OUT/monitor.log" &
MON=$!
for _ in $(seq 50); do grep -q "metrics on" "$OUT/monitor.log" 2>/dev/null && break; sleep 0.1; done
PORT=$(sed -n 's|.*http://127.0.0.1:\([0-9]*\)/metrics.*|\1|p' "$OUT/monitor.log" | head -1)
head -1 "$OUT/monitor.log"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
sample() {
  curl -s "http://127.0.0.1:$PORT/metrics" >"$OUT/metrics.txt"
  local records series
  records=$(awk '/^streamscope_records_total/ {s += $2} END {printf "%d", s}' "$OUT/metrics.txt")
  series=$(grep -vc '^#' "$OUT/metrics.txt")
  echo "t=$(( $(date +%s) - START ))s rss=$(rss_kb $MON) kB peak=$(hwm_kb $MON) kB records=$records series=$series"
}
START=$(date +%s)
sample
while [ $(( $(date +%s) - START )) -lt "$SOAK_SECS" ]; do
  sleep "$SAMPLE_SECS"
  kill -0 $MON 2>/dev/null || { echo "monitor exited early"; cat "$OUT/monitor.log"; exit 1; }
  sample
done
grep -E '^streamscope_(reconnects_total|id_gaps_total|lints_total)' "$OUT/metrics.txt" \
  | awk '{split($1, a, "{"); s[a[1]] += $2} END {for (k in s) printf "%s %d\n", k, s[k]}' | sort
kill -TERM $MON
wait $MON || true
echo "done; logs and the last scrape in $OUT"
