#!/usr/bin/env bash
# The whole test of the wasm binding (callable from anywhere): installs the npm dev dependencies (npm ci),
# builds the package (build.sh: wasm32 target, wasm-bindgen CLI, wasm-opt), builds the CLI that signs the
# browser test's delivery, installs Debian's chromium when /usr/bin/chromium is missing, lints the crate
# for wasm32, then runs every node:test file in tests/: the shared vectors, the API, the example worker,
# drift checks (.d.ts unions, versions, exports, tsc), the example worker in a real workerd, and the
# headless-Chromium test.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
# No test downloads a browser: playwright-core drives Debian's chromium.
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
(cd "$repo/examples/edge-worker" && npm ci --no-audit --no-fund --loglevel=error)
if [ "$(uname -sm)" = "Linux x86_64" ]; then
    (cd "$here/tests/workerd" && npm ci --no-audit --no-fund --loglevel=error)
fi

"$here/build.sh"
cargo build --locked --quiet -p anchor-webhooks-cli

if [ ! -x /usr/bin/chromium ]; then
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium
fi

# The native build is linted by `make lint`; the wasm32 build has code of its own (wasm-bindgen exports).
CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128" \
    cargo clippy --locked --quiet -p anchor-webhooks-wasm --target wasm32-unknown-unknown -- -D warnings

cd "$here"
ANCHOR_WEBHOOKS_CLI="$CARGO_TARGET_DIR/debug/anchor-webhooks" node --test tests/
