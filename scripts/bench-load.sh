#!/usr/bin/env bash
# Load benchmark of the otlp2parquet server binary (docs/benchmarks.md, "Load benchmark").
#
# For each signal: start the release server on a free 127.0.0.1 port writing to a fresh
# temporary directory, drive it with otlp2parquet-loadgen, stop it with SIGTERM (which
# flushes the in-memory batches), and check that the Parquet files hold exactly the records
# the server acknowledged. Then measure the generator's own ceiling against a do-nothing sink.
#
# Environment: LOAD_SIGNAL (default "logs traces"), LOAD_TRANSPORT ("http", "grpc" or
# "http grpc"; default http), LOAD_CONNECTIONS (16), LOAD_DURATION (20s), LOAD_WARMUP (3s),
# LOAD_KEEP=1 keeps the temporary directory.
# Fails on a row-count mismatch, on errors other than back-pressure (429/503), or when the
# server does not exit cleanly; missing a throughput or memory target is only reported.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
SIGNALS=${LOAD_SIGNAL:-logs traces}
TRANSPORTS=${LOAD_TRANSPORT:-http}
CONNECTIONS=${LOAD_CONNECTIONS:-16}
DURATION=${LOAD_DURATION:-20s}
WARMUP=${LOAD_WARMUP:-3s}
TARGET_LOGS=400000
TARGET_SPANS=250000
TARGET_RSS_MIB=512

"$CARGO" build --release -p otlp2parquet -p otlp2parquet-loadgen
BIN=$(cd "${CARGO_TARGET_DIR:-target}/release" && pwd)
SERVER=$BIN/otlp2parquet
LOADGEN=$BIN/otlp2parquet-loadgen

WORK=$(mktemp -d "${TMPDIR:-/tmp}/otlp2parquet-bench.XXXXXX")
PIDS=()

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
    if [[ ${LOAD_KEEP:-0} == 1 ]]; then
        echo "bench-load: kept $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The server treats unknown OTLP2PARQUET_* variables as a startup error, and a caller's
# settings would skew the figures: start it with none of them (and in an empty directory, so
# no ./config.toml is picked up).
UNSET=()
for name in $(compgen -e); do
    [[ $name == OTLP2PARQUET_* ]] && UNSET+=(-u "$name")
done

die() {
    echo "bench-load: $*" >&2
    exit 1
}

# wait_ready URL PID: polls URL until it answers 200, as long as PID lives (10 s at most).
wait_ready() {
    local i
    for i in $(seq 100); do
        curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# stop PID: SIGTERM, then wait for the exit (the server flushes first); sets STOPPED to the
# exit status (124 when it had to be killed). Not run in a subshell: only the parent can wait.
stop() {
    local pid=$1 i
    STOPPED=0
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 1200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        STOPPED=124
        return
    fi
    wait "$pid" 2>/dev/null || STOPPED=$?
}

# field JSON KEY: a numeric field of the loadgen's JSON line (keys used here are unique).
field() {
    sed -n "s/.*\"$2\":\([-0-9.eE+]*\).*/\1/p" <<<"$1"
}

declare -A RATE RSS P99 ROWS

RUNS=()
for transport in $TRANSPORTS; do
for signal in $SIGNALS; do
    run=$transport/$signal
    RUNS+=("$run")
    dir=$WORK/$transport-$signal
    mkdir -p "$dir/data"
    port=$("$LOADGEN" free-port)
    gport=$("$LOADGEN" free-port)
    (cd "$dir" && exec env "${UNSET[@]}" OTLP2PARQUET_LISTEN_ADDR="127.0.0.1:$port" \
        OTLP2PARQUET_GRPC_LISTEN_ADDR="127.0.0.1:$gport" \
        "$SERVER" serve --output "$dir/data" >"$dir/server.log" 2>&1) &
    server=$!
    PIDS+=("$server")
    wait_ready "http://127.0.0.1:$port/health" "$server" ||
        { cat "$dir/server.log" >&2; die "server for $run did not start"; }
    target=(--url "http://127.0.0.1:$port")
    [[ $transport == grpc ]] && target=(--url "http://127.0.0.1:$gport" --grpc)

    echo "== $run: server pid $server on 127.0.0.1:$port (gRPC $gport), $CONNECTIONS connections, $DURATION"
    status=0
    "$LOADGEN" run "${target[@]}" --signal "$signal" \
        --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" \
        --server-pid "$server" | tee "$dir/run.txt" || status=$?
    json=$(tail -n 1 "$dir/run.txt")
    acked=$(field "$json" acknowledged_records)
    [[ -n $acked ]] || die "$run: no report from the load generator"

    stop "$server"
    [[ $STOPPED == 0 ]] ||
        { tail -n 20 "$dir/server.log" >&2; die "$run: server exited with status $STOPPED after SIGTERM"; }
    "$LOADGEN" verify --dir "$dir/data" --expect-rows "$acked" --signal "$signal" ||
        die "$run: rows on disk differ from the $acked acknowledged records"
    [[ $status == 0 ]] || die "$run: requests failed with errors other than back-pressure (see above)"

    RATE[$run]=$(field "$json" records_per_second)
    RSS[$run]=$(field "$json" peak_rss_bytes)
    P99[$run]=$(field "$json" p99)
    ROWS[$run]=$acked
done
done

# The generator's ceiling: the same load against a receiver that does nothing.
sink_signal=${SIGNALS%% *}
port=$("$LOADGEN" free-port)
"$LOADGEN" sink --port "$port" >"$WORK/sink.log" 2>&1 &
sink=$!
PIDS+=("$sink")
wait_ready "http://127.0.0.1:$port/health" "$sink" || die "sink did not start"
echo "== sink ceiling: $sink_signal, $CONNECTIONS connections, $DURATION"
"$LOADGEN" run --url "http://127.0.0.1:$port" --signal "$sink_signal" \
    --connections "$CONNECTIONS" --duration "$DURATION" --warmup "$WARMUP" | tee "$WORK/sink.txt"
SINK_RATE=$(field "$(tail -n 1 "$WORK/sink.txt")" records_per_second)
stop "$sink"

verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {
    ok = (dir == "min") ? v >= t : v <= t; print ok ? "met" : "MISSED" }'; }

echo
echo "== summary ($CONNECTIONS connections, $DURATION measured, $(nproc) cores shared by server and generator)"
printf '%-12s %14s %14s %8s %12s %12s %8s %12s\n' run records/s target "" "peak RSS" target "" "p99 ms"
for run in "${RUNS[@]}"; do
    target=$TARGET_LOGS
    [[ $run == */traces ]] && target=$TARGET_SPANS
    rss_mib=$(awk -v b="${RSS[$run]:-0}" 'BEGIN { printf "%.0f", b / 1048576 }')
    printf '%-12s %14.0f %14s %8s %8s MiB %10s MiB %6s %12s\n' "$run" "${RATE[$run]}" \
        "≥ $target" "$(verdict "${RATE[$run]}" "$target" min)" \
        "$rss_mib" "≤ $TARGET_RSS_MIB" "$(verdict "$rss_mib" "$TARGET_RSS_MIB" max)" "${P99[$run]}"
done
printf '%-12s %14.0f   (generator ceiling, http, %s, no server work)\n' sink "$SINK_RATE" "$sink_signal"
echo "rows verified on disk: $(for r in "${RUNS[@]}"; do printf '%s=%s ' "$r" "${ROWS[$r]}"; done)"
