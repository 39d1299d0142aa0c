#!/usr/bin/env bash
# Throughput of `streamscope --json` against its peers on a NEUTRAL server (benches/neutral/server.py:
# Python, standard library, precomputed bytes, shares no code with streamscope) in every body shape,
# and on the embedded firehose for comparison. Loopback only. See docs/performance.md, "Round three".
#
# Usage: benches/neutral.sh [ROUNDS]          (default 5 rounds: 9.5-11 minutes on 2 cores at a load
#                                             of 10-11 from other builds; less on a quiet machine)
#
# What it does:
#   1. builds once: `cargo build --release --bin streamscope`, the std-only bare counting client
#      (benches/bare_client.rs, rustc -O) and the tokio-tungstenite counting client
#      (benches/bare_tungstenite.rs, `cargo bench --no-run`); installs eventsource-parser@3 into
#      target/bench-node/ with npm when it is not there (as benches/e2e.sh does);
#   2. starts the neutral server and `streamscope serve --port 0` (the embedded firehose);
#   3. for each case N x S and each source (below), one untimed round: the neutral server's byte
#      stream is checked by benches/neutral/check.py (framing, N events/frames, ids, JSON, sizes;
#      this also makes the server build and cache the body), and every client's message count is
#      checked (and streamscope's output must hold no error record); then ROUNDS rounds run every
#      client once each, alternating, so the machine's noise hits all of them alike;
#   4. measures wall time with bash's $EPOCHREALTIME and CPU (user+sys) and peak RSS with
#      /usr/bin/time, and prints per source: medians, and the ratio peer wall / streamscope wall
#      taken per round, median (min-max) (>1: streamscope is faster); also the ratio of CPU times
#      (user+sys), which a loaded machine disturbs less than wall time.
#
# Sources: the neutral server's SSE in each SHAPE (close: until the server closes, no framing;
# chunk-event: chunked, one event per chunk; chunk-64k: chunked, 65,536-byte chunks; length:
# Content-Length), with `id: N` lines and without; its JSON lines (`jsonl`: /jsonl, the same payloads
# one per line, application/x-ndjson, body until close); its WebSocket (unmasked text frames, close 1000);
# and the embedded firehose (`/firehose/sse`, `/firehose/ws`: `x` payloads, no ids; the WebSocket
# with `deflate=off`, as benches/e2e.sh reads it: websocat offers no permessage-deflate, so with
# it on only streamscope would be inflating; compression has its own script, benches/deflate.sh).
# Neutral payloads are JSON objects of exactly S bytes with 14 quotes (a market-feed shape).
#
# Clients: streamscope --json --count N --no-reconnect (every source); SSE: Node 20 +
# eventsource-parser 3 (fetch body -> TextDecoder -> createParser, counting onEvent:
# benches/neutral/count_sse.mjs), curl -sN (byte copy, the ceiling), the bare client; JSON lines: Node
# 20 (fetch body -> TextDecoder -> split on LF -> JSON.parse each line, counting:
# benches/neutral/count_jsonl.mjs), curl -sN; WS: websocat
# -t --no-close (only when installed: `cargo install websocat@1.14.1 --locked`, ~20 min of both
# cores here; this script never installs it), the tokio-tungstenite counting client, the bare client.
#
# Output: every client's stdout goes to one file in a fresh directory on /dev/shm (tmpfs: an
# in-memory file, as the issue's figures used), deleted after each run outside the timed part.
# This charges each client for the copy of what it prints (streamscope's JSON lines are ~2.5x the
# body) as a pipe into a file would; /dev/null would hide that cost. OUT=null sends it to /dev/null.
#
# Environment:
#   CASES="1000000:100 100000:1000"                 N:S pairs (S >= 80 for the neutral server)
#   SHAPES="close chunk-event chunk-64k length"     neutral SSE body shapes
#   IDS="1 0"                                       with `id:` lines (1), without (0)
#   SOURCES="sse ws embedded"                       which groups to run (also: jsonl)
#   OUT=shm | null                                  where clients' stdout goes (default shm)
#   CHECK=1                                         0 skips check.py (counts are still checked)
#   BASELINE=/path/to/streamscope                   also run an older build as "base"
#   RUN_TIMEOUT=60                                  seconds allowed for any one run
#   REPORT=target/neutral-results.txt               only print the tables of an earlier run
#                                                   (several files: their rounds pooled)
#
# Raw runs: target/neutral-results.txt; the full per-client table: target/neutral-full.md. Every run
# is bounded by `timeout`; both servers are killed on exit. Absolute figures depend on the machine
# and its load (printed): compare ratios from one session, not times across sessions.
set -euo pipefail

ROUNDS=${1:-5}
CASES=${CASES:-"1000000:100 100000:1000"}
SHAPES=${SHAPES:-"close chunk-event chunk-64k length"}
IDS=${IDS:-"1 0"}
SOURCES=${SOURCES:-"sse ws embedded"}
OUT=${OUT:-shm}
CHECK=${CHECK:-1}
RUN_TIMEOUT=${RUN_TIMEOUT:-60}
cd "$(dirname "$0")/.."
ROOT=$(pwd)
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}

# Report. Rows: one per source; per client the median rate (M messages/s), and for each peer the
# per-round ratio peer wall / streamscope wall, median (min-max).
# Usage: report FULL RESULTS_FILE... (FULL=1: one row per client).
report() {
  awk -v full="$1" '
function median(arr, k,    i, j, t, a) {
  for (i = 1; i <= k; i++) a[i] = arr[i]
  for (i = 2; i <= k; i++) { t = a[i]; j = i - 1; while (j >= 1 && a[j] > t) { a[j + 1] = a[j]; j-- } a[j + 1] = t }
  return (k % 2) ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
}
function label(scn,    p) {
  split(scn, p, ":")
  if (p[1] == "sse") return "neutral SSE " p[2] (p[3] == 1 ? ", id" : ", no id")
  if (p[1] == "ws") return "neutral WS"
  if (p[1] == "jsonl") return "neutral JSON lines"
  if (p[1] == "esse") return "embedded firehose SSE"
  return "embedded firehose WS"
}
function stat(key, c, what,    k, j, v) {
  k = nc[key, c]
  for (j = 1; j <= k; j++) v[j] = val[key, c, j, what]
  return median(v, k)
}
function ratio(key, c, m,    r, k, q, lo, hi) {
  k = 0
  for (r = 1; r <= maxr; r++) if ((key, c, r, m) in W && (key, "streamscope", r, m) in W) q[++k] = W[key, c, r, m] / W[key, "streamscope", r, m]
  if (k == 0) return "-"
  lo = q[1]; hi = q[1]
  for (r = 1; r <= k; r++) { if (q[r] < lo) lo = q[r]; if (q[r] > hi) hi = q[r] }
  return sprintf("**%.2f** (%.2f-%.2f)", median(q, k), lo, hi)
}
# Several files pool their rounds: the rounds of each are numbered after those of the one before.
FNR == 1 { off = maxr }
{
  key = $1 " " $2 " " $3; c = $4; r = $5 + off
  ck = $1 " " $2
  if (!(ck in seenc)) { seenc[ck] = 1; cases[++ncases] = ck }
  if (!(key in seen)) { seen[key] = 1; scns[ck, ++nscn[ck]] = $3 }
  if (!((key, c) in nc)) { cl[key, ++ncl[key]] = c }
  k = ++nc[key, c]
  w = ($6 > 0.001 ? $6 : 0.001)
  val[key, c, k, "wall"] = w; val[key, c, k, "cpu"] = $7 + $8; val[key, c, k, "rss"] = $9 / 1024
  W[key, c, r, "wall"] = w
  W[key, c, r, "cpu"] = ($7 + $8 > 0.005 ? $7 + $8 : 0.005)
  if (r > maxr) maxr = r
}
END {
  for (ci = 1; ci <= ncases; ci++) {
    ck = cases[ci]; split(ck, ns, " "); n = ns[1]; s = ns[2]
    printf "### %d x %d B\n\n", n, s
    for (proto = 0; proto < 3; proto++) {
      hdr = ""
      for (si = 1; si <= nscn[ck]; si++) {
        scn = scns[ck, si]; key = ck " " scn
        group = (scn ~ /^e?ws:/) ? 1 : (scn ~ /^jsonl:/) ? 2 : 0
        if (group != proto) continue
        if (full) {
          if (hdr == "") { hdr = 1; printf "| source | client | wall s | M msg/s | CPU s | peak RSS MB | peer wall / streamscope wall | peer CPU / streamscope CPU |\n|---|---|---|---|---|---|---|---|\n" }
          for (i = 1; i <= ncl[key]; i++) {
            c = cl[key, i]; mw = stat(key, c, "wall")
            printf "| %s | %s | %.3f | %.2f | %.2f | %.1f | %s | %s |\n", label(scn), c, mw, n / mw / 1e6, stat(key, c, "cpu"), stat(key, c, "rss"), (c == "streamscope" ? "" : ratio(key, c, "wall")), (c == "streamscope" ? "" : ratio(key, c, "cpu"))
          }
          continue
        }
        if (hdr == "") {
          hdr = "| source | streamscope M/s | CPU s | RSS MB |"; sep = "|---|---|---|---|"
          for (i = 2; i <= ncl[key]; i++) {
            hdr = hdr " " cl[key, i] " M/s | vs " cl[key, i] " |"; sep = sep "---|---|"
            if (i == 2) { hdr = hdr " CPU vs " cl[key, i] " |"; sep = sep "---|" }
          }
          hdr = hdr " " cl[key, 2] " RSS MB |"; sep = sep "---|"
          print hdr; print sep
        }
        mw = stat(key, "streamscope", "wall")
        line = sprintf("| %s | %.2f | %.2f | %.0f |", label(scn), n / mw / 1e6, stat(key, "streamscope", "cpu"), stat(key, "streamscope", "rss"))
        for (i = 2; i <= ncl[key]; i++) {
          c = cl[key, i]; line = line sprintf(" %.2f | %s |", n / stat(key, c, "wall") / 1e6, ratio(key, c, "wall"))
          if (i == 2) line = line sprintf(" %s |", ratio(key, c, "cpu"))
        }
        line = line sprintf(" %.0f |", stat(key, cl[key, 2], "rss"))
        print line
      }
      if (hdr != "") printf "\n"
    }
  }
}' "${@:2}"
}

# REPORT=FILE: only print the tables of an earlier run's raw results (e.g. target/neutral-results.txt);
# REPORT="FILE FILE..." pools the rounds of several runs of the same build (a longer series).
if [ -n "${REPORT:-}" ]; then
  # shellcheck disable=SC2086 # one word per file
  report 0 $REPORT
  # shellcheck disable=SC2086
  report 1 $REPORT
  exit 0
fi

[ -x /usr/bin/time ] || { echo "neutral.sh: /usr/bin/time is needed (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "neutral.sh: python3 is needed" >&2; exit 2; }
case $OUT in shm | null) ;; *) echo "neutral.sh: OUT is shm or null" >&2; exit 2 ;; esac

echo "== building (release) ==" >&2
cargo build --release --bin streamscope >&2
SS=$TARGET/release/streamscope
BARE=$TARGET/release/bare_client
if [ ! -x "$BARE" ] || [ benches/bare_client.rs -nt "$BARE" ]; then
  rustc -O --edition 2024 -o "$BARE" benches/bare_client.rs
fi
TUNG=$(cargo bench --no-run --bench bare_tungstenite --message-format=json 2>/dev/null |
  sed -n 's/.*"executable":"\([^"]*bare_tungstenite[^"]*\)".*/\1/p' | tail -1)
[ -x "$TUNG" ] || { echo "neutral.sh: could not build benches/bare_tungstenite.rs" >&2; exit 1; }

NODE_DIR=$TARGET/bench-node
HAVE_NODE=0
if command -v node >/dev/null && command -v npm >/dev/null; then
  if [ ! -d "$NODE_DIR/node_modules/eventsource-parser" ]; then
    echo "== npm install eventsource-parser@3 into $NODE_DIR ==" >&2
    mkdir -p "$NODE_DIR"
    (cd "$NODE_DIR" && timeout 300 npm install --silent --no-audit --no-fund eventsource-parser@3 >&2)
  fi
  # Node resolves the import from the script's own directory: run a copy beside node_modules.
  cp benches/neutral/count_sse.mjs "$NODE_DIR/neutral_count_sse.mjs"
  HAVE_NODE=1
else
  echo "note: node/npm not found, skipping Node + eventsource-parser" >&2
fi

WEBSOCAT=$(command -v websocat || true)
[ -z "$WEBSOCAT" ] && [ -x "$HOME/.cargo/bin/websocat" ] && WEBSOCAT=$HOME/.cargo/bin/websocat
[ -z "$WEBSOCAT" ] && echo "note: websocat not installed, skipping it (cargo install websocat@1.14.1 --locked)" >&2

# Work files (and the clients' output) on tmpfs.
WORK=$(mktemp -d /dev/shm/neutral.XXXXXX)
NEUTRAL_PID=
EMBEDDED_PID=
cleanup() {
  [ -n "$NEUTRAL_PID" ] && kill "$NEUTRAL_PID" 2>/dev/null || true
  [ -n "$EMBEDDED_PID" ] && kill "$EMBEDDED_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
if [ "$OUT" = shm ]; then SINK=$WORK/sink; else SINK=/dev/null; fi

python3 benches/neutral/server.py >"$WORK/neutral.out" 2>"$WORK/neutral.err" &
NEUTRAL_PID=$!
"$SS" serve --port 0 >"$WORK/serve.out" 2>&1 &
EMBEDDED_PID=$!
PORT=
ADDR=
for _ in $(seq 100); do
  PORT=$(head -1 "$WORK/neutral.out")
  ADDR=$(sed -n 's#.*http://\(127\.0\.0\.1:[0-9]*\)/.*#\1#p' "$WORK/serve.out" | head -1)
  [ -n "$PORT" ] && [ -n "$ADDR" ] && break
  sleep 0.1
done
[ -n "$PORT" ] || { echo "neutral.sh: the neutral server did not start:" >&2; cat "$WORK/neutral.err" >&2; exit 1; }
[ -n "$ADDR" ] || { echo "neutral.sh: the embedded server did not start:" >&2; cat "$WORK/serve.out" >&2; exit 1; }

# The sources to run: "kind:shape:ids" (kind: sse, ws, esse, ews).
SCENARIOS=
for g in $SOURCES; do
  case $g in
    sse) for sh in $SHAPES; do for i in $IDS; do SCENARIOS="$SCENARIOS sse:$sh:$i"; done; done ;;
    ws) SCENARIOS="$SCENARIOS ws:-:-" ;;
    jsonl) SCENARIOS="$SCENARIOS jsonl:-:-" ;;
    embedded) SCENARIOS="$SCENARIOS esse:-:- ews:-:-" ;;
    *) echo "neutral.sh: unknown source group $g (sse, ws, jsonl, embedded)" >&2; exit 2 ;;
  esac
done
echo "== neutral server on 127.0.0.1:$PORT, embedded on $ADDR; $ROUNDS rounds; cases: $CASES; output: $OUT ==" >&2

# The URL of scenario $1 for N=$2 S=$3.
url_of() {
  local kind shape ids
  IFS=: read -r kind shape ids <<<"$1"
  case $kind in
    sse) echo "http://127.0.0.1:$PORT/sse?shape=$shape&ids=$ids&n=$2&size=$3" ;;
    ws) echo "ws://127.0.0.1:$PORT/ws?n=$2&size=$3" ;;
    jsonl) echo "http://127.0.0.1:$PORT/jsonl?n=$2&size=$3" ;;
    esse) echo "http://$ADDR/firehose/sse?n=$2&size=$3" ;;
    ews) echo "ws://$ADDR/firehose/ws?n=$2&size=$3&deflate=off" ;;
  esac
}

# Clients of a scenario, streamscope first; the first peer is the parsing peer the targets name.
clients_of() {
  case ${1%%:*} in
    sse | esse) echo "streamscope node curl bare base" ;;
    ws | ews) echo "streamscope websocat tungstenite bare base" ;;
    jsonl) echo "streamscope node curl base" ;;
  esac
}

# The command line of client $1 on URL $2 for N=$3 (empty when the client is unavailable).
client_cmd() {
  case $1 in
    node) [ "$HAVE_NODE" = 1 ] && case $2 in
      */jsonl\?*) echo "node benches/neutral/count_jsonl.mjs $2" ;;
      *) echo "node $NODE_DIR/neutral_count_sse.mjs $2" ;;
    esac ;;
    streamscope) echo "$SS --json --count $3 --no-reconnect $2" ;;
    base) [ -n "${BASELINE:-}" ] && echo "$BASELINE --json --count $3 --no-reconnect $2" ;;
    curl) echo "curl -sN $2" ;;
    bare) echo "$BARE $2" ;;
    tungstenite) echo "$TUNG $2" ;;
    websocat) [ -n "$WEBSOCAT" ] && echo "$WEBSOCAT -t --no-close $2" ;;
  esac
  return 0
}

# Message count client $1 reports in its output file $2 (for the source kind $3).
count_of() {
  [ "$1:$3" = curl:jsonl ] && { wc -l <"$2"; return; }
  case $1 in
    streamscope | base) grep -c -E '"kind":"(event|message)"' "$2" || true ;;
    bare | tungstenite) cut -d' ' -f1 "$2" ;;
    node) cat "$2" ;;
    websocat) wc -l <"$2" ;;
    curl) grep -c '^data:' "$2" || true ;;
  esac
}

RESULTS=$WORK/results
LOADS=$WORK/loads
: >"$RESULTS"
: >"$LOADS"
START=$(date -u +%Y-%m-%dT%H:%MZ)
for case_ in $CASES; do
  n=${case_%%:*}
  s=${case_##*:}
  for scn in $SCENARIOS; do
    url=$(url_of "$scn" "$n" "$s")
    # Untimed check round.
    if [ "$CHECK" = 1 ]; then
      IFS=: read -r kind shape ids <<<"$scn"
      case $kind in
        sse) python3 benches/neutral/check.py sse "$PORT" "$shape" "$n" "$s" "$ids" >&2 ;;
        ws) python3 benches/neutral/check.py ws "$PORT" "$n" "$s" >&2 ;;
        jsonl) python3 benches/neutral/check.py jsonl "$PORT" "$n" "$s" >&2 ;;
      esac
    fi
    for c in $(clients_of "$scn"); do
      cmd=$(client_cmd "$c" "$url" "$n")
      [ -z "$cmd" ] && continue
      # shellcheck disable=SC2086
      timeout "$RUN_TIMEOUT" $cmd </dev/null >"$WORK/check" 2>"$WORK/err" || true
      got=$(count_of "$c" "$WORK/check" "${scn%%:*}")
      errors=0
      case $c in streamscope | base) errors=$(grep -c '"kind":"error"' "$WORK/check" || true) ;; esac
      if [ "$got" != "$n" ] || [ "$errors" != 0 ]; then
        echo "neutral.sh: $c counted $got of $n messages ($errors error records) on $url:" >&2
        grep '"kind":"error"' "$WORK/check" | head -3 >&2 || true
        head -c 500 "$WORK/err" >&2
        exit 1
      fi
      rm -f "$WORK/check"
    done
    for r in $(seq "$ROUNDS"); do
      for c in $(clients_of "$scn"); do
        cmd=$(client_cmd "$c" "$url" "$n")
        [ -z "$cmd" ] && continue
        t0=$EPOCHREALTIME
        # shellcheck disable=SC2086
        if ! /usr/bin/time -f '%U %S %M' -o "$WORK/time" timeout "$RUN_TIMEOUT" $cmd </dev/null >"$SINK" 2>"$WORK/err"; then
          echo "neutral.sh: $c failed on $url (round $r):" >&2
          head -c 500 "$WORK/err" >&2
          exit 1
        fi
        t1=$EPOCHREALTIME
        [ "$OUT" = shm ] && rm -f "$SINK"
        wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
        echo "$n $s $scn $c $r $wall $(tail -1 "$WORK/time")" >>"$RESULTS"
      done
      cut -d' ' -f1 /proc/loadavg >>"$LOADS"
    done
    echo "done: N=$n S=$s $scn (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  done
done

cp "$RESULTS" "$TARGET/neutral-results.txt"
LOAD=$(sort -n "$LOADS" | awk '{ a[NR] = $1 } END { printf "1-min load while running: median %.2f, max %.2f", a[int((NR + 1) / 2)], a[NR] }')
HEADER="neutral: $START to $(date -u +%H:%MZ), $(nproc) cores, $ROUNDS rounds, medians; output to $OUT; $LOAD"


{
  echo "$HEADER"
  echo
  echo "Per source: median rate (M messages/s), and per peer the ratio peer wall / streamscope wall"
  echo "taken per round, median (min-max); above 1: streamscope is faster. \"CPU vs\": the same ratio of"
  echo "user+sys CPU time against the parsing peer (steadier than wall time on a loaded machine)."
  echo
  report 0 "$RESULTS"
} | tee "$TARGET/neutral-report.md"
{
  echo "$HEADER"
  echo
  report 1 "$RESULTS"
} >"$TARGET/neutral-full.md"
echo "(full per-client table: target/neutral-full.md; raw runs: target/neutral-results.txt)"
