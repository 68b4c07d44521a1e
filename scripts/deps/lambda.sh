#!/usr/bin/env bash
# Lambda tooling (issue 4): filled in with the Lambda target. Called by scripts/install-deps.sh.
set -euo pipefail
