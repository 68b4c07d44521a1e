#!/usr/bin/env bash
# Load benchmark of the otlp2parquet server binary (docs/benchmarks.md, "Load benchmark").
#
# For each signal: start the release server on a free 127.0.0.1 port writing to a fresh
# temporary directory, drive it with otlp2parquet-loadgen, stop it with SIGTERM (which
# flushes the in-memory batches), and check that the Parquet files hold exactly the records
# the server acknowledged. Then measure the generator's own ceiling against a do-nothing sink.
# Records are log records, spans, or metric data points: a metrics request mixes gauge, sum
# and histogram metrics (ten points each) and every data point is one row of its kind's table,
# so the rows of all tables under metrics/ are summed.
#
# Environment: LOAD_SIGNAL (any of logs, traces, metrics; default "logs traces metrics"; the
# sink run uses the first), LOAD_TRANSPORT ("http", "grpc" or "http grpc"; default http),
# LOAD_DURABILITY ("wal", "memory" or "wal memory": the server's batch.durability; default wal),
# LOAD_CONNECTIONS (16), LOAD_DURATION (20s), LOAD_WARMUP (3s), LOAD_GZIP=1 sends
# gzip-compressed bodies, LOAD_KEEP=1 keeps the temporary directory.
# LOAD_TLS ("off", "on" or "off on"; default off): "on" makes a throwaway CA and server
# certificate (openssl, EC P-256, SAN IP:127.0.0.1) in the temporary directory, starts the server
# with TLS on both listeners (OTLP2PARQUET_TLS_CERT_FILE/_KEY_FILE) and drives it over https://
# trusting that CA; "off on" runs plain, then TLS, back to back for each signal (a mode listed
# twice is a second run). LOAD_RECONNECT=1 opens a new connection (TCP, and a full TLS handshake
# when on) for every request instead of keeping connections alive, so each request pays the
# handshake; LOAD_RECONNECT=resume does the same but lets TLS resume the session (no certificate,
# no signature). Default 0: keep-alive connections.
# LOAD_BATCH sets the records (log records, spans, data points) per request (default: the load
# generator's 512); small requests make the per-connection cost stand out.
# Throughput targets: 400 k log records/s, 250 k spans/s, 400 k metric data points/s.
# LOAD_SOAK=1 (make bench-soak) also samples the server's RSS every 10 s and fails when it
# passes the RSS target, when any request gets an error response (503 included: a soak runs a
# sustainable load, 4 connections by default, not the saturating one) or when the write-ahead
# log still holds segments after the final flush.
# Fails on a row-count mismatch, on errors other than back-pressure (429/503), or when the
# server does not exit cleanly; missing a throughput or memory target is only reported.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO=${CARGO:-cargo}
SIGNALS=${LOAD_SIGNAL:-logs traces metrics}
TRANSPORTS=${LOAD_TRANSPORT:-http}
DURABILITIES=${LOAD_DURABILITY:-wal}
SOAK=${LOAD_SOAK:-0}
CONNECTIONS=${LOAD_CONNECTIONS:-16}
DURATION=${LOAD_DURATION:-20s}
WARMUP=${LOAD_WARMUP:-3s}
TLS_MODES=${LOAD_TLS:-off}
RECONNECT=${LOAD_RECONNECT:-0}
TARGET_LOGS=400000
TARGET_SPANS=250000
TARGET_POINTS=400000
TARGET_RSS_MIB=512

for tls in $TLS_MODES; do
    [[ $tls == off || $tls == on ]] ||
        { echo "bench-load: LOAD_TLS: \"$tls\" is neither off nor on" >&2; exit 1; }
done
[[ $RECONNECT == 0 || $RECONNECT == 1 || $RECONNECT == resume ]] ||
    { echo "bench-load: LOAD_RECONNECT must be 0, 1 or resume, not \"$RECONNECT\"" >&2; exit 1; }

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

# wait_ready URL PID [CURL-ARGS...]: polls URL until it answers 200, as long as PID lives
# (10 s at most).
wait_ready() {
    local i
    for i in $(seq 100); do
        curl -fsS -o /dev/null "${@:3}" "$1" 2>/dev/null && return 0
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

# sample_rss PID FILE: appends "<seconds> <VmRSS kB>" to FILE every 10 s while PID lives.
sample_rss() {
    local start=$SECONDS rss
    while kill -0 "$1" 2>/dev/null; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true)
        [[ -n $rss ]] && echo "$((SECONDS - start)) $rss" >>"$2"
        sleep 10
    done
}

# make_certs DIR: a throwaway CA (ca.pem) and a server certificate it signed for 127.0.0.1
# (server.pem, server.key), EC P-256, valid for two days.
make_certs() {
    local d=$1
    mkdir -p "$d"
    {
        openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
            -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=otlp2parquet bench CA" \
            -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
            openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
                -keyout "$d/server.key" -out "$d/server.csr" -subj "/CN=127.0.0.1" &&
            printf '%s\n' subjectAltName=IP:127.0.0.1 basicConstraints=critical,CA:FALSE \
                keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth >"$d/server.ext" &&
            openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
                -CAcreateserial -CAserial "$d/ca.srl" -days 2 -extfile "$d/server.ext" \
                -out "$d/server.pem"
    } >"$d/openssl.log" 2>&1 || { cat "$d/openssl.log" >&2; die "cannot make the test certificates"; }
}

TLS_DIR=$WORK/tls
[[ " $TLS_MODES " == *" on "* ]] && make_certs "$TLS_DIR"

BATCH_ARGS=()
[[ -n ${LOAD_BATCH:-} ]] && BATCH_ARGS=(--batch "$LOAD_BATCH")

RECONNECT_ARGS=()
MODE="keep-alive"
if [[ $RECONNECT != 0 ]]; then
    RECONNECT_ARGS=(--new-connection-per-request)
    MODE="a new connection per request"
    if [[ " $TLS_MODES " == *" on "* && $RECONNECT == resume ]]; then
        MODE="$MODE, TLS sessions resumed"
    elif [[ " $TLS_MODES " == *" on "* ]]; then
        MODE="$MODE, full TLS handshakes"
    fi
fi

declare -A RATE RSS P99 ROWS REQS P50 CPU GEN_CPU

RUNS=()
for durability in $DURABILITIES; do
for transport in $TRANSPORTS; do
for signal in $SIGNALS; do
for tls in $TLS_MODES; do
    run=$transport/$signal/$durability
    [[ $tls == on ]] && run=$transport+tls/$signal/$durability
    # A mode listed twice (LOAD_DURABILITY="wal memory wal memory") is a second run.
    if [[ -n ${ROWS[$run]:-} ]]; then
        n=2
        while [[ -n ${ROWS[$run#$n]:-} ]]; do n=$((n + 1)); done
        run=$run#$n
    fi
    RUNS+=("$run")
    dir=$WORK/${#RUNS[@]}-$transport-$signal-$durability
    [[ $tls == on ]] && dir=$dir-tls
    mkdir -p "$dir/data"
    port=$("$LOADGEN" free-port)
    gport=$("$LOADGEN" free-port)
    scheme=http
    tls_env=()
    curl_tls=()
    loadgen_tls=()
    if [[ $tls == on ]]; then
        scheme=https
        tls_env=(OTLP2PARQUET_TLS_CERT_FILE="$TLS_DIR/server.pem"
            OTLP2PARQUET_TLS_KEY_FILE="$TLS_DIR/server.key")
        curl_tls=(--cacert "$TLS_DIR/ca.pem")
        loadgen_tls=(--ca-cert "$TLS_DIR/ca.pem")
        [[ $RECONNECT == resume ]] && loadgen_tls+=(--tls-resumption)
    fi
    (cd "$dir" && exec env "${UNSET[@]}" OTLP2PARQUET_LISTEN_ADDR="127.0.0.1:$port" \
        OTLP2PARQUET_GRPC_LISTEN_ADDR="127.0.0.1:$gport" \
        OTLP2PARQUET_BATCH_DURABILITY="$durability" "${tls_env[@]}" \
        "$SERVER" serve --output "$dir/data" >"$dir/server.log" 2>&1) &
    server=$!
    PIDS+=("$server")
    if [[ $SOAK == 1 ]]; then
        sample_rss "$server" "$dir/rss.txt" &
        PIDS+=("$!")
    fi
    wait_ready "$scheme://127.0.0.1:$port/health" "$server" "${curl_tls[@]}" ||
        { cat "$dir/server.log" >&2; die "server for $run did not start"; }
    target=(--url "$scheme://127.0.0.1:$port")
    [[ $transport == grpc ]] && target=(--url "$scheme://127.0.0.1:$gport" --grpc)

    echo "== $run: server pid $server on $scheme://127.0.0.1:$port (gRPC $gport)," \
        "$CONNECTIONS connections ($MODE), $DURATION"
    status=0
    gzip=()
    [[ ${LOAD_GZIP:-0} == 1 ]] && gzip=(--gzip)
    "$LOADGEN" run "${target[@]}" "${loadgen_tls[@]}" "${RECONNECT_ARGS[@]}" "${BATCH_ARGS[@]}" \
        --signal "$signal" "${gzip[@]}" --connections "$CONNECTIONS" --duration "$DURATION" \
        --warmup "$WARMUP" --server-pid "$server" | tee "$dir/run.txt" || status=$?
    json=$(tail -n 1 "$dir/run.txt")
    acked=$(field "$json" acknowledged_records)
    [[ -n $acked ]] || die "$run: no report from the load generator"

    stop "$server"
    [[ $STOPPED == 0 ]] ||
        { tail -n 20 "$dir/server.log" >&2; die "$run: server exited with status $STOPPED after SIGTERM"; }
    "$LOADGEN" verify --dir "$dir/data" --expect-rows "$acked" --signal "$signal" ||
        die "$run: rows on disk differ from the $acked acknowledged records"
    [[ $status == 0 ]] || die "$run: requests failed with errors other than back-pressure (see above)"
    if [[ $SOAK == 1 ]]; then
        rejected=$(field "$json" rejected_records)
        [[ ${rejected:-0} == 0 ]] || die "$run: $rejected records refused during the soak"
        errors=$(sed -n 's/.*"errors":{\([^}]*\)}.*/\1/p' <<<"$json")
        [[ -z $errors ]] || die "$run: error responses during the soak: {$errors}"
        left=$(find "$dir/data/_wal" -name '*.wal' 2>/dev/null | wc -l)
        [[ $left == 0 ]] || die "$run: $left write-ahead log segments left after the final flush"
        files=$(find "$dir/data" -name '*.parquet' | wc -l)
        awk -v run="$run" -v files="$files" -v target="$TARGET_RSS_MIB" '
            { t[NR] = $1; r[NR] = $2 / 1024; if (r[NR] > max) max = r[NR] }
            END {
                if (NR == 0) { print run ": no RSS samples"; exit 1 }
                third = int(NR / 3); if (third < 1) third = 1
                for (i = 1; i <= third; i++) if (r[i] > first) first = r[i]
                for (i = NR - third + 1; i <= NR; i++) if (r[i] > last) last = r[i]
                printf "soak %s: %d RSS samples over %d s; max %.0f MiB; first third max %.0f MiB, last third max %.0f MiB; %d files\n", run, NR, t[NR], max, first, last, files
                if (max > target) { print run ": RSS passed " target " MiB"; exit 1 }
            }' "$dir/rss.txt" || die "$run: RSS not bounded (samples in $dir/rss.txt)"
    fi

    RATE[$run]=$(field "$json" records_per_second)
    RSS[$run]=$(field "$json" peak_rss_bytes)
    P99[$run]=$(field "$json" p99)
    P50[$run]=$(field "$json" p50)
    REQS[$run]=$(field "$json" requests_per_second)
    CPU[$run]=$(field "$json" cpu_percent)
    GEN_CPU[$run]=$(field "$json" loadgen_cpu_percent)
    ROWS[$run]=$acked
done
done
done
done

# The generator's ceiling: the same load against a receiver that does nothing (not in a soak).
SINK_RATE=
if [[ $SOAK != 1 ]]; then
    sink_signal=${SIGNALS%% *}
    port=$("$LOADGEN" free-port)
    "$LOADGEN" sink --port "$port" >"$WORK/sink.log" 2>&1 &
    sink=$!
    PIDS+=("$sink")
    wait_ready "http://127.0.0.1:$port/health" "$sink" || die "sink did not start"
    sink_mode=keep-alive
    [[ $RECONNECT != 0 ]] && sink_mode="a new connection per request"
    echo "== sink ceiling: $sink_signal, $CONNECTIONS connections ($sink_mode, plain HTTP), $DURATION"
    "$LOADGEN" run --url "http://127.0.0.1:$port" "${RECONNECT_ARGS[@]}" "${BATCH_ARGS[@]}" \
        --signal "$sink_signal" --connections "$CONNECTIONS" --duration "$DURATION" \
        --warmup "$WARMUP" | tee "$WORK/sink.txt"
    SINK_RATE=$(field "$(tail -n 1 "$WORK/sink.txt")" records_per_second)
    stop "$sink"
fi

# percent VALUE: "185 %", or n/a when the figure is missing.
percent() { if [[ -n $1 ]]; then awk -v c="$1" 'BEGIN { printf "%.0f %%", c }'; else echo n/a; fi; }

verdict() { awk -v v="$1" -v t="$2" -v dir="$3" 'BEGIN {
    ok = (dir == "min") ? v >= t : v <= t; print ok ? "met" : "MISSED" }'; }

echo
echo "== summary ($CONNECTIONS connections, $MODE, $DURATION measured, $(nproc) cores shared by server and generator)"
printf '%-24s %14s %14s %8s %12s %12s %8s %9s %9s %9s %11s %8s\n' run records/s target "" "peak RSS" \
    target "" "p50 ms" "p99 ms" "req/s" "server CPU" "gen CPU"
for run in "${RUNS[@]}"; do
    target=$TARGET_LOGS
    [[ $run == */traces/* ]] && target=$TARGET_SPANS
    [[ $run == */metrics/* ]] && target=$TARGET_POINTS
    rss_mib=$(awk -v b="${RSS[$run]:-0}" 'BEGIN { printf "%.0f", b / 1048576 }')
    printf '%-24s %14.0f %14s %8s %8s MiB %10s MiB %6s %9.2f %9.2f %9.1f %11s %8s\n' "$run" \
        "${RATE[$run]}" "≥ $target" "$(verdict "${RATE[$run]}" "$target" min)" \
        "$rss_mib" "≤ $TARGET_RSS_MIB" "$(verdict "$rss_mib" "$TARGET_RSS_MIB" max)" \
        "${P50[$run]}" "${P99[$run]}" "${REQS[$run]}" "$(percent "${CPU[$run]}")" \
        "$(percent "${GEN_CPU[$run]}")"
done
[[ -n $SINK_RATE ]] &&
    printf '%-24s %14.0f   (generator ceiling, http, %s, no server work)\n' sink "$SINK_RATE" "$sink_signal"
echo "rows verified on disk: $(for r in "${RUNS[@]}"; do printf '%s=%s ' "$r" "${ROWS[$r]}"; done)"
