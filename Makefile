# otlp2parquet developer workflow (README.md#development). `make test` is what CI runs.
SHELL := /bin/bash
CARGO ?= cargo
LIB_CRATES := -p otlp2parquet-proto -p otlp2parquet-common -p otlp2parquet-writer -p otlp2parquet-handlers \
              -p otlp2parquet-batch
export TEST_PYTHON ?= $(CURDIR)/.venv/bin/python
FUZZ_SECONDS ?= 600

.PHONY: dev deps pre-commit fmt clippy check test test-unit test-e2e bench bench-load bench-soak \
        build-lambda wasm-full wasm-size wasm-profile fuzz

## dev: install the commit-msg hook and every tool the tests need
dev: deps
	hooks="$$(git rev-parse --git-path hooks)"; mkdir -p "$$hooks" && cp scripts/hooks/commit-msg "$$hooks/commit-msg" && chmod +x "$$hooks/commit-msg"
	@echo "commit-msg hook installed"

## deps: install missing test tools (wasm32 target, clang, Python venv with DuckDB/chdb/pyarrow)
deps:
	./scripts/install-deps.sh

## pre-commit: formatting, clippy and the fast tests
pre-commit: fmt clippy test-unit

fmt:
	$(CARGO) fmt --all -- --check

## clippy: zero warnings on every crate and target
clippy:
	$(CARGO) clippy --workspace --all-targets --all-features -- -D warnings

## check: the platform-neutral library crates (the batch core included) build natively and for
## wasm32 with zero clippy warnings, and so does the Worker's wasm32-only code
check: deps
	$(CARGO) clippy $(LIB_CRATES) --all-targets -- -D warnings
	$(CARGO) clippy $(LIB_CRATES) --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy -p otlp2parquet-cloudflare --lib --target wasm32-unknown-unknown -- -D warnings

## test: the whole suite from a fresh machine (installs what it needs), end-to-end included,
## and the Worker's size gate
test: deps fmt check clippy
	$(CARGO) test --workspace --all-targets --all-features
	$(CARGO) test --workspace --doc
	./scripts/wasm.sh size
	./scripts/fuzz.sh smoke

## test-unit: every test but the end-to-end ones (no external tool needed; same as a plain
## `cargo test --workspace`, plus the optional features' unit tests)
test-unit:
	$(CARGO) test --workspace --lib --bins --tests --examples --all-features -- --skip e2e::
	$(CARGO) test --workspace --benches --all-features

## test-e2e: only the end-to-end tests: the server binary on a real port, the Lambda under
## `cargo lambda watch`, the Worker in workerd; ClickHouse (chdb), DuckDB and the reference
## implementation reading our files back
test-e2e: deps
	$(CARGO) test -p otlp2parquet-handlers --features e2e --test tests e2e::
	$(CARGO) test -p otlp2parquet-writer --features e2e --test tests e2e::
	$(CARGO) test -p otlp2parquet --features e2e e2e::
	$(CARGO) test -p otlp2parquet-lambda --features e2e --test tests e2e::
	$(CARGO) test -p otlp2parquet-cloudflare --features e2e --test tests e2e::

## bench: criterion benches of the pure core (decode, convert, encode, end to end)
bench:
	$(CARGO) bench --workspace --all-features

## bench-load: the release server under HTTP load (logs, traces, metrics, generator ceiling);
## rows on disk verified after SIGTERM. LOAD_SIGNAL, LOAD_CONNECTIONS, LOAD_DURATION override the
## defaults; LOAD_TLS="off on" runs plain then TLS back to back, LOAD_RECONNECT=1 a new connection
## per request
bench-load:
	CARGO=$(CARGO) ./scripts/bench-load.sh

## bench-soak: 10 minutes of log load (4 connections: a sustainable rate) on the release server,
## write-ahead log on: RSS sampled every 10 s and bounded, no error response (503 included),
## rows verified, the log empty after the final flush
bench-soak:
	LOAD_SOAK=1 LOAD_SIGNAL=logs LOAD_DURATION=$${LOAD_DURATION:-600s} \
	LOAD_CONNECTIONS=$${LOAD_CONNECTIONS:-4} CARGO=$(CARGO) ./scripts/bench-load.sh

## build-lambda: bootstrap zips for arm64 and x86_64 (cargo-lambda), with their sizes
build-lambda: deps
	./scripts/build-lambda.sh

## wasm-full: the Cloudflare Worker, built offline with worker-build (crates/otlp2parquet-cloudflare/build)
wasm-full: deps
	./scripts/wasm.sh full

## wasm-size: raw, optimized and gzip sizes of the Worker; fails above 1.2 MB gzip
wasm-size: deps
	./scripts/wasm.sh size

## wasm-profile: the largest items of the Worker's wasm (twiggy)
wasm-profile: deps
	./scripts/wasm.sh profile

## fuzz: every cargo-fuzz target for FUZZ_SECONDS each (default 600), one after the other, with a
## summary of executions; `make test` runs only `./scripts/fuzz.sh smoke` (docs/fuzzing.md)
fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./scripts/fuzz.sh run
