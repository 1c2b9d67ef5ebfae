#!/usr/bin/env bash
# Packs the package and checks it the way a host app sees it: publint, arethetypeswrong, then the
# built tarball at run time, installed into fresh projects:
#   esm / cjs  every subpath in package.json `exports` (so new subpaths are covered without edits
#              here), an engine push to the emulator on every storage adapter (memory, SQLite with
#              both drivers, PostgreSQL through PGlite), and the emulator bin;
#   bare       no optional peers: each feature names the package to install.
# Run after `npm run build`. Runs on whichever `node` is first on PATH (CI also runs it on the
# Node floor, see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# Outside the repo: Node resolves packages up the directory tree, and the repo's own node_modules
# would hide a missing dependency.
work=$(mktemp -d "${TMPDIR:-/tmp}/markmail-crm-package-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "node $(node -v)"

tarball=$(npm pack --silent --pack-destination "$work" | tail -n1)
echo "packed $tarball"

if [ "${SKIP_LINTERS:-}" != 1 ]; then
  npx publint --strict "$work/$tarball"
  npx attw "$work/$tarball" --format table-flipped
fi

# The optional peers and PGlite, at the versions this repo tests with.
peer() { printf '%s@%s' "$1" "$(node -p "require('$root/node_modules/$1/package.json').version")"; }
peers=("$(peer jsforce)" "$(peer @jetstreamapp/soql-parser-js)" "$(peer better-sqlite3)" "$(peer pg)" "$(peer @electric-sql/pglite)")

project() { # kind type packages...
  local dir="$work/$1" type="$2"
  shift 2
  mkdir -p "$dir"
  printf '{ "name": "smoke-%s", "private": true, "type": "%s" }\n' "$(basename "$dir")" "$type" >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@" >/dev/null)
  cp "$root"/scripts/smoke/*.{mjs,cjs,json} "$dir/"
}

project esm module "$work/$tarball" "${peers[@]}"
(cd "$work/esm" && node run-esm.mjs)
project cjs commonjs "$work/$tarball" "${peers[@]}"
(cd "$work/cjs" && node run-cjs.cjs)
project bare module "$work/$tarball"
(cd "$work/bare" && node missing-peers.mjs)
echo "package checks passed"
