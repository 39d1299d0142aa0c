#!/usr/bin/env bash
# What following LLM completions costs end to end: a 100,000-chunk OpenAI completion streamed at
# full speed by the embedded server's mock (`/llm/openai/...?tokens=N&ttft_ms=0&delay_ms=0`), read
# by `streamscope --json` with the LLM tracker (`--llm`, the default) and without it
# (`--llm=off`), beside the plain SSE firehose of events of the same size and Node +
# eventsource-parser on the same completion (the SSE peer of docs/performance.md, whose 1.5x is
# the SSE firehose target). See docs/performance.md.
#
# Usage: benches/llm.sh [ROUNDS]     (default 5; N=100000 tokens, override with N=...)
#
# Builds streamscope in release, starts `streamscope serve --port 0`, checks every client's event
# count once, then runs every client once per round, alternating, each under /usr/bin/time and
# timeout, wall time from $EPOCHREALTIME. Prints medians and per-round ratios (median): above 1
# means the first client of the pair is faster. Absolute times depend on the machine's load:
# compare the ratios of one session.
set -euo pipefail

ROUNDS=${1:-5}
N=${N:-100000}
RUN_TIMEOUT=${RUN_TIMEOUT:-120}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
[ -x /usr/bin/time ] || { echo "llm.sh: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

echo "== building (release) ==" >&2
cargo build --release --bin streamscope >&2
SS=$TARGET/release/streamscope

NODE_DIR=$TARGET/bench-node
HAVE_NODE=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d "$NODE_DIR/node_modules/eventsource-parser" ]; then
    mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && timeout 300 npm install --silent --no-audit --no-fund eventsource-parser@3 >&2)
  fi
  # The same counter as benches/e2e.sh: fetch body -> TextDecoder -> eventsource-parser.
  cat >"$NODE_DIR/count.mjs" <<'EOF'
import { createParser } from 'eventsource-parser';
let n = 0;
const parser = createParser({ onEvent() { n++; } });
const res = await fetch(process.argv[2]);
const dec = new TextDecoder();
for await (const chunk of res.body) parser.feed(dec.decode(chunk, { stream: true }));
console.log(n);
EOF
  HAVE_NODE=1
else
  echo "note: node/npm not found, skipping Node + eventsource-parser" >&2
fi

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
[ -n "$ADDR" ] || { echo "llm.sh: the server did not start" >&2; exit 1; }

LLM="http://$ADDR/llm/openai/v1/chat/completions?tokens=$N&ttft_ms=0&delay_ms=0"
# Events of the completion: the role chunk, N tokens, the finish chunk, the usage chunk, [DONE].
EVENTS=$((N + 4))
# The mock's chunks carry about 165 bytes of data; the firehose sends events of that size.
FIREHOSE="http://$ADDR/firehose/sse?n=$EVENTS&size=165"

client_cmd() {
  case $1 in
    llm-auto) echo "$SS --json -X POST $LLM" ;;
    llm-off) echo "$SS --json --llm=off -X POST $LLM" ;;
    firehose) echo "$SS --json --count $EVENTS --no-reconnect $FIREHOSE" ;;
    node) [ "$HAVE_NODE" = 1 ] && echo "node $NODE_DIR/count.mjs $LLM" ;;
  esac
  return 0
}
count_of() {
  case $1 in
    node) cat "$2" ;;
    *) grep -c '"kind":"event"' "$2" || true ;;
  esac
}
CLIENTS="llm-auto llm-off firehose node"

for c in $CLIENTS; do
  cmd=$(client_cmd "$c")
  [ -z "$cmd" ] && continue
  # shellcheck disable=SC2086
  timeout "$RUN_TIMEOUT" $cmd >"$WORK/out" 2>"$WORK/err" || true
  got=$(count_of "$c" "$WORK/out")
  [ "$got" = "$EVENTS" ] || { echo "llm.sh: $c counted $got of $EVENTS events" >&2; head -c 500 "$WORK/err" >&2; exit 1; }
  if [ "$c" = llm-auto ]; then
    grep -q '"kind":"llm_summary".*"chunks":'"$N"',' "$WORK/out" ||
      { echo "llm.sh: no llm_summary of $N chunks" >&2; exit 1; }
  fi
done
echo "counts ok: $EVENTS events" >&2

RESULTS=$WORK/results
: >"$RESULTS"
for r in $(seq "$ROUNDS"); do
  for c in $CLIENTS; do
    cmd=$(client_cmd "$c")
    [ -z "$cmd" ] && continue
    t0=$EPOCHREALTIME
    # shellcheck disable=SC2086
    /usr/bin/time -f '%U %S %M' -o "$WORK/time" timeout "$RUN_TIMEOUT" $cmd >/dev/null 2>"$WORK/err" ||
      { echo "llm.sh: $c failed in round $r" >&2; head -c 500 "$WORK/err" >&2; exit 1; }
    t1=$EPOCHREALTIME
    echo "$c $r $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }') $(tail -1 "$WORK/time")" >>"$RESULTS"
  done
  echo "round $r/$ROUNDS done" >&2
done
cp "$RESULTS" "$TARGET/llm-results.txt"

echo
echo "llm.sh: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $ROUNDS rounds, $EVENTS events; medians; raw runs in target/llm-results.txt"
echo
awk -v events="$EVENTS" '
function median(arr, k,    i, j, t, a) {
  for (i = 1; i <= k; i++) a[i] = arr[i]
  for (i = 2; i <= k; i++) { t = a[i]; j = i - 1; while (j >= 1 && a[j] > t) { a[j + 1] = a[j]; j-- } a[j + 1] = t }
  return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{
  c = $1; r = $2
  if (!(c in n)) order[++nc] = c
  k = ++n[c]; wall[c, k] = $3; cpu[c, k] = $4 + $5; rss[c, k] = $6; W[c, r] = $3; R[r] = 1
}
END {
  print "| client | wall s | events/s | CPU s | peak RSS MB |"
  print "|---|---|---|---|---|"
  for (i = 1; i <= nc; i++) {
    c = order[i]
    for (k = 1; k <= n[c]; k++) { w[k] = wall[c, k]; u[k] = cpu[c, k]; m[k] = rss[c, k] }
    mw = median(w, n[c])
    printf "| %s | %.3f | %.2fM | %.2f | %.0f |\n", c, mw, events / mw / 1e6, median(u, n[c]), median(m, n[c]) / 1024
  }
  print ""
  print "| ratio (per round, median) | value |"
  print "|---|---|"
  split("llm-off:llm-auto firehose:llm-auto node:llm-auto", pairs, " ")
  for (p = 1; p <= 3; p++) {
    split(pairs[p], ab, ":"); a = ab[1]; b = ab[2]
    if (!(a in n) || !(b in n)) continue
    k = 0
    for (rr in R) if (((a, rr) in W) && ((b, rr) in W)) q[++k] = W[a, rr] / W[b, rr]
    printf "| %s wall / %s wall | %.2f |\n", a, b, median(q, k)
  }
}' "$RESULTS"
