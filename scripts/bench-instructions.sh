#!/usr/bin/env bash
# Instructions per record of a server binary under callgrind (docs/benchmarks.md, "Instruction
# counts"): a comparison of two builds that the VM's timing noise does not blur.
#
#   scripts/bench-instructions.sh BIN_DIR SIGNAL [DURATION]
#
# Starts BIN_DIR/otlp2parquet under `valgrind --tool=callgrind` on free 127.0.0.1 ports, drives
# it with target/release/otlp2parquet-loadgen (4 connections, DURATION, default 40s) for SIGNAL
# (logs or traces), stops it with SIGTERM (it flushes), checks the rows on disk against the
# acknowledged records and prints the instructions executed (startup and final flush included)
# per acknowledged record. Run it twice with two durations to subtract the fixed costs.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=$(cd "$1" && pwd)
SIGNAL=$2
DURATION=${3:-40s}
LOADGEN=target/release/otlp2parquet-loadgen
[[ -x $LOADGEN ]] || cargo build --release -p otlp2parquet-loadgen
command -v valgrind >/dev/null || { echo "bench-instructions: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/otlp2parquet-callgrind.XXXXXX")
SERVER=
cleanup() {
    [[ -n $SERVER ]] && kill -TERM "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
mkdir -p "$WORK/data"
port=$("$LOADGEN" free-port)
gport=$("$LOADGEN" free-port)
(cd "$WORK" && exec env OTLP2PARQUET_LISTEN_ADDR="127.0.0.1:$port" \
    OTLP2PARQUET_GRPC_LISTEN_ADDR="127.0.0.1:$gport" \
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" --dump-instr=no \
    "$BIN/otlp2parquet" serve --output "$WORK/data" >"$WORK/server.log" 2>&1) &
SERVER=$!
for _ in $(seq 600); do
    curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null && break
    sleep 0.1
done
"$LOADGEN" run --url "http://127.0.0.1:$port" --signal "$SIGNAL" --connections 4 \
    --duration "$DURATION" --warmup 1s >"$WORK/run.txt"
kill -TERM "$SERVER"
wait "$SERVER" || { tail -n 20 "$WORK/server.log" >&2; exit 1; }
SERVER=
acked=$(tail -n 1 "$WORK/run.txt" | sed -n 's/.*"acknowledged_records":\([0-9]*\).*/\1/p')
"$LOADGEN" verify --dir "$WORK/data" --expect-rows "$acked" --signal "$SIGNAL" >/dev/null
ir=$(sed -n 's/^\(summary\|totals\): *\([0-9]*\).*/\2/p' "$WORK/callgrind.out" | head -n 1)
echo "$SIGNAL $DURATION: $acked records, $ir instructions, $((ir / acked)) per record"
