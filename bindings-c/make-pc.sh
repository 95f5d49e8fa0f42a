#!/usr/bin/env bash
# Writes anchor_webhooks.pc for a built library:  bindings-c/make-pc.sh LIBDIR [OUTPUT_DIR]
# LIBDIR holds libanchor_webhooks.{a,so} (e.g. target/release); the file goes to OUTPUT_DIR (default
# LIBDIR/pkgconfig). Then:  PKG_CONFIG_PATH=OUTPUT_DIR pkg-config --cflags --libs anchor_webhooks
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
libdir="$(cd "${1:?usage: make-pc.sh LIBDIR [OUTPUT_DIR]}" && pwd)"
out="${2:-$libdir/pkgconfig}"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$repo/Cargo.toml" | head -n1)"
mkdir -p "$out"
sed -e "s#@LIBDIR@#$libdir#" -e "s#@INCLUDEDIR@#$repo/include#" -e "s#@VERSION@#$version#" \
  "$repo/bindings-c/anchor_webhooks.pc.in" >"$out/anchor_webhooks.pc"
echo "$out/anchor_webhooks.pc"
