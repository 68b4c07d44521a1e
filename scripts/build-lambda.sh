#!/usr/bin/env bash
# `make build-lambda`: the `bootstrap` zips of the Lambda function for arm64 (Graviton) and
# x86_64, built by cargo-lambda (arm64 linked with zig), with their sizes.
#   target/lambda/arm64/bootstrap/bootstrap.zip
#   target/lambda/x86_64/bootstrap/bootstrap.zip
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="$PWD/.venv"
if [ ! -x "$VENV/bin/cargo-lambda" ]; then
  echo "build-lambda: cargo-lambda is missing; run 'make deps' (installs it into .venv)" >&2
  exit 2
fi
# cargo-lambda, and the zig it links arm64 with (`python -m ziglang`), live in the venv.
export PATH="$VENV/bin:$PATH"
if ! rustup target list --installed | grep -q '^aarch64-unknown-linux-gnu$'; then
  rustup target add aarch64-unknown-linux-gnu
fi

started=$(date +%s)
for arch in arm64 x86_64; do
  flag=""; [ "$arch" = arm64 ] && flag="--arm64"
  echo "[build-lambda] $arch"
  cargo lambda build --release $flag --output-format zip -p otlp2parquet-lambda \
    --bin bootstrap --lambda-dir "target/lambda/$arch"
done

echo
for arch in arm64 x86_64; do
  zip="target/lambda/$arch/bootstrap/bootstrap.zip"
  bytes=$(stat -c %s "$zip")
  printf '%-7s %s  %d bytes (%s MiB)\n' "$arch" "$zip" "$bytes" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.2f", b / 1048576 }')"
done
echo "[build-lambda] done in $(( $(date +%s) - started )) s"
