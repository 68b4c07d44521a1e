#!/usr/bin/env bash
# Cold start of the Lambda's bootstrap: for each run, start a fresh process under cargo lambda
# watch's Runtime API (S3 on a local s3s-fs) and time, from process start, the answer to a first
# real export (testdata/otlp/traces.pb through the Function URL front door). Prints the
# function's own `cold_start_ms` and the time the client saw.
#
#   scripts/lambda-cold-start.sh [BOOTSTRAP] [RUNS]
#
# BOOTSTRAP (a binary, or a zip holding one) defaults to the x86_64 zip `make build-lambda` leaves
# in target/lambda/x86_64/bootstrap/bootstrap.zip; RUNS to 5. AWS's sandbox start and code download are
# not included: this is the part the binary controls.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BOOT=${1:-$ROOT/target/lambda/x86_64/bootstrap/bootstrap.zip}
RUNS=${2:-5}
PATH=$ROOT/.venv/bin:${CARGO_HOME:-$HOME/.cargo}/bin:$PATH
[ -f "$BOOT" ] || { echo "lambda-cold-start: $BOOT missing; run \`make build-lambda\`" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/otlp2parquet-cold.XXXXXX")
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
if [[ $BOOT == *.zip ]]; then
  python3 -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])' "$BOOT" "$WORK/fn"
  chmod +x "$WORK/fn/bootstrap"
  BOOT=$WORK/fn/bootstrap
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 300); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

S3_PORT=$(free_port)
mkdir -p "$WORK/s3/telemetry"
s3s-fs --host 127.0.0.1 --port "$S3_PORT" --access-key AKIDCOLD --secret-key SECRETCOLD "$WORK/s3" \
  >"$WORK/s3.log" 2>&1 &
PIDS+=($!)
wait_port "$S3_PORT" || { echo "s3s-fs did not start" >&2; exit 1; }

PORT=$(free_port)
cargo lambda watch --only-lambda-apis --ignore-changes -A 127.0.0.1 -P "$PORT" >"$WORK/watch.log" 2>&1 &
PIDS+=($!)
wait_port "$PORT" || { cat "$WORK/watch.log" >&2; exit 1; }

printf '%-4s %16s %16s %8s\n' run cold_start_ms client_ms status
for run in $(seq "$RUNS"); do
  log=$WORK/function-$run.log
  start=$(date +%s%N)
  env -i AWS_LAMBDA_FUNCTION_NAME=bootstrap AWS_LAMBDA_FUNCTION_VERSION=1 \
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE=1024 AWS_LAMBDA_RUNTIME_API="http://127.0.0.1:$PORT/.rt/bootstrap" \
    OTLP2PARQUET_S3_BUCKET=telemetry OTLP2PARQUET_S3_REGION=us-east-1 \
    OTLP2PARQUET_S3_ENDPOINT="http://127.0.0.1:$S3_PORT" \
    AWS_ACCESS_KEY_ID=AKIDCOLD AWS_SECRET_ACCESS_KEY=SECRETCOLD "$BOOT" >"$log" 2>&1 &
  fn=$!
  status=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'content-type: application/x-protobuf' \
    --data-binary @testdata/otlp/traces.pb "http://127.0.0.1:$PORT/lambda-url/bootstrap/v1/traces")
  end=$(date +%s%N)
  kill "$fn" 2>/dev/null || true
  wait "$fn" 2>/dev/null || true
  cold=$(sed -n 's/.*"cold_start_ms":\([0-9.]*\).*/\1/p' "$log" | head -n 1)
  printf '%-4s %16s %16.1f %8s\n' "$run" "${cold:-?}" "$(awk -v a="$start" -v b="$end" 'BEGIN { print (b - a) / 1e6 }')" "$status"
  [ "$status" = 200 ] || { cat "$log" >&2; exit 1; }
done
echo "objects written: $(find "$WORK/s3/telemetry" -name '*.parquet' | wc -l)"
