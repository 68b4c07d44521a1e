#!/usr/bin/env bash
# Lambda tooling (issue 4), installed into the project venv only when missing:
# cargo-lambda (build, and `watch`, the local Lambda emulator of the e2e tests), ziglang (the
# linker cargo-lambda uses for the arm64 cross build) and cfn-lint (checks the template of
# `otlp2parquet create aws`). Called by scripts/install-deps.sh after the venv exists.
set -euo pipefail
cd "$(dirname "$0")/../.."

log() { printf '\033[1m[deps]\033[0m %s\n' "$*"; }

VENV=.venv
CARGO_LAMBDA=1.9.2
ZIGLANG=0.17.1
CFN_LINT=1.58.0

installed() { "$VENV/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('$1') != '$2')" >/dev/null 2>&1; }

want=()
installed cargo-lambda "$CARGO_LAMBDA" || want+=("cargo-lambda==$CARGO_LAMBDA")
installed ziglang "$ZIGLANG" || want+=("ziglang==$ZIGLANG")
installed cfn-lint "$CFN_LINT" || want+=("cfn-lint==$CFN_LINT")
if [ "${#want[@]}" -gt 0 ]; then
  log "pip install ${want[*]}"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${want[@]}"
fi

# The aarch64 Rust target is added by scripts/build-lambda.sh when a zip is built: the tests do
# not need it.
