#!/usr/bin/env bash
# The whole test of the Go binding (callable from anywhere; exits non-zero on any failure): builds the
# static library (release) and the anchor-webhooks CLI, then gofmt, go vet, and go test -race (every
# shared vector, the API, Middleware with a MemoryStore and with a RedisStore on private redis-servers, and the
# end-to-end run against `anchor-webhooks serve`), then the
# allocation tests again without -race.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
cd "$repo"
cargo build --locked --release -p anchor-webhooks-c
cargo build --locked -p anchor-webhooks-cli
cd bindings-go
# The library directory of this build comes first; the #cgo default (../target/release) is the fallback.
export CGO_LDFLAGS="-L$target/release"
export ANCHOR_WEBHOOKS_CLI="$target/debug/anchor-webhooks"
unformatted="$(gofmt -l .)"
if [[ -n "$unformatted" ]]; then
  echo "gofmt: run  gofmt -w bindings-go  (unformatted: $unformatted)" >&2
  exit 1
fi
go vet ./...
go test -race -count=1 ./...
# Allocation counts rely on sync.Pool, which -race empties at random: pinned in a run without it.
go test -count=1 -run 'Allocations|Allocating|Packed' ./...
