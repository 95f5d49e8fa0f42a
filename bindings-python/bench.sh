#!/usr/bin/env bash
# Builds the release wheel, installs it with the alternatives it is measured against (requirements-bench.txt)
# into a virtualenv under the target directory, and runs bench.py, which writes BENCH_RESULTS.md next to
# this script and prints it. Arguments are passed to bench.py (e.g. --quick). `CARGO_TARGET_DIR` is
# honoured (default: <repo>/target).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
MATURIN_VERSION=1.16.0
PYTHON="${PYTHON:-python3}"

TOOLS="$TARGET/python-tools/maturin-$MATURIN_VERSION"
if [[ ! -x "$TOOLS/bin/maturin" ]]; then
  rm -rf "$TOOLS"
  "$PYTHON" -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "maturin==$MATURIN_VERSION"
fi

WHEELS="$TARGET/python-bench-wheels"
rm -rf "$WHEELS"
(cd "$HERE" && CARGO_TARGET_DIR="$TARGET" "$TOOLS/bin/maturin" build --release --locked --quiet \
  --interpreter "$PYTHON" --out "$WHEELS")

VENV="$TARGET/python-bench-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEELS"/anchor_webhooks-*.whl
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements-bench.txt"

cd "$TARGET"
"$VENV/bin/python" "$HERE/bench.py" "$@"
