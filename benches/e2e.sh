#!/usr/bin/env bash
# End-to-end throughput of `streamscope --json` against its peers, on the embedded server's
# firehoses over loopback (127.0.0.1 only). See docs/performance.md.
#
# Usage: benches/e2e.sh [ROUNDS]          (default 5 rounds)
#
# What it does:
#   1. builds once: `cargo build --release --bin streamscope`, the std-only bare counting client
#      (benches/bare_client.rs) with rustc -O, and the tokio-tungstenite counting client
#      (benches/bare_tungstenite.rs) with `cargo bench --no-run`; installs eventsource-parser@3 into
#      target/bench-node/ with npm if it is not there yet (skipped when node/npm are missing);
#   2. starts `streamscope serve --port 0` and reads the address it prints;
#   3. for each case N x S (1,000,000 x 100 B and 100,000 x 1,000 B), one correctness round checks
#      every client's message count, then ROUNDS rounds run every client once each, alternating,
#      so the machine's noise hits all of them alike;
#   4. measures each run's wall time with bash's $EPOCHREALTIME (microseconds) and its CPU and
#      peak RSS with /usr/bin/time (user+sys, max resident), and prints a Markdown table of
#      medians and the ratios of streamscope to each peer, taken per round (the peer's wall time
#      over streamscope's in the same round, so >1 means streamscope is faster), median.
#
# Clients: streamscope --json (SSE and WS, output to /dev/null), curl -sN (SSE, the byte-copy
# ceiling), the bare counting client (SSE and WS), the tokio-tungstenite counting client (WS),
# Node + eventsource-parser (SSE), websocat -t --no-close (WS, only when installed: it is not
# installed by this script because `cargo install websocat --locked` takes minutes of every core).
# The SSE firehose is also read over TLS from `serve --tls`: HTTP/2 (`-h2`: streamscope, curl
# --http2, Node's http2 client + eventsource-parser) and HTTP/1.1 (`-h1tls`: streamscope --http1.1,
# curl --http1.1, Node fetch + eventsource-parser), so h2 is compared with HTTP/1.1 on the same
# TLS, and each against its byte-copy ceiling and the Node peer on the same connection type.
#
# Environment:
#   CASES="1000000:100 100000:1000"   N:S pairs
#   BASELINE=/path/to/streamscope      also run another streamscope binary (e.g. a build of the
#                                      previous commit) as "base", for before/after ratios
#   RUN_TIMEOUT=60                     seconds allowed for any one run
#   CLIENTS="streamscope-h2 curl-h2 ..."  the clients to run (default: all of them)
#
# Every run is bounded by `timeout`; the server is killed on exit. Absolute figures depend on the
# machine and its load: compare ratios from one session, not times across sessions.
set -euo pipefail

ROUNDS=${1:-5}
CASES=${CASES:-"1000000:100 100000:1000"}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

[ -x /usr/bin/time ] || { echo "e2e.sh: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }

echo "== building (release) ==" >&2
cargo build --release --bin streamscope >&2
SS=$TARGET/release/streamscope
BARE=$TARGET/release/bare_client
if [ ! -x "$BARE" ] || [ benches/bare_client.rs -nt "$BARE" ]; then
  rustc -O --edition 2024 -o "$BARE" benches/bare_client.rs
fi
# The tokio-tungstenite counting client needs the crate's dependencies: cargo builds it (bench
# profile = release settings) and reports where the executable is.
TUNG=$(cargo bench --no-run --bench bare_tungstenite --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*bare_tungstenite[^"]*\)".*/\1/p' | tail -1)
[ -x "$TUNG" ] || { echo "e2e.sh: could not build benches/bare_tungstenite.rs" >&2; exit 1; }

NODE_DIR=$TARGET/bench-node
HAVE_NODE=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d "$NODE_DIR/node_modules/eventsource-parser" ]; then
    echo "== npm install eventsource-parser@3 into $NODE_DIR ==" >&2
    mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && timeout 300 npm install --silent --no-audit --no-fund eventsource-parser@3 >&2)
  fi
  cat >"$NODE_DIR/count.mjs" <<'EOF'
// Counts SSE events: fetch body -> TextDecoder -> eventsource-parser, as a browser-side app would.
import { createParser } from 'eventsource-parser';
let n = 0;
const parser = createParser({ onEvent() { n++; } });
const res = await fetch(process.argv[2]);
const dec = new TextDecoder();
for await (const chunk of res.body) parser.feed(dec.decode(chunk, { stream: true }));
console.log(n);
EOF
  cat >"$NODE_DIR/count-h2.mjs" <<'EOF'
// Counts SSE events over HTTP/2: Node's http2 client -> eventsource-parser. The stream window is
// 4 MiB, as streamscope's (Node's default, 64 KiB, would throttle it on WINDOW_UPDATE round trips).
import http2 from 'node:http2';
import fs from 'node:fs';
import { createParser } from 'eventsource-parser';
const url = new URL(process.argv[2]);
let n = 0;
const parser = createParser({ onEvent() { n++; } });
const session = http2.connect(url.origin, {
  ca: fs.readFileSync(process.argv[3]),
  settings: { initialWindowSize: 4 << 20 },
});
session.on('connect', () => session.setLocalWindowSize(8 << 20));
const req = session.request({ ':path': url.pathname + url.search, accept: 'text/event-stream' });
req.setEncoding('utf8');
req.on('data', (chunk) => parser.feed(chunk));
req.on('end', () => { console.log(n); session.close(); });
req.on('error', (e) => { console.error(e); process.exit(1); });
EOF
  HAVE_NODE=1
else
  echo "note: node/npm not found, skipping Node + eventsource-parser" >&2
fi

WEBSOCAT=$(command -v websocat || true)
[ -z "$WEBSOCAT" ] && [ -x "$HOME/.cargo/bin/websocat" ] && WEBSOCAT=$HOME/.cargo/bin/websocat
[ -z "$WEBSOCAT" ] && echo "note: websocat not installed, skipping it (cargo install websocat --locked)" >&2

WORK=$(mktemp -d)
SERVER_PID=
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

"$SS" serve --port 0 --tls --tls-port 0 --cert-out "$WORK/cert.pem" >"$WORK/serve.out" 2>&1 &
SERVER_PID=$!
ADDR=
TLS=
CERT=$WORK/cert.pem
for _ in $(seq 100); do
  ADDR=$(sed -n 's#.*http://\(127\.0\.0\.1:[0-9]*\)/.*#\1#p' "$WORK/serve.out" | head -1)
  TLS=$(sed -n 's#.*https://\(127\.0\.0\.1:[0-9]*\)/.*#\1#p' "$WORK/serve.out" | head -1)
  [ -n "$ADDR" ] && [ -n "$TLS" ] && break
  sleep 0.1
done
[ -n "$ADDR" ] || { echo "e2e.sh: the server did not start:" >&2; cat "$WORK/serve.out" >&2; exit 1; }
echo "== server on $ADDR; $ROUNDS rounds; cases: $CASES ==" >&2

# The command line of client $1 for case N=$2 S=$3 (empty when the client is unavailable).
client_cmd() {
  local c=$1 n=$2 s=$3
  # The uncompressed firehose: `deflate=off` keeps the server from accepting the permessage-deflate
  # streamscope offers, so every client reads the same plain frames (benches/deflate.sh measures
  # the compressed one).
  local sse="http://$ADDR/firehose/sse?n=$n&size=$s" ws="ws://$ADDR/firehose/ws?n=$n&size=$s&deflate=off"
  local tls="https://$TLS/firehose/sse?n=$n&size=$s"
  case $c in
    streamscope-h2) echo "$SS --json --count $n --no-reconnect --cacert $CERT $tls" ;;
    curl-h2) echo "curl --http2 -sN --cacert $CERT $tls" ;;
    node-h2) [ "$HAVE_NODE" = 1 ] && echo "node $NODE_DIR/count-h2.mjs $tls $CERT" ;;
    streamscope-h1tls) echo "$SS --json --count $n --no-reconnect --http1.1 --cacert $CERT $tls" ;;
    curl-h1tls) echo "curl --http1.1 -sN --cacert $CERT $tls" ;;
    node-h1tls) [ "$HAVE_NODE" = 1 ] && echo "env NODE_EXTRA_CA_CERTS=$CERT node $NODE_DIR/count.mjs $tls" ;;
    streamscope-sse) echo "$SS --json --count $n --no-reconnect $sse" ;;
    streamscope-ws) echo "$SS --json --count $n --no-reconnect $ws" ;;
    base-sse) [ -n "${BASELINE:-}" ] && echo "$BASELINE --json --count $n --no-reconnect $sse" ;;
    base-ws) [ -n "${BASELINE:-}" ] && echo "$BASELINE --json --count $n --no-reconnect $ws" ;;
    curl-sse) echo "curl -sN $sse" ;;
    bare-sse) echo "$BARE $sse" ;;
    bare-ws) echo "$BARE $ws" ;;
    tungstenite-ws) echo "$TUNG $ws" ;;
    node-sse) [ "$HAVE_NODE" = 1 ] && echo "node $NODE_DIR/count.mjs $sse" ;;
    websocat-ws) [ -n "$WEBSOCAT" ] && echo "$WEBSOCAT -t --no-close $ws" ;;
  esac
  return 0
}
CLIENTS=${CLIENTS:-"streamscope-sse curl-sse bare-sse node-sse base-sse streamscope-ws bare-ws tungstenite-ws websocat-ws base-ws streamscope-h2 curl-h2 node-h2 streamscope-h1tls curl-h1tls node-h1tls"}

# Message count a client reports in its output file $2 (client $1).
count_of() {
  case $1 in
    streamscope-* | base-*) grep -c -E '"kind":"(event|message)"' "$2" || true ;;
    bare-* | tungstenite-*) cut -d' ' -f1 "$2" ;;
    node-*) cat "$2" ;;
    websocat-*) wc -l <"$2" ;;
    curl-*) grep -c '^data:' "$2" || true ;;
  esac
}

RESULTS=$WORK/results
: >"$RESULTS"
for case_ in $CASES; do
  n=${case_%%:*}
  s=${case_##*:}
  # Correctness round (output kept, not timed).
  for c in $CLIENTS; do
    cmd=$(client_cmd "$c" "$n" "$s")
    [ -z "$cmd" ] && continue
    # shellcheck disable=SC2086
    timeout "$RUN_TIMEOUT" $cmd >"$WORK/out" 2>"$WORK/err" || true
    got=$(count_of "$c" "$WORK/out")
    if [ "$got" != "$n" ]; then
      echo "e2e.sh: $c counted $got of $n messages (N=$n S=$s):" >&2
      head -c 500 "$WORK/err" >&2
      exit 1
    fi
  done
  echo "counts ok for N=$n S=$s" >&2
  for r in $(seq "$ROUNDS"); do
    for c in $CLIENTS; do
      cmd=$(client_cmd "$c" "$n" "$s")
      [ -z "$cmd" ] && continue
      # shellcheck disable=SC2086
      t0=$EPOCHREALTIME
      if ! /usr/bin/time -f '%U %S %M' -o "$WORK/time" timeout "$RUN_TIMEOUT" $cmd >/dev/null 2>"$WORK/err"; then
        echo "e2e.sh: $c failed (N=$n S=$s round $r):" >&2
        head -c 500 "$WORK/err" >&2
        exit 1
      fi
      t1=$EPOCHREALTIME
      # Wall time from bash's microsecond clock (time's %e has 10 ms steps); it includes starting
      # time and timeout, the same few milliseconds for every client.
      wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
      echo "$n $s $c $r $wall $(tail -1 "$WORK/time")" >>"$RESULTS"
    done
    echo "round $r/$ROUNDS done for N=$n S=$s" >&2
  done
done

cp "$RESULTS" "$TARGET/e2e-results.txt"
echo
echo "e2e: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $ROUNDS rounds, medians; raw runs in target/e2e-results.txt"
echo
# Report: medians per client, and per-round ratios (peer wall / streamscope wall) per case.
awk '
function median(arr, k,    i, j, t, a) {
  for (i = 1; i <= k; i++) a[i] = arr[i]
  for (i = 2; i <= k; i++) { t = a[i]; j = i - 1; while (j >= 1 && a[j] > t) { a[j + 1] = a[j]; j-- } a[j + 1] = t }
  return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
{
  key = $1 " " $2; c = $3; r = $4
  if (!(key in seen)) { seen[key] = 1; cases[++ncases] = key }
  if (!((key, c) in nc)) { clients[key, ++ncl[key]] = c }
  k = ++nc[key, c]
  wall[key, c, k] = ($5 > 0.001 ? $5 : 0.001); cpu[key, c, k] = $6 + $7; rss[key, c, k] = $8
  W[key, c, r] = wall[key, c, k]
  rounds[key, r] = 1
}
END {
  for (ci = 1; ci <= ncases; ci++) {
    key = cases[ci]; split(key, ns, " "); n = ns[1]; s = ns[2]
    printf "### %d messages x %d bytes\n\n", n, s
    printf "| client | wall s | messages/s | payload MB/s | CPU s | peak RSS MB |\n|---|---|---|---|---|---|\n"
    for (i = 1; i <= ncl[key]; i++) {
      c = clients[key, i]; k = nc[key, c]
      for (j = 1; j <= k; j++) { w[j] = wall[key, c, j]; u[j] = cpu[key, c, j]; m[j] = rss[key, c, j] }
      mw = median(w, k)
      printf "| %s | %.3f | %.2fM | %.0f | %.3f | %.1f |\n", c, mw, n / mw / 1e6, n * s / mw / 1e6, median(u, k), median(m, k) / 1024
    }
    printf "\nRatios (peer wall / streamscope wall, per round, median; >1: streamscope is faster):\n\n"
    printf "| streamscope | vs | ratio | rounds |\n|---|---|---|---|\n"
    for (i = 1; i <= ncl[key]; i++) {
      ss = clients[key, i]
      if (ss !~ /^streamscope-/) continue
      proto = substr(ss, 13)
      for (j = 1; j <= ncl[key]; j++) {
        p = clients[key, j]
        if (p == ss || p !~ ("-" proto "$")) continue
        k = 0
        for (r = 1; r <= 1000; r++) if ((key, ss, r) in W && (key, p, r) in W) q[++k] = W[key, p, r] / W[key, ss, r]
        if (k > 0) printf "| %s | %s | %.2f | %d |\n", ss, p, median(q, k), k
      }
    }
    printf "\n"
  }
}' "$RESULTS"
