#!/usr/bin/env bash
# Cloudflare Worker tooling (issue 5): filled in with the Worker target. Called by scripts/install-deps.sh.
set -euo pipefail
