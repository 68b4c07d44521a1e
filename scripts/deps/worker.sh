#!/usr/bin/env bash
# Cloudflare Worker tooling (issue 5), installed only when missing. Called by scripts/install-deps.sh.
# worker-build + wasm-bindgen-cli build the Worker offline, binaryen (npm) optimises it, wrangler
# (npm) brings workerd, Miniflare and esbuild for the tests. (twiggy, for `make wasm-profile` only,
# is installed by scripts/wasm.sh on first use.)
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '\033[1m[deps]\033[0m %s\n' "$*"; }
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
CRATE=crates/otlp2parquet-cloudflare

if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# version_of TOOL: the version a cargo-installed tool reports, or nothing.
version_of() { [ -x "$CARGO_BIN/$1" ] && "$CARGO_BIN/$1" --version 2>/dev/null | awk '{print $NF}' || true; }

if [ "$(version_of worker-build)" != "0.8.7" ]; then
  log "cargo install worker-build 0.8.7 (about 15 minutes)"
  cargo install --locked worker-build --version 0.8.7
fi

# The CLI must equal the wasm-bindgen crate in Cargo.lock exactly. Not --locked: its lockfile
# pins a webpki-roots that crates.io no longer offers (TOOLING pitfalls).
WB=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [ -z "$WB" ]; then
  echo "deps/worker.sh: no wasm-bindgen in Cargo.lock" >&2
  exit 1
fi
if [ "$(version_of wasm-bindgen)" != "$WB" ]; then
  log "cargo install wasm-bindgen-cli $WB (about 5 minutes)"
  cargo install wasm-bindgen-cli --version "$WB"
fi

# wrangler 4.86.0 and binaryen 132.0.0, pinned in package.json/package-lock.json. npm ci again
# when the lockfile changed since the last install (npm keeps its own copy).
if [ ! -d "$CRATE/node_modules" ] || [ "$CRATE/package-lock.json" -nt "$CRATE/node_modules/.package-lock.json" ]; then
  log "npm ci in $CRATE"
  (cd "$CRATE" && npm ci --no-audit --no-fund --loglevel=error)
fi
