#!/usr/bin/env bash
# Installs what the end-to-end tests need, and nothing when it is all there already:
# - Debian packages: chromium (the browser playwright-core drives) and the build dependencies of
#   code-server's native modules, plus ripgrep (seeds @vscode/ripgrep, which would download from GitHub);
# - code-server (VS Code server + web workbench) into .e2e/code-server, from the npm registry only.
# A missing prerequisite that cannot be installed is an error (exit 1), never a skip.
# See ../shared/notes/offline-install.md for why each step is needed.
set -euo pipefail

CODE_SERVER_VERSION="4.100.3"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
PREFIX="$ROOT/.e2e/code-server"
MARKER="$PREFIX/.installed-$CODE_SERVER_VERSION"
APT_PACKAGES=(chromium ripgrep libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev pkg-config)

log() { echo "e2e setup: $*" >&2; }
die() { echo "e2e setup: ERROR: $*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then sudo "$@"
  else die "needs root to run: $* (install these packages: ${APT_PACKAGES[*]})"
  fi
}

install_apt_packages() {
  local missing=()
  for package in "${APT_PACKAGES[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$package")
    fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then return; fi
  command -v apt-get >/dev/null || die "apt-get not found; install: ${missing[*]}"
  log "installing Debian packages: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

code_server_installed() {
  [ -f "$MARKER" ] && [ -x "$PREFIX/node_modules/.bin/code-server" ]
}

# @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache holds the release archive:
# os.tmpdir()/vscode-ripgrep-cache-<package version>/ripgrep-<tag>-<target>.tar.gz with rg at its root.
# The package version comes from code-server's VS Code shrinkwrap, the tag and target from the
# package's own lib/postinstall.js, so this follows whatever the pinned code-server uses.
seed_ripgrep_cache() {
  local work="$1"
  (cd "$work" && npm pack --silent "code-server@$CODE_SERVER_VERSION" >/dev/null)
  tar -xzf "$work/code-server-$CODE_SERVER_VERSION.tgz" -C "$work" package/lib/vscode/npm-shrinkwrap.json
  local rg_version
  rg_version="$(node -e '
    const shrinkwrap = require(process.argv[1]);
    const entry = shrinkwrap.packages["node_modules/@vscode/ripgrep"];
    if (!entry) throw new Error("no @vscode/ripgrep in code-server'"'"'s shrinkwrap");
    console.log(entry.version);' "$work/package/lib/vscode/npm-shrinkwrap.json")"
  mkdir -p "$work/rg"
  (cd "$work/rg" && npm pack --silent "@vscode/ripgrep@$rg_version" >/dev/null)
  tar -xzf "$work/rg/vscode-ripgrep-$rg_version.tgz" -C "$work/rg" package/lib/postinstall.js
  local asset
  asset="$(node -e '
    const source = require("fs").readFileSync(process.argv[1], "utf8");
    const tag = /const VERSION = .(v[^"'"'"']+)./.exec(source);
    if (!tag) throw new Error("no VERSION in @vscode/ripgrep postinstall.js");
    const arch = require("os").arch();
    const target = arch === "x64" ? "x86_64-unknown-linux-musl" : arch === "arm64" ? "aarch64-unknown-linux-musl" : null;
    if (process.platform !== "linux" || !target) throw new Error("the ripgrep seed supports linux x64/arm64 only");
    console.log(`ripgrep-${tag[1]}-${target}.tar.gz`);' "$work/rg/package/lib/postinstall.js")"
  local cache
  cache="$(node -p 'require("os").tmpdir()')/vscode-ripgrep-cache-$rg_version"
  mkdir -p "$cache"
  local rg_path
  rg_path="$(command -v rg)" || die "rg not found after installing ripgrep"
  tar -czf "$cache/$asset" -C "$(dirname "$rg_path")" "$(basename "$rg_path")"
  log "seeded $cache/$asset from $rg_path"
}

install_code_server() {
  if code_server_installed; then return; fi
  command -v node >/dev/null || die "node not found"
  local node_major
  node_major="$(node -p 'process.versions.node.split(".")[0]')"
  [ "$node_major" = 20 ] || die "code-server $CODE_SERVER_VERSION needs Node 20; this is Node $node_major"
  WORK="$(mktemp -d)"
  trap 'rm -rf "$WORK"' EXIT
  seed_ripgrep_cache "$WORK"
  log "installing code-server@$CODE_SERVER_VERSION into $PREFIX (builds native modules; a few minutes)"
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX"
  echo '{ "private": true, "description": "code-server for the e2e tests (test/e2e/setup.sh)" }' >"$PREFIX/package.json"
  # --unsafe-perm: code-server's postinstall refuses to run as root without it.
  # npm_config_yes: node-pty's postinstall runs `npx node-gyp`, which a user config with yes=false cancels.
  (cd "$PREFIX" && npm_config_yes=true npm install --no-audit --no-fund --unsafe-perm \
    --prefix "$PREFIX" "code-server@$CODE_SERVER_VERSION" >"$PREFIX/install.log" 2>&1) \
    || { tail -n 40 "$PREFIX/install.log" >&2; die "npm install code-server@$CODE_SERVER_VERSION failed (log: $PREFIX/install.log)"; }
  local version
  # The first run may log a line (it writes a default config) before the version line.
  version="$("$PREFIX/node_modules/.bin/code-server" --version 2>/dev/null | grep -oE '^[0-9]+\.[0-9]+\.[0-9]+ ' | head -n 1 | tr -d ' ')" || true
  [ "$version" = "$CODE_SERVER_VERSION" ] || die "code-server --version says '$version', expected $CODE_SERVER_VERSION"
  [ -x "$PREFIX/node_modules/code-server/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" ] \
    || die "code-server installed without its ripgrep binary"
  touch "$MARKER"
  log "code-server $CODE_SERVER_VERSION installed"
}

check_chromium() {
  [ -x /usr/bin/chromium ] || die "/usr/bin/chromium is missing"
  [ -d "$ROOT/node_modules/playwright-core" ] || die "playwright-core is not installed; run npm ci"
}

install_apt_packages
install_code_server
check_chromium
