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
echo "package checks passed"
