#!/usr/bin/env bash
# Installs what the test suite needs on a fresh machine, skipping what is already there.
# Idempotent; safe to run before every `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\033[1m[deps]\033[0m %s\n' "$*"; }

# wasm32 target: the four library crates must build for it (make check).
if ! rustup target list --installed | grep -q '^wasm32-unknown-unknown$'; then
  log "rustup target add wasm32-unknown-unknown"
  rustup target add wasm32-unknown-unknown
fi

# clang: zstd-sys compiles C for wasm32 with it (see ../shared/TOOLING.md).
if ! command -v clang >/dev/null 2>&1; then
  log "apt-get install clang"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq clang >/dev/null
fi

# openssl makes the TLS tests' certificates, curl checks a TLS server's health
# (crates/otlp2parquet/tests/e2e/tls.rs).
if ! command -v openssl >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
  log "apt-get install openssl curl"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openssl curl >/dev/null
fi

# Python tools that read our files back: DuckDB, ClickHouse (chdb), pyarrow (and the
# reference implementation's dependency), Polars, DataFusion and Apache Spark (pyspark runs on the
# machine's Java 17; the engine tests of crates/otlp2parquet/tests/engines).
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  log "python3 -m venv $VENV"
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c 'import pyarrow, duckdb, chdb, opentelemetry.proto' >/dev/null 2>&1; then
  log "pip install pyarrow duckdb chdb opentelemetry-proto (about 2 minutes)"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    'pyarrow==26.0.1' 'duckdb==2.0.1' 'chdb==4.4.0' 'opentelemetry-proto==1.45.2'
fi
if ! "$VENV/bin/python" -c 'import polars, datafusion, pyspark' >/dev/null 2>&1; then
  log "pip install polars datafusion pyspark (about 2 minutes)"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    'polars==2.1.0' 'datafusion==55.0.0' 'pyspark==4.3.0'
fi
if ! command -v java >/dev/null 2>&1; then
  log "apt-get install openjdk-17-jre-headless (Spark)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi

# Real OpenTelemetry clients for the server's SDK tests (crates/otlp2parquet/tests/sdk): the Python
# SDK with its OTLP/HTTP protobuf and OTLP/gRPC exporters, and the JS SDK from the committed npm lockfile.
OTEL_PY=1.45.2
if ! "$VENV/bin/python" -c "import importlib.metadata as m, opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http, opentelemetry.exporter.otlp.proto.grpc
assert m.version('opentelemetry-sdk') == m.version('opentelemetry-exporter-otlp-proto-http') == m.version('opentelemetry-exporter-otlp-proto-grpc') == '$OTEL_PY'" >/dev/null 2>&1; then
  log "pip install opentelemetry-sdk opentelemetry-exporter-otlp-proto-http opentelemetry-exporter-otlp-proto-grpc $OTEL_PY"
  "$VENV/bin/pip" install -q --disable-pip-version-check \
    "opentelemetry-sdk==$OTEL_PY" "opentelemetry-exporter-otlp-proto-http==$OTEL_PY" \
    "opentelemetry-exporter-otlp-proto-grpc==$OTEL_PY"
fi
if ! command -v npm >/dev/null 2>&1; then
  log "apt-get install nodejs npm"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
NODE_SDK=crates/otlp2parquet/tests/sdk/node
# npm ci again when the lockfile changed since the last install (npm keeps its own copy).
if [ ! -d "$NODE_SDK/node_modules" ] || [ "$NODE_SDK/package-lock.json" -nt "$NODE_SDK/node_modules/.package-lock.json" ]; then
  log "npm ci in $NODE_SDK"
  (cd "$NODE_SDK" && npm ci --no-audit --no-fund --loglevel=error)
fi
# s3s-fs: the local S3 server of the OpenDAL storage tests (writer --features opendal). Pinned:
# 0.15+ needs Rust 1.96. Compiles for about 5 minutes; the tests find it on PATH or in ~/.cargo/bin.
if ! command -v s3s-fs >/dev/null 2>&1 && [ ! -x "${CARGO_HOME:-$HOME/.cargo}/bin/s3s-fs" ]; then
  log "cargo install s3s-fs 0.14.1 (about 5 minutes)"
  cargo install --locked s3s-fs --version 0.14.1 --features binary
fi
# Per-target tooling: the Lambda (cargo-lambda, zig, cfn-lint) and the Worker (worker-build,
# wasm-bindgen-cli, binaryen, wrangler, twiggy).
./scripts/deps/lambda.sh
./scripts/deps/worker.sh
log "ok"
