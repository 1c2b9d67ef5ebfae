#!/usr/bin/env bash
# Packs the package and checks it the way a host app sees it: publint, arethetypeswrong, and a
# smoke test that installs the tarball into fresh ESM and CommonJS projects and imports every
# public name of every subpath. Run after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work="$root/.tmp/package-check"
rm -rf "$work" && mkdir -p "$work"

tarball=$(npm pack --silent --pack-destination "$work" | tail -n1)
echo "packed $tarball"

npx publint --strict "$work/$tarball"
npx attw "$work/$tarball" --format table-flipped

for kind in esm cjs; do
  dir="$work/$kind"
  mkdir -p "$dir"
  if [ "$kind" = esm ]; then type=module; else type=commonjs; fi
  printf '{ "name": "smoke-%s", "private": true, "type": "%s" }\n' "$kind" "$type" >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "$work/$tarball" >/dev/null)
  node "$root/scripts/smoke/import-public-names.mjs" "$dir" "$kind"
done
# The standalone emulator bin starts from the installed tarball and prints its instance URL.
bin="$work/esm/node_modules/.bin/markmail-crm-emulator"
"$bin" --port 0 --json >"$work/bin.out" 2>&1 &
bin_pid=$!
for _ in $(seq 1 80); do grep -q instanceUrl "$work/bin.out" && break; sleep 0.25; done
kill "$bin_pid" 2>/dev/null || true
if grep -q '"instanceUrl":"http://127.0.0.1:' "$work/bin.out"; then
  echo "bin: markmail-crm-emulator started from the tarball"
else
  echo "bin: markmail-crm-emulator did not start:" >&2
  cat "$work/bin.out" >&2
  exit 1
fi
echo "package checks passed"
