#!/usr/bin/env bash
# Throughput of permessage-deflate decoding: the embedded server's compressed WebSocket firehose
# (N JSON messages of S bytes, compressed with context takeover, precomputed) read by
# `streamscope --json` (which inflates every message and writes a full record for it) against a
# Python `websockets` 17 client that also inflates and only counts (benches/ws_bench_client.py,
# the pinned interop venv). The uncompressed firehose read by streamscope is shown beside them.
# Loopback only (127.0.0.1). See docs/performance.md.
#
# Usage: benches/deflate.sh [ROUNDS]          (default 3 rounds)
# Environment: N=1000000 S=100 RUN_TIMEOUT=120
#
# Each round runs every client once, alternating; the ratios are the peer's wall time over
# streamscope's in the same round (>1: streamscope is faster), median over rounds.
set -euo pipefail

ROUNDS=${1:-3}
N=${N:-1000000}
S=${S:-100}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

echo "== building (release) ==" >&2
cargo build --release --bin streamscope >&2
SS=$TARGET/release/streamscope
tests/interop/setup.sh >&2
PY=${STREAMSCOPE_INTEROP:-$TARGET/interop}/venv/bin/python

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SS" serve --port 0 >"$WORK/serve.out" 2>&1 &
SERVER_PID=$!
ADDR=
for _ in $(seq 100); do
  ADDR=$(sed -n 's#.*http://\(127\.0\.0\.1:[0-9]*\)/.*#\1#p' "$WORK/serve.out" | head -1)
  [ -n "$ADDR" ] && break
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "deflate.sh: the server did not start" >&2; exit 1; }
URL="ws://$ADDR/firehose/ws?n=$N&size=$S"

client_cmd() {
  case $1 in
    streamscope-deflate) echo "$SS --json --count $N --no-reconnect $URL" ;;
    python-deflate) echo "$PY benches/ws_bench_client.py $URL $N" ;;
    streamscope-plain) echo "$SS --json --count $N --no-reconnect $URL&deflate=off" ;;
  esac
}
count_of() {
  case $1 in
    streamscope-*) grep -c '"kind":"message","dir":"in"' "$2" || true ;;
    python-*) sed -n 's/^count=\([0-9]*\).*/\1/p' "$2" ;;
  esac
}
CLIENTS="streamscope-deflate python-deflate streamscope-plain"

# Correctness round: every client sees N messages; streamscope's are compressed and inflate to S bytes.
for c in $CLIENTS; do
  # shellcheck disable=SC2046
  timeout "$RUN_TIMEOUT" $(client_cmd "$c") >"$WORK/out" 2>"$WORK/err" || true
  got=$(count_of "$c" "$WORK/out")
  [ "$got" = "$N" ] || { echo "deflate.sh: $c counted $got of $N" >&2; head -c 500 "$WORK/err" >&2; exit 1; }
  if [ "$c" = streamscope-deflate ]; then
    compressed=$(grep -c "\"payload_bytes\":$S,\"compressed_bytes\":" "$WORK/out" || true)
    [ "$compressed" = "$N" ] || { echo "deflate.sh: $compressed of $N messages compressed" >&2; exit 1; }
    wire=$(grep -o '"wire_bytes":[0-9]*,"payload_bytes":'"$S"',"compressed' "$WORK/out" |
      cut -d: -f2 | cut -d, -f1 | awk '{ s += $1 } END { print s }')
    echo "streamscope-deflate: $N messages, $wire wire bytes ($(awk -v w="$wire" -v n="$N" 'BEGIN { printf "%.1f", w / n }') per message)" >&2
  fi
  [ "$c" = python-deflate ] && echo "python-deflate: $(cat "$WORK/out")" >&2
done
echo "counts ok" >&2

RESULTS=$WORK/results
: >"$RESULTS"
for r in $(seq "$ROUNDS"); do
  for c in $CLIENTS; do
    t0=$EPOCHREALTIME
    # shellcheck disable=SC2046
    /usr/bin/time -f '%U %S %M' -o "$WORK/time" timeout "$RUN_TIMEOUT" $(client_cmd "$c") >/dev/null 2>"$WORK/err" ||
      { echo "deflate.sh: $c failed in round $r" >&2; head -c 500 "$WORK/err" >&2; exit 1; }
    t1=$EPOCHREALTIME
    echo "$c $r $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }') $(tail -1 "$WORK/time")" >>"$RESULTS"
  done
  echo "round $r/$ROUNDS done" >&2
done

echo
echo "deflate: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $ROUNDS rounds, $N x $S B, medians"
echo
awk -v n="$N" '
function median(arr, k,    i, j, t, a) {
  for (i = 1; i <= k; i++) a[i] = arr[i]
  for (i = 2; i <= k; i++) { t = a[i]; j = i - 1; while (j >= 1 && a[j] > t) { a[j + 1] = a[j]; j-- } a[j + 1] = t }
  return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{ c = $1; r = $2; if (!(c in k)) order[++nc] = c; k[c]++; W[c, k[c]] = $3; U[c, k[c]] = $4 + $5; M[c, k[c]] = $6; R[c, r] = $3 }
END {
  printf "| client | wall s | messages/s | CPU s | peak RSS MB |\n|---|---|---|---|---|\n"
  for (i = 1; i <= nc; i++) {
    c = order[i]
    for (j = 1; j <= k[c]; j++) { w[j] = W[c, j]; u[j] = U[c, j]; m[j] = M[c, j] }
    mw = median(w, k[c])
    printf "| %s | %.3f | %.0fk | %.3f | %.1f |\n", c, mw, n / mw / 1e3, median(u, k[c]), median(m, k[c]) / 1024
  }
  q = 0
  for (r = 1; r <= 1000; r++) if (("python-deflate", r) in R) x[++q] = R["python-deflate", r] / R["streamscope-deflate", r]
  printf "\nstreamscope-deflate vs python-deflate: %.2fx (median of per-round ratios)\n", median(x, q)
}' "$RESULTS"
