#!/usr/bin/env bash
# Runs every cargo-fuzz target of core/fuzz for FUZZ_SECONDS (default 60) seconds each.
#
#   scripts/fuzz.sh                 # all targets
#   FUZZ_SECONDS=10 scripts/fuzz.sh envelope anchor_headers
#
# Installs cargo-fuzz into .tools/ (git-ignored) the first time and reuses it afterwards. Needs the nightly
# toolchain (libFuzzer and sanitizers); without it the script says so and exits 0 (nothing to run here).
# Exits 1 when a target crashes; the crashing input is kept in core/fuzz/artifacts/<target>/.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dir="$root/core/fuzz"
tools="$root/.tools"
seconds="${FUZZ_SECONDS:-60}"

if ! [[ "$seconds" =~ ^[0-9]+$ ]] || [ "$seconds" -eq 0 ]; then
    echo "fuzz.sh: FUZZ_SECONDS must be a positive whole number of seconds (got '$seconds')" >&2
    exit 2
fi

if ! command -v rustup >/dev/null 2>&1 || ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz.sh: SKIPPED: the nightly Rust toolchain is not installed (cargo-fuzz needs it)."
    echo "fuzz.sh: install it with 'rustup toolchain install nightly' to run the fuzz targets."
    exit 0
fi

export PATH="$tools/bin:$PATH"
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz.sh: installing cargo-fuzz into $tools (once)"
    cargo install cargo-fuzz --locked --root "$tools"
fi

cd "$root/core"
if [ "$#" -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
    echo "fuzz.sh: no fuzz targets found in $fuzz_dir" >&2
    exit 1
fi

failed=()
for target in "${targets[@]}"; do
    echo "fuzz.sh: === $target (${seconds}s)"
    corpus="$fuzz_dir/corpus/$target"
    mkdir -p "$corpus"
    # New inputs go to corpus/ (git-ignored); seeds/ holds the committed starting points.
    corpora=("$corpus")
    [ -d "$fuzz_dir/seeds/$target" ] && corpora+=("$fuzz_dir/seeds/$target")
    options=(-max_total_time="$seconds" -print_final_stats=1)
    [ -f "$fuzz_dir/dicts/$target.dict" ] && options+=(-dict="$fuzz_dir/dicts/$target.dict")
    if ! cargo +nightly fuzz run "$target" "${corpora[@]}" -- "${options[@]}"; then
        failed+=("$target")
        echo "fuzz.sh: $target FAILED; crashing inputs:" >&2
        ls -1 "$fuzz_dir/artifacts/$target" 2>/dev/null | sed "s|^|  core/fuzz/artifacts/$target/|" >&2 || true
        echo "  reproduce: (cd core && cargo +nightly fuzz run $target fuzz/artifacts/$target/<file>)" >&2
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "fuzz.sh: ${#failed[@]} of ${#targets[@]} targets failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz.sh: all ${#targets[@]} targets ran ${seconds}s each without a crash"
