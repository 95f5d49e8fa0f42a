#!/usr/bin/env bash
# Makes sure the rustfmt and clippy components exist (a bare rustup toolchain may lack them).
set -euo pipefail
missing=()
cargo fmt --version >/dev/null 2>&1 || missing+=(rustfmt)
cargo clippy --version >/dev/null 2>&1 || missing+=(clippy)
if ((${#missing[@]})); then
  rustup component add "${missing[@]}"
fi
