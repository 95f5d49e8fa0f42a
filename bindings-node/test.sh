#!/usr/bin/env bash
# The Node binding's whole test, callable from anywhere (e.g. the repository root):
#   bindings-node/test.sh
# Installs the pinned npm devDependencies (npm ci), makes sure redis-server is there, builds the emulator
# (`anchor-webhooks serve`) and the native addon (debug), fails if the committed generated files
# (index.js, index.d.ts, lib/catalogue.d.ts) drift, type-checks the public .d.ts, runs the addon's Rust
# unit tests (the Redis thread pool, src/pool.rs), then runs every node:test file.
# Uses ${CARGO_TARGET_DIR:-<repo>/target}.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(dirname "$here")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$repo/target}"
export ANCHOR_WEBHOOKS_BIN="$CARGO_TARGET_DIR/debug/anchor-webhooks"
cd "$here"

echo "== npm ci (pinned devDependencies)"
npm ci --no-audit --no-fund --loglevel=error

echo "== redis-server"
"$repo/scripts/ensure-redis.sh" >/dev/null

echo "== the emulator (anchor-webhooks serve)"
(cd "$repo" && cargo build -p anchor-webhooks-cli --locked)

echo "== native addon + drift of index.js / index.d.ts"
node scripts/build.mjs --check

echo "== drift of lib/catalogue.d.ts"
node scripts/generate-catalogue.mjs --check

echo "== type-check of the public types"
node_modules/.bin/tsc -p test/types

echo "== the addon's Rust unit tests (the Redis thread pool)"
(cd "$repo" && cargo test -p anchor-webhooks-node --locked)

echo "== node:test"
node --test test/*.test.mjs
