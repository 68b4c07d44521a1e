#!/usr/bin/env bash
# Filled in with the Worker target (issue 5).
set -euo pipefail
echo "wasm $1: not built yet" >&2; exit 2
