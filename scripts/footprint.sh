#!/usr/bin/env bash
# Install footprint of the packed package as a host sees it: `npm install` into empty projects,
# one per combination, printing packages installed and disk used. Run after `npm run build`.
# Usage: bash scripts/footprint.sh   (needs the npm registry or a warm npm cache)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/markmail-crm-footprint.XXXXXX")
trap 'rm -rf "$work"' EXIT
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n1)"
version() { node -p "require('$root/node_modules/$1/package.json').version"; }
jsforce="jsforce@$(version jsforce)"
sqlite="better-sqlite3@$(version better-sqlite3)"
soql="@jetstreamapp/soql-parser-js@$(version @jetstreamapp/soql-parser-js)"

measure() { # label packages...
  local label="$1" dir
  shift
  dir=$(mktemp -d "$work/p.XXXXXX")
  echo '{ "name": "footprint", "private": true }' >"$dir/package.json"
  (cd "$dir" && npm install --no-audit --no-fund --prefer-offline --loglevel=error "$@" >/dev/null)
  local count size
  # Every installed package once (npm lists the project itself first).
  count=$(cd "$dir" && npm ls --all --parseable 2>/dev/null | tail -n +2 | sort -u | wc -l)
  size=$(du -sm "$dir/node_modules" | cut -f1)
  printf '| %s | %s | %s MB |\n' "$label" "$count" "$size"
}

echo '| install | packages | node_modules |'
echo '| --- | --- | --- |'
measure 'core only (`@markmail/crm`)' "$tarball"
measure 'core + Salesforce (`jsforce`)' "$tarball" "$jsforce"
measure 'core + Salesforce + SQLite (`better-sqlite3`)' "$tarball" "$jsforce" "$sqlite"
measure 'core + Salesforce + SQLite + emulator (`@jetstreamapp/soql-parser-js`)' "$tarball" "$jsforce" "$sqlite" "$soql"
