#!/usr/bin/env bash
# Benchmark of the wasm binding in Node against npm standardwebhooks and WebCrypto: builds the package,
# runs bench.mjs once, writes bindings-wasm/BENCH_RESULTS.md and prints it. `bench.sh --quick` for a
# shorter run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
"$here/build.sh"
cd "$here"
node bench.mjs "$@"
