# anchor-webhooks: every task of the project. `make help` lists them.
#
# Two commands matter on a fresh machine:  `make demo`  (the main job)  and  `make test`  (everything CI runs).

SHELL := /bin/bash
.DEFAULT_GOAL := help
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: help
help: ## List the targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  make %-18s %s\n", $$1, $$2}'

.PHONY: demo
demo: ## The main job: emulator + verifying receiver on loopback, every event type, forgery, retry, duplicate, rotation
	$(CARGO) run --locked --quiet -p anchor-webhooks-cli -- demo

.PHONY: walkthrough
walkthrough: ## `sign` and `verify` on the command line: a genuine delivery and every kind of refusal
	@scripts/cli-walkthrough.sh

.PHONY: build
build: ## Build every crate (debug)
	$(CARGO) build --workspace --locked

.PHONY: test
test: lint test-rust check-generated test-bindings ## Everything CI runs: lint, every test suite, generated-file drift
	@echo "make test: all checks passed"

.PHONY: test-bindings
test-bindings: test-python test-node test-wasm test-c test-go ## Every binding's suite (each builds its own artifacts once)

.PHONY: test-python
test-python: ensure-redis ## Python: release wheel into a fresh venv, vectors, inputs, stubtest, uvicorn/Flask end-to-end
	bindings-python/test.sh

.PHONY: test-node
test-node: ensure-redis ## Node: napi build, .d.ts drift, vectors, Express/Fastify/Hono end-to-end, standardwebhooks differential
	bindings-node/test.sh

.PHONY: test-wasm
test-wasm: ## wasm: web/bundler/nodejs builds, size budget, vectors in Node, example worker, headless Chromium
	bindings-wasm/test.sh

.PHONY: test-c
test-c: ensure-redis ## C ABI: header drift, vector harness + Redis store (private redis-server) under valgrind and ASan/UBSan, hostile calls, example
	bindings-c/test.sh

.PHONY: test-go
test-go: ensure-redis ## Go: vet, vectors, net/http end-to-end with -race
	bindings-go/test.sh

.PHONY: lint
lint: ## The declared rust-version against the dependencies', rustfmt --check and clippy -D warnings on every target and feature
	scripts/ensure-rust-tools.sh
	python3 scripts/check-rust-version.py
	$(CARGO) fmt --all --check
	$(CARGO) clippy --workspace --all-targets --all-features --locked -- -D warnings

.PHONY: ensure-redis
ensure-redis: ## Install Debian's redis-server if missing (the Redis store's tests start private instances)
	@scripts/ensure-redis.sh >/dev/null

.PHONY: test-rust
test-rust: ensure-redis ## Rust unit, vector, property, dedupe, Redis (real server), sender and CLI tests
	$(CARGO) test --workspace --all-features --locked

.PHONY: check-generated
check-generated: ## Fail if a generated file (test vectors, C header) differs from what its generator writes, or a licence copy from the root's
	python3 tests/vectors/generate.py --check
	bindings-c/regen-header.sh --check
	@# npm packs no symbolic links: the npm packages carry copies of the licence texts.
	for package in bindings-node bindings-wasm; do cmp LICENSE-MIT $$package/LICENSE-MIT && cmp LICENSE-APACHE $$package/LICENSE-APACHE || exit 1; done

.PHONY: regen
regen: ## Regenerate generated files (test vectors, C header; the bindings' own: see their READMEs)
	python3 tests/vectors/generate.py
	bindings-c/regen-header.sh

.PHONY: bench
bench: ensure-redis ## Benchmarks: core verify vs SHA-256, Redis store vs redis-benchmark (core/benches/), dispatcher (sender/benches/)
	$(CARGO) bench -p anchor-webhooks --bench verify
	$(CARGO) bench -p anchor-webhooks --features redis --bench redis_store
	$(CARGO) bench -p anchor-webhooks-sender --bench dispatch

.PHONY: bench-bindings
bench-bindings: ## Each binding against its language's usual alternative (results in bindings-*/BENCH_RESULTS.md)
	bindings-python/bench.sh
	bindings-node/bench.sh
	bindings-wasm/bench.sh
	bindings-c/bench.sh
	bindings-go/bench.sh

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZ_SECONDS (default 60) each; needs the nightly toolchain
	scripts/fuzz.sh
