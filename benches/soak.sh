#!/usr/bin/env bash
# Soak run (not part of CI): two firehose streams (SSE + WebSocket) at full speed for at least
# SOAK_SECS (default 600 s), first headless (--json), then in the dashboard under tmux.
#
# For each phase it reports records sent (the firehose's n) and received, and the process's RSS at
# start, every SAMPLE_SECS, and at the end, so you can see memory stay flat once the history ring
# is full. Loopback only; every loop is bounded.
#
#   benches/soak.sh                 # 10 minutes per phase
#   SOAK_SECS=60 benches/soak.sh    # a quick look
#   SKIP_JSON=1 benches/soak.sh     # the dashboard phase only
#
# Needs: a release build (made here), tmux for the dashboard phase.
set -euo pipefail
cd "$(dirname "$0")/.."
SOAK_SECS=${SOAK_SECS:-600}
SAMPLE_SECS=${SAMPLE_SECS:-30}
HISTORY=${HISTORY:-100000}
SIZE=${SIZE:-100}
cargo build --release --quiet
BIN=target/release/streamscope
OUT=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; tmux -L soak kill-server 2>/dev/null || true' EXIT

$BIN serve --port 0 >"$OUT/serve.log" 2>&1 &
for _ in $(seq 50); do grep -q "server on" "$OUT/serve.log" 2>/dev/null && break; sleep 0.1; done
ADDR=$(sed -n 's|.*server on http://\([^/]*\)/.*|\1|p' "$OUT/serve.log" | head -1)
echo "server: $ADDR"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
hwm_kb() { awk '/VmHWM/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }

# Calibrate: how many messages per stream both streams get through in 10 s together.
CAL=100000000
# The same consumer as the measured run (awk), since the output side sets the pace.
timeout 10 $BIN --json --no-reconnect "http://$ADDR/firehose/sse?n=$CAL&size=$SIZE" "ws://$ADDR/firehose/ws?n=$CAL&size=$SIZE" \
  | awk '/"kind":"event"/ {e++} END {print e+0}' >"$OUT/cal" || true
RATE=$(( $(cat "$OUT/cal") / 10 ))
N=$(( RATE * (SOAK_SECS + 20) ))
echo "calibrated: ~$RATE events/s per stream; n=$N per stream (>= ${SOAK_SECS}s)"

if [ -z "${SKIP_JSON:-}" ]; then
echo "## phase 1: --json"
$BIN --json --no-reconnect "http://$ADDR/firehose/sse?n=$N&size=$SIZE" "ws://$ADDR/firehose/ws?n=$N&size=$SIZE" \
  | awk '/"kind":"event"/ {e++} /"kind":"message","dir":"in"/ {m++} END {print e+0, m+0}' >"$OUT/json.counts" &
PIPE=$!
sleep 1
PID=$(pgrep -n -f "$BIN --json --no-reconnect http://$ADDR/firehose" || true)
START=$(date +%s)
echo "t=0s rss=$(rss_kb "$PID") kB"
while kill -0 "$PID" 2>/dev/null; do
  sleep "$SAMPLE_SECS"
  kill -0 "$PID" 2>/dev/null && echo "t=$(( $(date +%s) - START ))s rss=$(rss_kb "$PID") kB peak=$(hwm_kb "$PID") kB"
done
wait "$PIPE"
read -r E M <"$OUT/json.counts"
echo "sent per stream: $N; received: sse=$E ws=$M; wall=$(( $(date +%s) - START ))s"
[ "$E" = "$N" ] && [ "$M" = "$N" ] && echo "json: counts match" || echo "json: COUNT MISMATCH"
fi

echo "## phase 2: dashboard under tmux (history $HISTORY)"
# The dashboard drains at its own pace: calibrate it separately (20 s, counters read off the screen).
tmux -L soak new-session -d -s cal -x 320 -y 50 \
  "$BIN --history $HISTORY --no-reconnect 'http://$ADDR/firehose/sse?n=$CAL&size=$SIZE' 'ws://$ADDR/firehose/ws?n=$CAL&size=$SIZE'"
sleep 20
CALN=$(tmux -L soak capture-pane -p -t cal | grep -o 'event [0-9][0-9]*' | head -1 | awk '{print $2}' || true)
tmux -L soak send-keys -t cal q
sleep 2
N=$(( ${CALN:-0} / 20 * (SOAK_SECS + 20) ))
echo "dashboard calibrated: ~$(( ${CALN:-0} / 20 )) events/s per stream; n=$N per stream"
tmux -L soak new-session -d -s soak -x 320 -y 50 \
  "$BIN --history $HISTORY --no-reconnect 'http://$ADDR/firehose/sse?n=$N&size=$SIZE' 'ws://$ADDR/firehose/ws?n=$N&size=$SIZE'"
sleep 1
PID=$(pgrep -n -f "$BIN --history $HISTORY" || true)
START=$(date +%s)
echo "t=0s rss=$(rss_kb "$PID") kB"
DEADLINE=$(( START + SOAK_SECS * 3 ))
while [ "$(date +%s)" -lt "$DEADLINE" ]; do
  sleep "$SAMPLE_SECS"
  echo "t=$(( $(date +%s) - START ))s rss=$(rss_kb "$PID") kB peak=$(hwm_kb "$PID") kB"
  SCREEN=$(tmux -L soak capture-pane -p -t soak)
  if [ "$(grep -o 'ENDED' <<<"$SCREEN" | wc -l)" -ge 2 ]; then break; fi
done
SCREEN=$(tmux -L soak capture-pane -p -t soak)
echo "$SCREEN" >"$OUT/screen.txt"
# The per-kind counters of the two stats blocks ("event N" on the SSE side, "message N" on the WS
# side); the record rows below them are not counters.
echo "dashboard counters: $(grep -o -E '(event|message) [0-9]+' <<<"$SCREEN" | sort -u | tr '\n' ' ')"
echo "they must show event $N (SSE) and message $N (WS); last screen in $OUT/screen.txt"
tmux -L soak send-keys -t soak q
sleep 2
echo "done; logs in $OUT"
