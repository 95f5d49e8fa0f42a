#!/usr/bin/env bash
# The whole test of the C ABI (callable from anywhere; exits non-zero on any failure):
#   header drift (pinned cbindgen), Rust unit tests, the C harness (every shared vector, the API, hostile
#   calls, threads) plain / under valgrind / under ASan+UBSan, the example on a delivery signed by
#   `anchor-webhooks sign`, the shared library and the pkg-config file, and last the check that no other
#   Rust source of the repository uses `unsafe`.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
target="${CARGO_TARGET_DIR:-$repo/target}"
work="$target/anchor-c"
mkdir -p "$work"
CC="${CC:-cc}"
LIBS=(-lpthread -ldl -lm)
step() { printf '\n== %s\n' "$*"; }

missing_tools=()
command -v valgrind >/dev/null || missing_tools+=(valgrind)
command -v pkg-config >/dev/null || missing_tools+=(pkg-config)
if ((${#missing_tools[@]})); then
  step "installing ${missing_tools[*]} (Debian packages)"
  apt-get update -qq && apt-get install -y -qq "${missing_tools[@]}" >/dev/null
fi

step "header: include/anchor_webhooks.h matches what the pinned cbindgen generates"
bindings-c/regen-header.sh --check

step "every function of the header is exercised by the hostile-call test"
missing=()
for fn in $(grep -oE '\banchor_[a-z_]+\(' include/anchor_webhooks.h | tr -d '(' | sort -u); do
  grep -q "\b$fn(" bindings-c/harness/hostile_test.c || missing+=("$fn")
done
if ((${#missing[@]})); then
  echo "not called in bindings-c/harness/hostile_test.c: ${missing[*]}" >&2
  exit 1
fi

step "build: libanchor_webhooks (debug) and the anchor-webhooks CLI"
cargo build --locked -p anchor-webhooks-c -p anchor-webhooks-cli
lib="$target/debug"

step "Rust unit tests: result-enum drift against the core's catalogue, the panic guard, pointer checks"
cargo test --locked -p anchor-webhooks-c --lib

step "C harness: generate the vector table from tests/vectors/*.json"
python3 bindings-c/harness/gen_vectors.py "$work/vectors.h"
sources=(bindings-c/harness/{main,vectors_test,api_test,hostile_test,redis_test}.c)
cflags=(-std=c11 -Wall -Wextra -Werror -g -I include -I "$work" -pthread)

step "C harness: header compiles as C++ too"
echo '#include "anchor_webhooks.h"' | c++ -x c++ -std=c++11 -Wall -Werror -fsyntax-only -I include -

step "C harness: a private redis-server for the Redis store's tests (password-protected, loopback)"
redis_server="$(scripts/ensure-redis.sh)"
redis_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$redis_server" --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --requirepass c-harness-password \
  --logfile "$work/redis.log" --daemonize no &
redis_pid=$!
trap 'kill "$redis_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  redis-cli -p "$redis_port" -a c-harness-password --no-auth-warning ping 2>/dev/null | grep -q PONG && break
  sleep 0.05
done
export ANCHOR_TEST_REDIS_PORT="$redis_port" ANCHOR_TEST_REDIS_PID="$redis_pid"

step "C harness: plain run"
"$CC" "${cflags[@]}" -O1 "${sources[@]}" "$lib/libanchor_webhooks.a" "${LIBS[@]}" -o "$work/harness"
"$work/harness"

step "C harness: valgrind (no leaks of any kind, no errors)"
valgrind --quiet --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all --error-exitcode=1 \
  --fair-sched=yes "$work/harness" >"$work/valgrind.out"
tail -n1 "$work/valgrind.out"

step "C harness: AddressSanitizer + UndefinedBehaviorSanitizer (static library linked in)"
# The executable is built with the sanitizers, so their runtime is linked in (no LD_PRELOAD), and Rust's
# allocations go through the intercepted malloc: LeakSanitizer sees them too (detect_leaks stays on).
"$CC" "${cflags[@]}" -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
  "${sources[@]}" "$lib/libanchor_webhooks.a" "${LIBS[@]}" -o "$work/harness-asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  "$work/harness-asan" >"$work/asan.out"
tail -n1 "$work/asan.out"

step "example: examples/c/verify_delivery on a delivery signed by \`anchor-webhooks sign\`"
"$CC" -Wall -Wextra -Werror -std=c11 -I include examples/c/verify_delivery.c "$lib/libanchor_webhooks.a" \
  "${LIBS[@]}" -o "$work/verify_delivery"
secret=36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6
printf '%s' '{"id":"evt_example","type":"task.failed","created":"2026-05-24T12:18:05.123Z","data":{"error":{"type":"timeout"}}}' \
  >"$work/delivery.body"
"$target/debug/anchor-webhooks" sign --secret "$secret" --body-file "$work/delivery.body" >"$work/delivery.headers"
out="$("$work/verify_delivery" --secret "$secret" "$work/delivery.headers" "$work/delivery.body")"
[[ "$out" == "task.failed" ]] || { echo "expected task.failed, got: $out" >&2; exit 1; }
echo "verified: $out"
# A tampered body is refused with the exact code and exit status 1.
sed 's/timeout/agent_error/' "$work/delivery.body" >"$work/tampered.body"
status=0
ANCHOR_WEBHOOK_SECRET="$secret" "$work/verify_delivery" "$work/delivery.headers" "$work/tampered.body" \
  2>"$work/tampered.err" || status=$?
[[ $status == 1 ]] && grep -q '^refused: signature_mismatch (HTTP 401): signature mismatch' "$work/tampered.err" \
  || { echo "tampered body: status $status, $(cat "$work/tampered.err")" >&2; exit 1; }
echo "$(cut -c1-70 "$work/tampered.err")..."

step "shared library + pkg-config: the example linked against libanchor_webhooks.so"
pcdir="$(dirname "$(bindings-c/make-pc.sh "$lib" "$work/pkgconfig")")"
# shellcheck disable=SC2046 # pkg-config prints separate flags
"$CC" -Wall -Wextra -Werror -std=c11 examples/c/verify_delivery.c \
  $(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs anchor_webhooks) -o "$work/verify_delivery_shared"
# Read whole before matching: `ldd | grep -q` under pipefail fails when grep exits first and ldd gets SIGPIPE.
linked="$(ldd "$work/verify_delivery_shared")"
[[ $linked == *libanchor_webhooks.so* ]] || { echo "not dynamically linked: $linked" >&2; exit 1; }
out="$(LD_LIBRARY_PATH="$lib" "$work/verify_delivery_shared" --secret "$secret" "$work/delivery.headers" "$work/delivery.body")"
[[ "$out" == "task.failed" ]] || { echo "shared: expected task.failed, got: $out" >&2; exit 1; }
echo "verified through the shared library: $out"

step "all unsafe Rust of the project lives in bindings-c/src (last: it reads the other crates' sources)"
cargo test --locked -p anchor-webhooks-c --test unsafe_confined

echo
echo "bindings-c: all checks passed"
