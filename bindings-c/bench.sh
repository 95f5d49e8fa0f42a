#!/usr/bin/env bash
# C figures: anchor_verifier_verify / _verify_signature called from C (static library, release profile)
# against the Rust core called directly (benches/rust_baseline.rs) on the same body and headers, timed
# the same way, in the same run. Writes bindings-c/BENCH_RESULTS.md and prints it.
#
# The two programs alternate for ROUNDS rounds. The verdict uses each side's fastest round (its cost when
# nothing else competed for the 2 shared vCPUs); the median of the per-round ratios is shown beside it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
target="${CARGO_TARGET_DIR:-$repo/target}"
ROUNDS="${ROUNDS:-5}"
cd "$repo"
work="$target/anchor-c-bench"
mkdir -p "$work"
cargo build --locked --release -p anchor-webhooks-c
cargo build --locked -p anchor-webhooks-cli
rust_bench="$(cargo bench --locked -p anchor-webhooks-c --bench rust_baseline --no-run --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "rust_baseline" and m.get("executable"):
        print(m["executable"])')"
cc -std=c11 -O2 -Wall -Wextra -Werror -I include bindings-c/harness/bench.c "$target/release/libanchor_webhooks.a" \
  -lpthread -ldl -lm -o "$work/bench_c"

# Inputs: the core benchmark's body (a compact task.completed envelope padded to size), signed by the CLI.
secret=36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6
now=1716544084
printf '%s' "$secret" >"$work/secret"
printf '%s' "$now" >"$work/now"
for size in 256 4096 65536; do
  python3 - "$size" >"$work/$size.body" <<'PY'
import sys
size = int(sys.argv[1])
head = ('{"id":"evt_2Zq7mW1xY8kR3tB6","type":"task.completed","created":"2026-05-24T12:18:05.123Z",'
        '"project_id":"5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197","text":"Task completed",'
        '"data":{"task_id":"tsk_91c","artifacts":[],"output":{"value":"')
tail = '"}}}'
filler = "The quick brown fox jumps over the lazy dog; 0123456789. "
pad = (filler * (size // len(filler) + 1))[: size - len(head) - len(tail)]
sys.stdout.write(head + pad + tail)
PY
  "$target/debug/anchor-webhooks" sign --secret "$secret" --timestamp "$now" --body-file "$work/$size.body" \
    >"$work/$size.headers"
done

raw="$work/raw.txt"
: >"$raw"
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
  ANCHOR_BENCH_DIR="$work" "$work/bench_c" | sed "s/^/$round /" >>"$raw"
  ANCHOR_BENCH_DIR="$work" "$rust_bench" | sed "s/^/$round /" >>"$raw"
  echo "round $round of $ROUNDS done" >&2
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

# Instructions per call, counted by callgrind (deterministic, whatever else runs): N calls minus 0 calls.
instructions() { # program op size iterations
  ANCHOR_BENCH_DIR="$work" ANCHOR_BENCH_COUNT="$2 $3 $4" valgrind --tool=callgrind \
    --callgrind-out-file=/dev/null "$1" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
counts="$work/instructions.txt"
: >"$counts"
for op in verify verify_signature; do
  for size in 256 4096 65536; do
    n=$((size == 65536 ? 20 : size == 4096 ? 200 : 2000))
    for side in c rust; do
      program="$work/bench_c"
      [[ $side == rust ]] && program="$rust_bench"
      with="$(instructions "$program" "$op" "$size" "$n")"
      without="$(instructions "$program" "$op" "$size" 0)"
      echo "$side $op $size $(((with - without) / n))" >>"$counts"
    done
  done
done
core_256="$(grep -m1 '^| 256B' core/benches/RESULTS.md | awk -F'|' '{gsub(/ /,"",$5); gsub(/ /,"",$9); print $5" "$9}')"
python3 - "$raw" "$load_before" "$load_after" "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" \
  "$(rustc --version)" "$core_256" "$counts" <<'PY' >bindings-c/BENCH_RESULTS.md
import statistics, sys, datetime
raw, load_before, load_after, cpu, rustc, core_256, counts_file = sys.argv[1:8]
counts = {}
for line in open(counts_file):
    side, op, size, n = line.split()
    counts[(side, op, int(size))] = int(n)
runs = {}
for line in open(raw):
    rnd, side, op, size, ns = line.split()
    runs.setdefault((op, int(size)), {}).setdefault(int(rnd), {})[side] = float(ns)
label = {256: "256 B", 4096: "4 KiB", 65536: "64 KiB"}
def fmt(ns):
    return f"{ns/1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"
core_sig, core_verify = (core_256.split() + ["?", "?"])[:2]
print("# C ABI benchmark\n")
print("Written by `bindings-c/bench.sh`; do not edit by hand.\n")
print(f"- date: {datetime.datetime.utcnow():%Y-%m-%d %H:%M} UTC; CPU: {cpu}; {rustc}")
print(f"- load average before / after: {load_before} / {load_after} (2 cores; other work on the machine shows up here)")
print(f"- {max(len(r) for r in runs.values())} rounds alternating the C program and the Rust program; each figure is the")
print("  median of 25 samples of a calibrated batch; times are each side's fastest round, the ratio (verdict)")
print("  is fastest C / fastest Rust, and the median of the per-round ratios is shown for the spread")
print("- C: `anchor_verifier_verify` + `anchor_event_free` (the event handle is made and freed every call),")
print("  and `anchor_verifier_verify_signature`, with the six headers of `anchor-webhooks sign` as an")
print("  `anchor_header` array (harness/bench.c); Rust: `Verifier::verify` / `verify_signature` on a")
print("  `Vec<(String, String)>` of the same headers (benches/rust_baseline.rs); same bodies as the core's")
print("  criterion bench (a compact `task.completed` envelope padded to size)")
print(f"- for reference, core/benches/RESULTS.md (criterion, its own run) has at 256 B: `verify_signature` {core_sig},")
print(f"  `verify` {core_verify}")
print("- reproduce: `bindings-c/bench.sh` (ROUNDS to change the effort)\n")
print("| operation | body | C (through the ABI) | Rust (core, direct) | ratio | median per-round ratio | instructions C / Rust (callgrind) | target | result |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for op in ("verify", "verify_signature"):
    for size in (256, 4096, 65536):
        rounds = [r for r in runs.get((op, size), {}).values() if "c" in r and "rust" in r]
        c = min(r["c"] for r in rounds)
        rust = min(r["rust"] for r in rounds)
        ratio = c / rust
        paired = statistics.median(r["c"] / r["rust"] for r in rounds)
        target = 1.2 if (op, size) == ("verify", 256) else None
        verdict = "(information)" if target is None else ("PASS" if ratio <= target else "MISS")
        tcol = "—" if target is None else f"≤ {target:.2f}×"
        ci, ri = counts.get(("c", op, size), 0), counts.get(("rust", op, size), 0)
        icol = f"{ci} / {ri} = {ci / ri:.3f}×" if ri else "—"
        print(f"| `{op}` | {label[size]} | {fmt(c)} | {fmt(rust)} | {ratio:.2f}× | {paired:.2f}× | {icol} | {tcol} | {verdict} |")
print()
print("The target (issue 8): verify at 256 B through the C ABI within 1.2× of the Rust core; the verdict uses")
print("the times. The instruction counts (callgrind, N calls minus 0 calls, divided by N) do not depend on the")
print("machine's load; valgrind does not execute SHA-NI, so both sides hash in software there and the absolute")
print("counts overstate hashing, but their difference is exactly what the ABI adds: the header-array")
print("conversion (on the stack), the panic guard, and the boxed event handle made and freed per call.")
PY
cat bindings-c/BENCH_RESULTS.md
