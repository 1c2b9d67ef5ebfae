#!/usr/bin/env bash
# Packs the package and checks it the way a host app sees it: publint, arethetypeswrong, then the
# built tarball at run time, installed into fresh projects:
#   esm / cjs  every subpath in package.json `exports` (so new subpaths are covered without edits
#              here), an engine push to the emulator on every storage adapter (memory, SQLite with
#              both drivers, PostgreSQL through PGlite), and the emulator bin;
#   names      the built .d.ts/.d.cts and ESM/CJS files export exactly the names of the API
#              snapshots in api/ (a bundler can drop a name the sources export);
#   README     every ```ts block type-checks against the built types (scripts/readme-types);
#   bare       no optional peers: each feature names the package to install;
#   old Node   with a Node older than the floor (OLD_NODE, default /usr/bin/node when it is older),
#              every subpath fails at import with the one-line "needs Node.js <floor>" error.
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

# The names come from the same dist/ whatever the Node: checked once (not again on the floor run).
if [ "${SKIP_LINTERS:-}" != 1 ]; then
  npx tsx "$root/scripts/api-surface.ts" --check-dist
fi
node "$root/scripts/readme-types/check.mjs"

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

floor=$(node -p "require('$root/package.json').engines.node.replace(/^>=/, '')")
old_node="${OLD_NODE:-/usr/bin/node}"
if [ -x "$old_node" ] && [ "$("$old_node" -p "const a=process.versions.node.split('.').map(Number),b='$floor'.split('.').map(Number);a[0]-b[0]||a[1]-b[1]||a[2]-b[2]")" -lt 0 ]; then
  for key in $(node -p "Object.keys(require('$work/bare/node_modules/@markmail/crm/package.json').exports).filter(k => k !== './package.json').join(' ')"); do
    specifier="@markmail/crm${key#.}"
    for how in import require; do
      if [ "$how" = import ]; then code="import('$specifier').then(() => process.exit(3), (e) => { console.log(e.message); process.exit(1); })"
      else code="try { require('$specifier'); process.exit(3) } catch (e) { console.log(e.message); process.exit(1) }"; fi
      message=$(cd "$work/bare" && "$old_node" -e "$code" 2>&1 || true)
      expected="@markmail/crm needs Node.js $floor or newer; this process runs Node.js $("$old_node" -p process.versions.node)"
      if [ "$message" != "$expected" ]; then
        echo "old Node: $how('$specifier') on $("$old_node" -v) did not fail with the floor message:" >&2
        echo "$message" >&2
        exit 1
      fi
    done
  done
  echo "old Node ($("$old_node" -v)): every subpath, imported and required, fails with: $expected"
else
  echo "old Node: no Node older than $floor at OLD_NODE=${OLD_NODE:-/usr/bin/node}; skipped"
fi
echo "package checks passed"
