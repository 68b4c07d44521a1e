#!/usr/bin/env bash
# The Cloudflare Worker's wasm (docs/adr/0008-worker.md, issue 5).
#   full     build crates/otlp2parquet-cloudflare/build/{index.js,index_bg.wasm} offline with worker-build
#   size     full, then print raw / optimized / gzip sizes; exit 1 above the gzip budget
#   profile  full, then the largest items of the optimized wasm (twiggy)
# Tools come from `make deps` (scripts/deps/worker.sh); `profile` installs twiggy on first use
# (only it needs it, so the test path does not compile it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
CRATE=$ROOT/crates/otlp2parquet-cloudflare
CARGO_BIN=${CARGO_HOME:-$HOME/.cargo}/bin
# Cloudflare refuses scripts over 3 MB compressed; ours stays under 1.2 MB (docs/adr/0012).
BUDGET=1200000
# The workspace's release-wasm profile (opt-level z, fat LTO, one codegen unit, strip,
# panic=abort), passed through worker-build so the native release profile stays as it is.
PROFILE=release-wasm

need() {
  if [ ! -x "$1" ]; then
    echo "wasm.sh: $1 is missing; run \`make deps\` (scripts/deps/worker.sh installs it)" >&2
    exit 2
  fi
}

full() {
  need "$CARGO_BIN/worker-build"
  need "$CARGO_BIN/wasm-bindgen"
  need "$CRATE/node_modules/.bin/wasm-opt"
  need "$CRATE/node_modules/@esbuild/linux-x64/bin/esbuild"
  # worker-build always reruns wasm-bindgen and wasm-opt (about 20 s), so build the cargo wasm first,
  # with the same command and environment as worker-build, and skip the rest when build/ is
  # newer than it (cargo leaves an up-to-date artifact untouched).
  local raw="${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown/$PROFILE/otlp2parquet_cloudflare.wasm"
  (cd "$CRATE" && WASM_BINDGEN_USE_JS_SYS=1 cargo build --quiet --lib --profile "$PROFILE" \
    --target wasm32-unknown-unknown)
  if [ "$CRATE/build/index_bg.wasm" -nt "$raw" ] && [ "$CRATE/build/index.js" -nt "$raw" ]; then
    echo "wasm.sh: build/ is up to date with $raw" >&2
    return 0
  fi
  # The three *_BIN variables keep worker-build from downloading its tools (TOOLING §1).
  (
    cd "$CRATE"
    WASM_BINDGEN_BIN="$CARGO_BIN/wasm-bindgen" \
      WASM_OPT_BIN="$CRATE/node_modules/.bin/wasm-opt" \
      ESBUILD_BIN="$CRATE/node_modules/@esbuild/linux-x64/bin/esbuild" \
      "$CARGO_BIN/worker-build" --profile "$PROFILE"
  )
  test -s "$CRATE/build/index.js" && test -s "$CRATE/build/index_bg.wasm"
}

gz() { gzip -9 -c "$1" | wc -c; }

size() {
  full
  local raw="${CARGO_TARGET_DIR:-$ROOT/target}/wasm32-unknown-unknown/$PROFILE/otlp2parquet_cloudflare.wasm"
  local opt="$CRATE/build/index_bg.wasm"
  local js="$CRATE/build/index.js"
  local gz_opt gz_js total
  gz_opt=$(gz "$opt")
  gz_js=$(gz "$js")
  total=$((gz_opt + gz_js))
  printf '%-34s %12s %12s\n' artifact bytes gzip-9
  printf '%-34s %12d %12d\n' "cargo wasm ($PROFILE)" "$(wc -c <"$raw")" "$(gz "$raw")"
  printf '%-34s %12d %12d\n' "optimized build/index_bg.wasm" "$(wc -c <"$opt")" "$gz_opt"
  printf '%-34s %12d %12d\n' "build/index.js" "$(wc -c <"$js")" "$gz_js"
  printf 'worker gzip total: %d bytes (budget %d)\n' "$total" "$BUDGET"
  if [ "$total" -gt "$BUDGET" ]; then
    echo "wasm.sh: the Worker is over its gzip budget" >&2
    exit 1
  fi
}

profile() {
  full
  if [ "$("$CARGO_BIN/twiggy" --version 2>/dev/null | awk '{print $NF}')" != "0.8.0" ]; then
    echo "wasm.sh: cargo install twiggy 0.8.0 (about 2 minutes, once)" >&2
    cargo install --locked twiggy --version 0.8.0
  fi
  echo "== build/index_bg.wasm (what ships; names stripped)"
  "$CARGO_BIN/twiggy" top -n 25 "$CRATE/build/index_bg.wasm"
  # The shipped wasm has no name section (strip = true), so attribute the bytes on the same
  # cargo build with its symbol names kept, in a target dir of its own.
  local named="$ROOT/target/wasm-profile"
  (cd "$CRATE" && CARGO_TARGET_DIR="$named" CARGO_PROFILE_RELEASE_WASM_STRIP=false \
    WASM_BINDGEN_USE_JS_SYS=1 cargo build --quiet --lib --profile "$PROFILE" \
    --target wasm32-unknown-unknown)
  local wasm="$named/wasm32-unknown-unknown/$PROFILE/otlp2parquet_cloudflare.wasm"
  echo "== cargo wasm with names (before wasm-bindgen and wasm-opt)"
  "$CARGO_BIN/twiggy" top -n 25 "$wasm"
  "$CARGO_BIN/twiggy" dominators -d 2 -r 25 "$wasm"
}

case "${1:-}" in
  full) full ;;
  size) size ;;
  profile) profile ;;
  *) echo "usage: $0 full|size|profile" >&2; exit 2 ;;
esac
