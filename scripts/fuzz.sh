#!/usr/bin/env bash
# cargo-fuzz targets of fuzz/ (docs/fuzzing.md).
#   build   build every target (release, debug assertions, AddressSanitizer)
#   smoke   build, then each target over its seeds and a few thousand mutations (under 2 min);
#           what `make test` runs
#   run     build, then each target for FUZZ_SECONDS (default 600), one after the other, and a
#           summary of executions and durations as libFuzzer reported them
#   seeds   only (re)write the seed corpora under fuzz/corpus/seeds/
# TARGETS="decode_json handler" limits smoke/run to some targets; extra arguments after the
# mode go to libFuzzer (e.g. `./scripts/fuzz.sh run -max_len=4096`).
#
# cargo-fuzz needs nightly-only rustc flags (-Z sanitizer, sancov passes). CI has only the
# stable toolchain, so this runs stable rustc with RUSTC_BOOTSTRAP=1, which unlocks them there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
FUZZ=$ROOT/fuzz
CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS=${FUZZ_SECONDS:-600}
SMOKE_SECONDS=${SMOKE_SECONDS:-20}
ALL_TARGETS=(decode_protobuf decode_json handler wal_records spool_append)
read -r -a TARGET_LIST <<<"${TARGETS:-${ALL_TARGETS[*]}}"

export RUSTUP_TOOLCHAIN=stable RUSTC_BOOTSTRAP=1
# -O: optimised; -a: debug assertions and overflow checks stay on. The target dir is pinned so a
# CARGO_TARGET_DIR of the environment does not mix these instrumented builds with the others.
BUILD_FLAGS=(--fuzz-dir "$FUZZ" -O -a --target-dir "$FUZZ/target")

log() { printf '\033[1m[fuzz]\033[0m %s\n' "$*" >&2; }

install_cargo_fuzz() {
  if cargo fuzz --version 2>/dev/null | grep -q " $CARGO_FUZZ_VERSION\$"; then
    return 0
  fi
  log "cargo install cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes)"
  cargo install --locked cargo-fuzz --version "$CARGO_FUZZ_VERSION"
}

build() {
  install_cargo_fuzz
  log "rustc: $(rustc -V) (RUSTC_BOOTSTRAP=1)"
  cargo fuzz build "${BUILD_FLAGS[@]}"
}

# Signal selector byte of a fixture, from its name (fuzz/src/lib.rs: 0 logs, 1 traces, 2 metrics).
signal_byte() {
  case "$(basename "$1")" in
    log*) echo 0 ;;
    trace*) echo 1 ;;
    *) echo 2 ;;
  esac
}

# Writes the bytes given as decimal numbers, then the file $2 (if any), into $1.
prefixed() {
  local out=$1 file=${2:-}
  shift 2
  : >"$out"
  for b in "$@"; do printf "\\$(printf '%03o' "$b")" >>"$out"; done
  if [ -n "$file" ]; then cat "$file" >>"$out"; fi
}

# wal_records seeds from a segment file (byte 0: 0 records after the magic, 1 the whole file,
# 2 one record payload): the file, its records, each record's payload and an empty segment.
wal_seeds() {
  local seg=$1 out=$2 size off=8 len i=0 b0 b1 b2 b3
  prefixed "$out/segment" "$seg" 1
  prefixed "$out/records" "" 0
  tail -c +9 "$seg" >>"$out/records"
  prefixed "$out/empty" "" 0
  size=$(wc -c <"$seg")
  # Each record is len (u32 LE) | crc32 | payload.
  while [ $((off + 8)) -le "$size" ]; do
    read -r b0 b1 b2 b3 <<<"$(od -An -tu1 -j "$off" -N4 "$seg")"
    len=$((b0 | b1 << 8 | b2 << 16 | b3 << 24))
    prefixed "$out/payload-$i" "" 2
    tail -c +$((off + 9)) "$seg" | head -c "$len" >>"$out/payload-$i"
    off=$((off + 8 + len))
    i=$((i + 1))
  done
}

# Seed corpora from the request fixtures of testdata/ (regenerated, never committed): each
# fixture behind the selector bytes its target reads. Crashes found earlier live in
# fuzz/regressions/<target>/ (committed) and are run as seeds too.
seeds() {
  local dir=$FUZZ/corpus/seeds
  rm -rf "$dir"
  mkdir -p "$dir/decode_protobuf" "$dir/decode_json" "$dir/handler" "$dir/wal_records" "$dir/spool_append"
  local f name sig
  for f in "$ROOT"/testdata/otlp/*.pb "$ROOT"/testdata/equiv/*.pb; do
    name=$(basename "$(dirname "$f")")-$(basename "$f")
    sig=$(signal_byte "$f")
    prefixed "$dir/decode_protobuf/$name" "$f" "$sig"
    # handler: flags, Content-Type (1 protobuf, 0 none: sniffed), encoding (0 raw, 1 gzip, 2 zstd)
    prefixed "$dir/handler/$name" "$f" "$sig" 1 0
    prefixed "$dir/handler/$name-sniffed-gzip" "$f" "$sig" 0 1
  done
  for f in "$ROOT"/testdata/otlp/*.json "$ROOT"/testdata/otlp/invalid/*.json; do
    name=$(basename "$(dirname "$f")")-$(basename "$f")
    sig=$(signal_byte "$f")
    prefixed "$dir/decode_json/$name" "$f" "$sig" 0
    prefixed "$dir/handler/$name" "$f" "$sig" 3 0
    prefixed "$dir/handler/$name-zstd" "$f" "$sig" 3 2
  done
  for f in "$ROOT"/testdata/otlp/*.jsonl; do
    name=$(basename "$f")
    sig=$(signal_byte "$f")
    prefixed "$dir/decode_json/$name" "$f" "$sig" 1
    prefixed "$dir/handler/$name" "$f" "$sig" 4 0
  done
  # Empty bodies of each signal, and the unsupported type/encoding paths.
  for sig in 0 1 2; do
    prefixed "$dir/handler/empty-$sig" "" "$sig" 0 0
    prefixed "$dir/handler/text-plain-$sig" "$ROOT/testdata/otlp/log.json" "$sig" 8 0
    prefixed "$dir/handler/brotli-$sig" "$ROOT/testdata/otlp/log.json" "$sig" 3 7
  done
  wal_seeds "$ROOT/testdata/wal/segment.wal" "$dir/wal_records"
  cp "$ROOT"/testdata/spool/*.bin "$dir/spool_append/"
  log "seeds: $(find "$dir" -type f | wc -l) files in $dir"
}

# Input directories of one target: the grown corpus first (libFuzzer writes new inputs there),
# then the seeds and committed regressions.
corpus_dirs() {
  local t=$1 out=$2
  mkdir -p "$out" "$FUZZ/regressions/$t"
  echo "$out" "$FUZZ/corpus/seeds/$t" "$FUZZ/regressions/$t"
}

# Runs one target with libFuzzer options; its output goes to fuzz/logs/<target>.log too.
fuzz_one() {
  local t=$1 out=$2
  shift 2
  mkdir -p "$FUZZ/logs" "$FUZZ/artifacts/$t"
  local dirs
  read -r -a dirs <<<"$(corpus_dirs "$t" "$out")"
  log "$t: libFuzzer $*"
  # -timeout: an input that takes 10 s is a hang; -rss_limit_mb: a huge allocation is a crash.
  cargo fuzz run "${BUILD_FLAGS[@]}" "$t" "${dirs[@]}" -- \
    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$FUZZ/artifacts/$t/" "$@" 2>&1 | tee "$FUZZ/logs/$t.log"
}

# "runs seconds" of a libFuzzer log (its closing `Done N runs in S second(s)` line).
done_line() {
  sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 \2/p' "$1" | tail -n 1
}

smoke() {
  build
  seeds
  local t tmp start
  start=$SECONDS
  for t in "${TARGET_LIST[@]}"; do
    # A scratch corpus: smoke runs leave fuzz/corpus/<target> as it was.
    tmp=$(mktemp -d)
    if ! fuzz_one "$t" "$tmp" -runs=5000 -max_total_time="$SMOKE_SECONDS" "$@" >/dev/null; then
      tail -n 60 "$FUZZ/logs/$t.log" >&2
      log "$t: FAILED; the input is in fuzz/artifacts/$t/"
      exit 1
    fi
    rm -rf "$tmp"
    read -r runs secs <<<"$(done_line "$FUZZ/logs/$t.log")"
    log "$t: ${runs:-?} runs in ${secs:-?} s, no crash"
  done
  log "smoke: ${#TARGET_LIST[@]} targets in $((SECONDS - start)) s"
}

run() {
  build
  seeds
  local t summary=() runs secs
  for t in "${TARGET_LIST[@]}"; do
    fuzz_one "$t" "$FUZZ/corpus/$t" -max_total_time="$FUZZ_SECONDS" "$@"
    read -r runs secs <<<"$(done_line "$FUZZ/logs/$t.log")"
    summary+=("$(printf '%-16s %12s runs %6s s %8s exec/s  corpus %s' "$t" "${runs:-?}" "${secs:-?}" \
      "$(( ${runs:-0} / (${secs:-0} > 0 ? ${secs:-1} : 1) ))" \
      "$(find "$FUZZ/corpus/$t" -type f | wc -l)")")
  done
  log "summary (FUZZ_SECONDS=$FUZZ_SECONDS, $(rustc -V)):"
  printf '  %s\n' "${summary[@]}" >&2
}

mode=${1:-}
[ $# -gt 0 ] && shift
case "$mode" in
  build) build ;;
  seeds) seeds ;;
  smoke) smoke "$@" ;;
  run) run "$@" ;;
  *)
    echo "usage: $0 build|smoke|run|seeds [libFuzzer options]" >&2
    exit 2
    ;;
esac
