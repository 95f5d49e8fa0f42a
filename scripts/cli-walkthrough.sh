#!/usr/bin/env bash
# `make walkthrough`: signs and verifies deliveries with the CLI, showing what a receiver sees in each case.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --locked -p anchor-webhooks-cli
cli=target/debug/anchor-webhooks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

secret=36da51b166a69268a59a8d5ee0b32c9f5e5aaee7d301c7a5a36844318e116fc6
old_secret=8f14e45fceea167a5a36dedd4bea2543c9f0b7a1d2e3f4a5b6c7d8e9f0a1b2c3
now=$(date +%s)
cat >"$work/body.json" <<JSON
{"id":"evt_demo_1","type":"task.completed","created":"2026-05-24T12:18:05.123Z","project_id":"5d2c31f6-ab7e-481a-b6fd-8b4a96a4e197","text":"Task completed","data":{"task_id":"task_1","artifacts":[]}}
JSON

step() { printf '\n== %s\n' "$1"; }
show() { printf '$ %s\n' "$*"; "$@" || printf '(exit %d)\n' "$?"; }

step "The provider signs a delivery (headers it would send)"
"$cli" sign --secret "$secret" --timestamp "$now" --body-file "$work/body.json" | tee "$work/headers.txt"

step "A receiver verifies it"
show "$cli" verify --secret "$secret" --headers-file "$work/headers.txt" --body-file "$work/body.json"

step "A forged body (one byte changed) is refused"
sed 's/task_1/task_2/' "$work/body.json" >"$work/forged.json"
show "$cli" verify --secret "$secret" --headers-file "$work/headers.txt" --body-file "$work/forged.json"

step "A replay ten minutes later is refused, with the measured skew"
show "$cli" verify --secret "$secret" --now $((now + 600)) --headers-file "$work/headers.txt" --body-file "$work/body.json"

step "A body re-serialised by a JSON parser is refused, and the message says why"
python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$work/body.json" >"$work/reserialised.json"
show "$cli" verify --secret "$secret" --headers-file "$work/headers.txt" --body-file "$work/reserialised.json"

step "Mid-rotation the receiver holds the new and the old secret; matched_secret says which one signed"
"$cli" sign --secret "$old_secret" --timestamp "$now" --body-file "$work/body.json" >"$work/old.txt"
show "$cli" verify --secret "$secret" --secret "$old_secret" --headers-file "$work/old.txt" --body-file "$work/body.json"

step "A secret pasted with a trailing newline is refused when the verifier is built"
show "$cli" verify --secret "$secret"$'\n' --headers-file "$work/headers.txt" --body-file "$work/body.json"

step "Standard Webhooks: the official test vector"
printf '{"test": 2432232314}' >"$work/sw.json"
"$cli" sign --scheme standard --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --id msg_p5jXN8AQM9LWM0D4loKWxJek \
  --timestamp 1614265330 --body-file "$work/sw.json" | tee "$work/sw-headers.txt"
show "$cli" verify --scheme standard --secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw --now 1614265330 \
  --headers-file "$work/sw-headers.txt" --body-file "$work/sw.json"
