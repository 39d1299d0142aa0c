#!/usr/bin/env bash
# Installs the third-party peers the interop tests run against (Python packages into a venv, Node
# packages into a folder, both under target/interop/), once: a stamp of the pinned lists says
# whether the install is current. Safe to run concurrently (flock) and again (no-op when current).
#
#   tests/interop/setup.sh          # what .ci/run and the test kit call
#   STREAMSCOPE_INTEROP=/path ...   # install somewhere else
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dest=${STREAMSCOPE_INTEROP:-$root/target/interop}
mkdir -p "$dest"
exec 9>"$dest/.lock"
flock 9
stamp=$(cat "$here/requirements.txt" "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)
if [ -f "$dest/.stamp" ] && [ "$(cat "$dest/.stamp")" = "$stamp" ]; then
  exit 0
fi
start=$(date +%s)
rm -rf "$dest/venv" "$dest/node"
python3 -m venv "$dest/venv"
"$dest/venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt"
mkdir -p "$dest/node"
cp "$here/package.json" "$here/package-lock.json" "$dest/node/"
npm ci --prefix "$dest/node" --silent --no-audit --no-fund
echo "$stamp" > "$dest/.stamp"
echo "interop peers installed in $dest in $(( $(date +%s) - start )) s" >&2
