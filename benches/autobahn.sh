#!/usr/bin/env bash
# The Autobahn|Testsuite WebSocket client cases against streamscope (docs/resilience.md).
#
# Usage:
#   benches/autobahn.sh                          # every case (517), the release binary
#   CASES='1.* 2.* 9.1.1' benches/autobahn.sh    # a selection (kosoku -i patterns)
#   benches/autobahn.sh CLIENT-CMD ARG...        # another client, with placeholders (below)
#
# What it does:
#   1. installs the fuzzing server when it is missing: kosoku (PyPI, pinned in
#      tests/interop/requirements.txt, a Python 3 port of the Autobahn|Testsuite fuzzing server
#      that runs the original case files) into target/interop/venv, through tests/interop/setup.sh;
#   2. builds the release binary (`cargo build --release --bin streamscope`) unless STREAMSCOPE
#      names one;
#   3. starts `kosoku -m fuzzingserver 127.0.0.1:0` and reads the port it prints;
#   4. runs every selected case with one client process:
#        streamscope --json --echo --no-reconnect [DEFLATE_ARGS] ws://127.0.0.1:PORT/runCase?case=N&agent=streamscope
#      under `timeout CASE_TIMEOUT` (kosoku's own case timeouts reach 1000 s), stdout discarded;
#   5. calls /updateReports (kosoku then writes OUTDIR/index.json and the per-case reports, and
#      exits), and prints a table per section (OK / NON-STRICT / INFORMATIONAL / UNIMPLEMENTED /
#      FAILED / MISSING), the ids of the cases that are not OK, and the case durations of
#      sections 9, 10, 12 and 13 beside tungstenite's published ones
#      (benches/autobahn/tungstenite-client.tsv). The same goes to OUTDIR/summary.md, and per
#      case to OUTDIR/summary.json (read by tests/autobahn.rs);
#   6. with TUNGSTENITE=1, runs the same cases again with tokio-tungstenite as the client
#      (benches/bare_tungstenite.rs --echo, built with `cargo bench --no-run`) into
#      OUTDIR/tungstenite, and shows its verdicts and durations beside streamscope's: the
#      same-machine, same-session baseline for the durations.
#
# A case the client never ran (no report entry) is MISSING; a case whose behavior or close is
# FAILED/UNCLEAN is FAILED; WRONG CODE and FAILED BY CLIENT closes count as NON-STRICT.
#
# Environment:
#   CASES           space-separated case ids or patterns (kosoku -i; default: all). A pattern
#                   with `*` is a regex anchored at the start only: `12.*.1` also matches
#                   12.3.14, write `12.*.1$`. An id without `*` must exist.
#   EXCLUDE         the same, left out (kosoku -x).
#   CASE_TIMEOUT    seconds before one client process is killed (default 120).
#   OUTDIR          reports (default target/autobahn); emptied first.
#   STREAMSCOPE     the binary to test (default: target/release/streamscope, built first).
#   AGENT           agent name in the reports (default streamscope).
#   DEFLATE_ARGS    client arguments added for 12.x and 13.x cases, one per line (the word
#                   `{DEFLATE}` in the command). Those sections need a permessage-deflate offer,
#                   13.2/13.5/13.6 with `client_no_context_takeover` and 13.3-13.6 with
#                   `client_max_window_bits` (kosoku agrees to no_context_takeover only when
#                   offered, unlike the original Autobahn). Default: `--deflate-offer` with
#                   `permessage-deflate; client_no_context_takeover; client_max_window_bits`,
#                   which every 13.x subsection accepts; set it empty for the browsers' offer
#                   (13.2, 13.5 and 13.6 are then UNIMPLEMENTED, not FAILED).
#   ALLOW_FAIL      ids or patterns whose FAILED/MISSING does not fail the run (still listed).
#   VENV            the venv holding kosoku (default target/interop/venv).
#   QUIET=1         no line per case.
#   TUNGSTENITE=1   also run the tokio-tungstenite echo client as a baseline (step 6).
#
# Placeholders in CLIENT-CMD words: {URL} (the case URL), {BASE} (ws://127.0.0.1:PORT), {PORT},
# {CASE} (N within the selection), {ID} (the case id), {AGENT}; a word `{DEFLATE}` becomes the
# DEFLATE_ARGS words for 12.x/13.x and nothing otherwise.
#
# Exit status: 0 when no case is FAILED or MISSING (besides ALLOW_FAIL), 1 otherwise, 2 when the
# harness itself failed (kosoku did not start, did not exit, or served another number of cases).
set -uo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
VENV=${VENV:-$ROOT/target/interop/venv}
OUTDIR=${OUTDIR:-$ROOT/target/autobahn}
CASE_TIMEOUT=${CASE_TIMEOUT:-120}
CASES=${CASES:-}
EXCLUDE=${EXCLUDE:-}
AGENT=${AGENT:-streamscope}
DEFLATE_ARGS=${DEFLATE_ARGS-$'--deflate-offer\npermessage-deflate; client_no_context_takeover; client_max_window_bits'}
ALLOW_FAIL=${ALLOW_FAIL:-}
QUIET=${QUIET:-0}
TUNGSTENITE=${TUNGSTENITE:-0}
HERE=$ROOT/benches/autobahn

log() { printf '[autobahn] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 2
}
now() { printf '%s' "$EPOCHREALTIME"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# The ws_ctl helper: kosoku's control endpoints are WebSocket endpoints; a few lines of stdlib
# Python talk to them (ws_ctl PORT PATH prints the first text message, if any).
ws_ctl() {
  "$PY" - "$1" "$2" <<'PY'
import base64, os, socket, sys
port, path = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port), timeout=30)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
def more():
    global buf
    d = s.recv(65536)
    if not d:
        sys.exit(0)  # /updateReports drops the connection without a close frame
    buf += d
try:
    while b"\r\n\r\n" not in buf:
        more()
    head, _, buf = buf.partition(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        sys.exit(1)
    while True:
        while len(buf) < 2:
            more()
        op, n = buf[0] & 0x0F, buf[1] & 0x7F
        hl = 2 + (2 if n == 126 else 8 if n == 127 else 0)
        while len(buf) < hl:
            more()
        if n >= 126:
            n = int.from_bytes(buf[2:hl], "big")
        while len(buf) < hl + n:
            more()
        payload, buf = buf[hl:hl + n], buf[hl + n:]
        if op == 1:
            print(payload.decode())
            sys.exit(0)
        if op == 8:
            sys.exit(0)
except (ConnectionError, socket.timeout):
    sys.exit(0)
PY
}

server_pid=""
client_pid=""
bg_pid=""
cleanup() {
  if [ -n "$bg_pid" ] && kill -0 "$bg_pid" 2>/dev/null; then
    kill "$bg_pid" 2>/dev/null
    wait "$bg_pid" 2>/dev/null
  fi
  if [ -n "$client_pid" ] && kill -0 "$client_pid" 2>/dev/null; then
    kill "$client_pid" 2>/dev/null # timeout(1) passes it on to the client
    wait "$client_pid" 2>/dev/null
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null
    wait "$server_pid" 2>/dev/null
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Runs a setup command in the background and waits for it: bash runs the INT/TERM trap at once
# during `wait`, but only after a foreground child ends (and the child would outlive the script).
waited() {
  "$@" &
  bg_pid=$!
  wait "$bg_pid"
  local rc=$?
  bg_pid=""
  return "$rc"
}

# run_suite AGENT DIR CMD...: one kosoku run of the selected cases with CMD as the client, the
# reports in DIR (emptied first), per-case exit status and seconds in DIR/client-timings.tsv.
run_suite() {
  local agent=$1 dir=$2
  shift 2
  rm -rf "$dir"
  mkdir -p "$dir"
  local kargs=(-m fuzzingserver 127.0.0.1:0 -o "$dir") c
  # set -f: "1.*" must reach kosoku as a pattern, not be expanded against file names.
  set -f
  for c in $CASES; do kargs+=(-i "$c"); done
  for c in $EXCLUDE; do kargs+=(-x "$c"); done
  set +f
  "$VENV/bin/kosoku" "${kargs[@]}" >"$dir/kosoku.log" 2>&1 &
  server_pid=$!
  local port="" _
  for _ in $(seq 1 200); do
    port=$(sed -n 's#.*fuzzingserver listening on ws://[^:]*:\([0-9][0-9]*\).*#\1#p' "$dir/kosoku.log" | head -n1)
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.05
  done
  if [ -z "$port" ]; then
    cat "$dir/kosoku.log" >&2
    die "kosoku did not start"
  fi
  local base="ws://127.0.0.1:$port" count
  count=$(ws_ctl "$port" /getCaseCount) || die "/getCaseCount failed"
  [ "$count" = "${#ids[@]}" ] || die "kosoku serves '$count' cases, the selection has ${#ids[@]}"
  log "kosoku on $base: $count case(s) (CASES='${CASES:-all}' EXCLUDE='$EXCLUDE'), reports in $dir"
  log "client: $*"

  local timings=$dir/client-timings.tsv n id url w rc t0 t1 cmd
  printf 'case\trc\tseconds\n' >"$timings"
  local t_cases
  t_cases=$(now)
  for n in $(seq 1 "$count"); do
    id=${ids[$((n - 1))]}
    url="$base/runCase?case=$n&agent=$agent"
    cmd=()
    for w in "$@"; do
      if [ "$w" = "{DEFLATE}" ]; then
        case $id in 12.* | 13.*) cmd+=("${deflate_words[@]}") ;; esac
        continue
      fi
      # Quoted replacements: bash 5.2 expands "&" in a ${var//pat/rep} replacement to the match.
      w=${w//\{URL\}/"$url"}
      w=${w//\{BASE\}/"$base"}
      w=${w//\{PORT\}/"$port"}
      w=${w//\{CASE\}/"$n"}
      w=${w//\{ID\}/"$id"}
      w=${w//\{AGENT\}/"$agent"}
      cmd+=("$w")
    done
    t0=$(now)
    printf '=== case %s (%s)\n' "$id" "$n" >>"$dir/client.log"
    # In the background and waited for: bash runs the INT/TERM trap at once during `wait`, but
    # only after a foreground child ends.
    timeout -k 5 "$CASE_TIMEOUT" "${cmd[@]}" </dev/null >/dev/null 2>>"$dir/client.log" &
    client_pid=$!
    wait "$client_pid"
    rc=$?
    client_pid=""
    t1=$(now)
    printf '%s\t%s\t%s\n' "$id" "$rc" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" >>"$timings"
    if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
      log "case $id ($n/$count): client killed after ${CASE_TIMEOUT}s"
    elif [ "$QUIET" != 1 ]; then
      log "case $id ($n/$count): exit $rc, $(secs "$t0" "$t1")s"
    fi
    kill -0 "$server_pid" 2>/dev/null || die "kosoku exited during case $id"
  done
  local t_done
  t_done=$(now)

  ws_ctl "$port" "/updateReports?agent=$agent" >/dev/null
  for _ in $(seq 1 600); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$server_pid" 2>/dev/null && die "kosoku did not exit after /updateReports"
  wait "$server_pid" 2>/dev/null
  server_pid=""
  # kosoku writes no index.json when no case reached it; every case is then MISSING.
  [ -f "$dir/index.json" ] || echo '{}' >"$dir/index.json"
  log "$agent: cases $(secs "$t_cases" "$t_done")s, reports $(secs "$t_done" "$(now)")s"
}

t_start=$(now)
if [ ! -x "$VENV/bin/kosoku" ]; then
  log "installing the fuzzing server (tests/interop/setup.sh)"
  waited tests/interop/setup.sh || die "tests/interop/setup.sh failed"
fi
[ -x "$VENV/bin/kosoku" ] || die "no kosoku in $VENV"
PY=$VENV/bin/python

if [ "$#" -eq 0 ]; then
  if [ -z "${STREAMSCOPE:-}" ]; then
    waited cargo build --release --quiet --bin streamscope || die "cargo build --release failed"
    STREAMSCOPE=$ROOT/target/release/streamscope
  fi
  set -- "$STREAMSCOPE" --json --echo --no-reconnect '{DEFLATE}' '{URL}'
fi
mapfile -t deflate_words < <(printf '%s' "$DEFLATE_ARGS" | sed '/^$/d')
mapfile -t ids < <("$PY" "$HERE/summary.py" select "$CASES" "$EXCLUDE") ||
  die "cannot list the selected cases"
[ "${#ids[@]}" -gt 0 ] || die "no case matches CASES='$CASES' EXCLUDE='$EXCLUDE'"
log "setup $(secs "$t_start" "$(now)")s"

run_suite "$AGENT" "$OUTDIR" "$@"
baseline=""
if [ "$TUNGSTENITE" = 1 ]; then
  waited cargo bench --no-run --quiet --bench bare_tungstenite ||
    die "could not build benches/bare_tungstenite.rs"
  tung=$(cargo bench --no-run --bench bare_tungstenite --message-format=json 2>/dev/null |
    sed -n 's/.*"executable":"\([^"]*bare_tungstenite[^"]*\)".*/\1/p' | tail -1)
  [ -x "$tung" ] || die "could not build benches/bare_tungstenite.rs"
  baseline=$OUTDIR/tungstenite
  # Not under $OUTDIR's emptying: run_suite empties only its own directory.
  run_suite tungstenite "$baseline" "$tung" --echo '{URL}'
fi
log "total $(secs "$t_start" "$(now)")s"

set -f
"$PY" "$HERE/summary.py" report "$OUTDIR" "$AGENT" "$OUTDIR/client-timings.tsv" "$CASES" "$EXCLUDE" \
  "$ALLOW_FAIL" "$HERE/tungstenite-client.tsv" "$baseline"
