# shellcheck shell=bash
# Installs the official Salesforce CLI (@salesforce/cli, pinned) into a cached prefix and exports
# SF_CLI_BIN plus the environment that keeps it offline, quiet and out of the user's home.
#
# Sourced by .ci/run (set -euo pipefail there), so this file must never exit or fail the caller:
# on any problem it prints a warning and leaves SF_CLI_BIN unset. The emulator's CLI test then
# fails loudly when CI=true (so a broken install is visible) and skips with a reason locally.
#
# Usage: `source scripts/install-sf-cli.sh` (or `bash scripts/install-sf-cli.sh` to only install).
# Needs Node >= 22 first on PATH (.ci/run arranges it).

markmail_install_sf_cli() {
  local version="${MARKMAIL_SF_CLI_VERSION:-2.150.6}"
  local prefix="${MARKMAIL_SF_CLI_PREFIX:-${HOME:-/tmp}/.cache/markmail-crm/sf-cli-${version}}"
  local bin="$prefix/node_modules/.bin/sf"
  local installed=""

  if [ -f "$prefix/node_modules/@salesforce/cli/package.json" ]; then
    installed=$(node -p "require('$prefix/node_modules/@salesforce/cli/package.json').version" 2>/dev/null || true)
  fi
  if [ "$installed" != "$version" ] || [ ! -x "$bin" ]; then
    echo "Installing @salesforce/cli@$version into $prefix"
    mkdir -p "$prefix" || { echo "WARNING: cannot create $prefix; sf CLI tests will not run" >&2; return 0; }
    # --ignore-scripts: the CLI's postinstall only links plugins and phones home; it is not needed.
    if ! npm install --prefix "$prefix" --no-save --no-package-lock --no-audit --no-fund \
      --ignore-scripts --loglevel=error "@salesforce/cli@$version" >"$prefix/install.log" 2>&1; then
      echo "WARNING: installing @salesforce/cli@$version failed (see $prefix/install.log); sf CLI tests will not run" >&2
      tail -n 20 "$prefix/install.log" >&2 || true
      return 0
    fi
  else
    echo "@salesforce/cli@$version already installed in $prefix"
  fi
  if [ ! -x "$bin" ]; then
    echo "WARNING: $bin missing after install; sf CLI tests will not run" >&2
    return 0
  fi

  export SF_CLI_BIN="$bin"
  # Offline and quiet: no telemetry, no update checks, no plugin auto-install prompts.
  export SF_DISABLE_TELEMETRY=true
  export SFDX_DISABLE_TELEMETRY=true
  export SF_AUTOUPDATE_DISABLE=true
  export SFDX_AUTOUPDATE_DISABLE=true
  export SF_SKIP_NEW_VERSION_CHECK=true
  export SF_HIDE_RELEASE_NOTES=true
  export SF_HIDE_RELEASE_NOTES_FOOTER=true
  export SF_DISABLE_AUTOUPDATE=true
  # A throwaway HOME so this check leaves no ~/.sf behind (the tests use their own too).
  local probe_home
  probe_home=$(mktemp -d 2>/dev/null || echo /tmp)
  echo "sf CLI: $(HOME="$probe_home" timeout 120 "$bin" --version 2>/dev/null | head -n 1 || echo 'version unknown')"
  [ "$probe_home" = /tmp ] || rm -rf "$probe_home"
  return 0
}

# `set -u` safe, and never propagates a failure to the sourcing shell.
markmail_install_sf_cli || true
unset -f markmail_install_sf_cli
