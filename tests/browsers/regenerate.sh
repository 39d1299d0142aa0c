#!/usr/bin/env bash
# Records the HAR fixtures of tests/data/har/ again in real browsers, with their truth:
#   1. headless Chromium (the DevTools frontend it ships, and chrome-har) and Firefox ESR (its
#      netmonitor's HAR auto-export) run the pages of common.mjs against `streamscope serve`;
#   2. make-expect.mjs writes each HAR's *.expect.json from the browser's own events (CDP, page JS);
#   3. devtools-har-model.mjs checks the DevTools formulas of docs/recording.md against the HARs;
#   4. only when all of that worked are the files in tests/data/har/ replaced;
#   5. compare.mjs lists what the importer still differs in (target/har-compare/DISCREPANCIES.md);
#   6. check-export.mjs loads HARs written by `streamscope --har` into the real DevTools.
# Then `cargo test --test har_browsers` decides.
#
# Needs: the Debian packages chromium and firefox-esr, node 20 and npm; `npm ci` installs the
# pinned puppeteer-core and chrome-har into tests/browsers/node_modules/ (ignored by git) the
# first time. CI does not run this: the tests read the checked-in files.
#
# usage: tests/browsers/regenerate.sh [--bin PATH-TO-streamscope] [--out DIR]
#   default bin: target/debug/streamscope (built here), default out: tests/data/har
set -euo pipefail
cd "$(dirname "$0")"
REPO=$(cd ../.. && pwd)
BIN=""
OUT="$REPO/tests/data/har"
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN=$(realpath "$2"); shift 2 ;;
    --out) OUT=$(realpath -m "$2"); shift 2 ;;
    *) echo "usage: $0 [--bin PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [ -z "$BIN" ]; then
  (cd "$REPO" && cargo build --bin streamscope)
  BIN="$REPO/target/debug/streamscope"
fi
[ -d node_modules/puppeteer-core ] || npm ci --no-audit --no-fund

STAGE="$REPO/target/browsers/fixtures"
rm -rf "$STAGE" && mkdir -p "$STAGE"
node record-chromium.mjs --bin "$BIN" --out "$STAGE"
node record-firefox.mjs --bin "$BIN" --out "$STAGE"
node make-expect.mjs --dir "$STAGE"
if ! node devtools-har-model.mjs --dir "$STAGE" > "$STAGE/devtools-har-model.txt"; then
  echo "warning: devtools-har-model.mjs found differences, see $STAGE/devtools-har-model.txt" >&2
fi
tail -n 1 "$STAGE/devtools-har-model.txt"

mkdir -p "$OUT"
(cd "$OUT" && rm -f -- *.har *.expect.json *.cdp.json firefox.page.json sources.json devtools-har-model.txt)
cp "$STAGE"/* "$OUT"/
node compare.mjs --bin "$BIN" --dir "$OUT"
node check-export.mjs --bin "$BIN"
echo "fixtures in $OUT; now: cargo test --test har_browsers"
