#!/usr/bin/env bash
# The Node binding's benchmark: builds the release addon, then runs bench.mjs, which writes
# bindings-node/BENCH_RESULTS.md and prints it. Uses ${CARGO_TARGET_DIR:-<repo>/target}.
#   bindings-node/bench.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
cd "$here"

npm ci --no-audit --no-fund --loglevel=error
node scripts/build.mjs --release --check
node bench.mjs
