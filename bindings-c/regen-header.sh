#!/usr/bin/env bash
# Generates include/anchor_webhooks.h from bindings-c/src with the pinned cbindgen (installed into
# .tools/cbindgen-<version>/ on first use).
#   bindings-c/regen-header.sh           rewrite the header
#   bindings-c/regen-header.sh --check   exit 1 (with a diff) if the committed header is stale
set -euo pipefail
CBINDGEN_VERSION=0.29.4
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tool_root="$repo/.tools/cbindgen-$CBINDGEN_VERSION"
cbindgen="$tool_root/bin/cbindgen"
if [[ ! -x "$cbindgen" ]] || [[ "$("$cbindgen" --version)" != "cbindgen $CBINDGEN_VERSION" ]]; then
  echo "installing cbindgen $CBINDGEN_VERSION into $tool_root" >&2
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --root "$tool_root" >&2
fi
header="$repo/include/anchor_webhooks.h"
generate() {
  "$cbindgen" --quiet --config "$repo/bindings-c/cbindgen.toml" --crate anchor-webhooks-c --output "$1" "$repo/bindings-c"
}
if [[ "${1:-}" == "--check" ]]; then
  fresh="$(mktemp)"
  trap 'rm -f "$fresh"' EXIT
  generate "$fresh"
  if ! diff -u "$header" "$fresh"; then
    echo "include/anchor_webhooks.h is stale: regenerate it with  bindings-c/regen-header.sh  and commit it" >&2
    exit 1
  fi
  echo "include/anchor_webhooks.h is up to date (cbindgen $CBINDGEN_VERSION)"
else
  generate "$header"
  echo "wrote include/anchor_webhooks.h (cbindgen $CBINDGEN_VERSION)"
fi
