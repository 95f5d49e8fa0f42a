#!/usr/bin/env bash
# The Python binding's whole test, from a clean checkout: builds a release wheel once with maturin,
# installs it with the pinned test dependencies into a FRESH virtualenv, then runs, against the installed
# wheel (never the source tree): mypy.stubtest, the stub drift test and the whole pytest suite (vectors,
# inputs, receiver and Redis store against a real redis-server, GIL release, the framework integrations,
# end to end with `anchor-webhooks serve` and real uvicorn / waitress / gunicorn servers). Exits non-zero on any
# failure. Callable from anywhere; `CARGO_TARGET_DIR` is honoured (default: <repo>/target).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
MATURIN_VERSION=1.16.0
PYTHON="${PYTHON:-python3}"

step() { printf '\n== %s\n' "$*"; }

step "redis-server (the Redis store's tests start a private one)"
"$ROOT/scripts/ensure-redis.sh" >/dev/null

step "anchor-webhooks CLI (the emulator of the end-to-end tests)"
(cd "$ROOT" && cargo build --locked --quiet -p anchor-webhooks-cli)
ANCHOR_WEBHOOKS_BIN="$TARGET/debug/anchor-webhooks"

step "maturin $MATURIN_VERSION (cached in $TARGET/python-tools)"
TOOLS="$TARGET/python-tools/maturin-$MATURIN_VERSION"
if [[ ! -x "$TOOLS/bin/maturin" ]]; then
  rm -rf "$TOOLS"
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

step "no ignored files in bindings-python/python (the wheel is built from what a clean checkout has)"
# The wheel must show that a clean checkout builds: an ignored file under python/ (a `_native*.so` left by
# `maturin develop`) is not part of one, so its presence is refused rather than built around.
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  IGNORED="$(git -C "$ROOT" ls-files --others --ignored --exclude-standard -- bindings-python/python)"
  if [[ -n "$IGNORED" ]]; then
    echo "error: ignored files inside bindings-python/python (a clean checkout has none):" >&2
    sed 's/^/  /' <<<"$IGNORED" >&2
    echo "remove them (e.g. left by \`maturin develop\`), then run this script again:" >&2
    echo "  git -C \"$ROOT\" clean -fX -- bindings-python/python    # or rm each file listed above" >&2
    exit 1
  fi
else
  echo "not a git checkout: skipped"
fi

step "release wheel"
WHEELS="$TARGET/python-wheels"
rm -rf "$WHEELS"
(cd "$HERE" && CARGO_TARGET_DIR="$TARGET" "$TOOLS/bin/maturin" build --release --locked --quiet \
  --interpreter "$PYTHON" --out "$WHEELS")
WHEEL="$(ls "$WHEELS"/anchor_webhooks-*.whl)"
echo "built $(basename "$WHEEL")"

step "fresh virtualenv with the wheel and the pinned test dependencies"
VENV="$TARGET/python-test-venv"
rm -rf "$VENV"
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install --quiet --disable-pip-version-check "$WHEEL" -r "$HERE/requirements-test.txt"
SITE="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

# Run from outside the source tree so nothing can import bindings-python/python by accident.
cd "$TARGET"

step "mypy.stubtest (the stubs against the installed module)"
"$VENV/bin/python" -m mypy.stubtest anchor_webhooks --mypy-config-file "$HERE/pyproject.toml" \
  --allowlist "$HERE/stubtest-allowlist.txt"

step "mypy --strict on the examples (the stubs as a user's type checker sees them)"
"$VENV/bin/python" -m mypy --config-file "$HERE/pyproject.toml" --no-incremental "$ROOT/examples/python"

step "pytest against the installed wheel"
ANCHOR_WEBHOOKS_BIN="$ANCHOR_WEBHOOKS_BIN" ANCHOR_WEBHOOKS_EXPECT_INSTALLED_IN="$SITE" \
  "$VENV/bin/python" -m pytest "$HERE/tests" -p no:cacheprovider -q -rs
